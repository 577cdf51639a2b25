// One Modbus device's tables; ports pymodbus's ModbusDeviceContext (0-based: no hidden +1).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "datastore/control_block.h"
#include "datastore/data_block.h"
#include "datastore/device_identification.h"
#include "datastore/fifo_queues.h"
#include "datastore/file_records.h"

namespace modbus {

/// The four tables of a device, each optional. Designated initializers read like pymodbus's
/// keywords: `DeviceTables{.coils = co, .holdingRegisters = hr}`.
struct DeviceTables {
  std::shared_ptr<BitBlock> coils = nullptr;
  std::shared_ptr<BitBlock> discreteInputs = nullptr;
  std::shared_ptr<RegisterBlock> holdingRegisters = nullptr;
  std::shared_ptr<RegisterBlock> inputRegisters = nullptr;
};

/// A device: coils, discrete inputs, holding and input registers. A table left out has no
/// addresses: every access to it is IllegalDataAddress (pymodbus 4.0's rule, not 3.x's silent
/// 65536 zeros). Blocks may be shared between devices or tables.
///
/// Addresses are 0-based: wire address N reaches block address N + addressOffset(). The offset is 0
/// by default; a config ported from pymodbus 3.x (which added 1) sets it to 1.
///
/// Only the reactor thread touches a device (no locks); the application updates values through the
/// blocks' typed API from that thread (a LoopingCall, callFromThread).
class DeviceContext {
 public:
  /// A device with no tables (every access is IllegalDataAddress until tables are set).
  DeviceContext() = default;
  explicit DeviceContext(DeviceTables tables, int addressOffset = 0);

  /// The tables, or nullptr when absent. The device keeps ownership.
  BitBlock* coils() const { return tables_.coils.get(); }
  BitBlock* discreteInputs() const { return tables_.discreteInputs.get(); }
  RegisterBlock* holdingRegisters() const { return tables_.holdingRegisters.get(); }
  RegisterBlock* inputRegisters() const { return tables_.inputRegisters.get(); }

  void setCoils(std::shared_ptr<BitBlock> block) { tables_.coils = std::move(block); }
  void setDiscreteInputs(std::shared_ptr<BitBlock> block) { tables_.discreteInputs = std::move(block); }
  void setHoldingRegisters(std::shared_ptr<RegisterBlock> block) { tables_.holdingRegisters = std::move(block); }
  void setInputRegisters(std::shared_ptr<RegisterBlock> block) { tables_.inputRegisters = std::move(block); }

  /// An offline device answers nothing and counts nothing, as if powered off (the simulator's
  /// "offline"; the request processor stays silent and broadcasts skip it). Online by default.
  bool offline() const { return offline_; }
  void setOffline(bool offline) { offline_ = offline; }

  /// wire address + addressOffset() = block address.
  int addressOffset() const { return addressOffset_; }
  void setAddressOffset(int offset) { addressOffset_ = offset; }

  /// The block address of the wire range [wireAddress, wireAddress + count), or nullopt when the
  /// shifted range leaves 0..65535 (the caller answers IllegalDataAddress).
  std::optional<std::uint16_t> blockAddress(std::uint16_t wireAddress, std::uint16_t count) const;

  // Per-device state next to the tables: identification (FC 43/14), the diagnostics control block
  // (FC 7, 8, 11, 12, 17), file records (FC 20/21) and FIFO queues (FC 24). Each device has its own.

  /// The device's identification objects (FC 43 / 14).
  ModbusDeviceIdentification& identity() { return identity_; }
  const ModbusDeviceIdentification& identity() const { return identity_; }
  /// Counters, event log, listen-only mode, ASCII delimiter, exception status, server id.
  ControlBlock& control() { return control_; }
  const ControlBlock& control() const { return control_; }
  /// Files of records (FC 20 / 21).
  FileRecords& files() { return files_; }
  const FileRecords& files() const { return files_; }
  /// FIFO queues (FC 24).
  FifoQueues& fifos() { return fifos_; }
  const FifoQueues& fifos() const { return fifos_; }

 private:
  DeviceTables tables_;
  int addressOffset_ = 0;
  bool offline_ = false;
  ModbusDeviceIdentification identity_;
  ControlBlock control_;
  FileRecords files_;
  FifoQueues fifos_;
};

}  // namespace modbus
