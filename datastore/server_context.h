// The unit id → device map of a server; ports pymodbus's ModbusServerContext.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "datastore/device_context.h"

namespace modbus {

/// Which device answers which unit id: either one device for every unit id (`single`), or a map
/// unit id → device (`multiple`). A unit id missing from the map has no device (no pymodbus-style
/// fallback to unit 0): the request processor answers 0x0B or stays silent.
/// Reactor thread only; no locks.
class ServerContext {
 public:
  /// An empty map: no unit answers until add() is called.
  ServerContext() = default;

  /// One device answers every unit id (pymodbus `single=True`). Throws std::invalid_argument for a
  /// null device.
  static std::shared_ptr<ServerContext> single(std::shared_ptr<DeviceContext> device);
  /// Each unit id in `devices` answers with its device (pymodbus `single=False`). Throws
  /// std::invalid_argument for a null device.
  static std::shared_ptr<ServerContext> multiple(std::map<std::uint8_t, std::shared_ptr<DeviceContext>> devices);

  /// The device for `unitId`, or nullptr when no device answers it.
  DeviceContext* find(std::uint8_t unitId) const;
  /// The unit ids with a device, ascending. A single context reports {0}, as pymodbus does: one
  /// device, visited once when a broadcast walks the list.
  std::vector<std::uint8_t> unitIds() const;
  /// The unit id of a multiple context that holds exactly one device, else nothing (also for a
  /// single context). Allocates nothing: asked once per connection.
  std::optional<std::uint8_t> soleUnitId() const;
  /// Adds or replaces the device of `unitId`. Throws std::logic_error on a single context, and
  /// std::invalid_argument for a null device.
  void add(std::uint8_t unitId, std::shared_ptr<DeviceContext> device);
  /// Removes the device of `unitId` (no-op when absent). Throws std::logic_error on a single context.
  void remove(std::uint8_t unitId);
  /// True for a context built by single().
  bool isSingle() const { return single_ != nullptr; }

 private:
  std::shared_ptr<DeviceContext> single_;
  std::map<std::uint8_t, std::shared_ptr<DeviceContext>> devices_;
};

}  // namespace modbus
