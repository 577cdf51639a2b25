// Write observers: the application subscribes to (unit, table, address range) and is called with the
// new values after a client write to it has been applied (pymodbus's most requested server feature).
// Tests: tests/protocols/application/write_observers_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "datastore/device_context.h"
#include "protocols/application/roles.h"

namespace modbus {

/// One observed write: the part of a client write that falls in the subscribed range.
struct WriteEvent {
  std::uint8_t unitId = 0;  ///< the unit the request addressed (each device's own id for a broadcast)
  ModbusTable table = ModbusTable::HoldingRegisters;
  std::uint16_t address = 0;  ///< wire address (0-based) of values[0]
  /// The values now stored, read back after the write (FC 22's result, not its masks). Coils are 0 or 1.
  std::span<const std::uint16_t> values;
};

/// The subscriptions of one RequestProcessor. Reactor thread only. With no subscription, a write
/// costs one emptiness check; an observed write reads the values back into a vector (allocates).
class WriteObservers {
 public:
  using Callback = std::function<void(const WriteEvent& event)>;
  using SubscriptionId = std::uint64_t;

  /// Calls `callback` after every client write (FC 5, 6, 15, 16, 22, 23) to `table` of `unitId`
  /// (nullopt: any unit) that touches `range` (wire addresses, both ends included), once per write,
  /// with the overlapping part only. Only coils and holding registers are written by clients.
  /// A callback may subscribe and unsubscribe; one that throws is logged and the answer is sent as
  /// usual. Returns the id for unsubscribe(). Throws std::invalid_argument for an empty callback or
  /// range.first > range.last.
  SubscriptionId subscribe(std::optional<std::uint8_t> unitId, ModbusTable table, AddressRange range,
                           Callback callback);
  /// Removes a subscription; false when there was none with that id.
  bool unsubscribe(SubscriptionId id);
  std::size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

  /// Called by RequestProcessor after `request` (a write PDU) succeeded on `device` for `unitId`.
  void notifyWrite(std::uint8_t unitId, const DeviceContext& device, std::span<const std::uint8_t> request);

 private:
  struct Subscription {
    SubscriptionId id = 0;
    std::optional<std::uint8_t> unitId;
    ModbusTable table = ModbusTable::HoldingRegisters;
    AddressRange range;
    Callback callback;  // empty once unsubscribed (removed when no notification is running)
  };
  void compact();

  std::vector<Subscription> subscriptions_;
  std::vector<std::uint16_t> values_;
  SubscriptionId nextId_ = 1;
  std::size_t live_ = 0;
  int notifying_ = 0;
};

}  // namespace modbus
