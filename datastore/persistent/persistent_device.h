// Turning a configured DeviceContext into a persistent one: its tables and files of records move
// into a StateFile, seeded from the configured values on the first start and restored from the
// file on later ones. The device keeps its identity, control block and FIFO queues in memory (they
// are configuration and counters, not written data). Tests: tests/datastore/persistent_device_test.cc
#pragma once

#include <memory>
#include <string>

#include "datastore/device_context.h"
#include "datastore/persistent/state_file.h"

namespace modbus {

/// The layout a persistent store keeps for `device`: coils, discrete inputs, holding and input
/// registers (those present, each a SequentialDataBlock or an already persistent block), then every
/// file of records, ascending. Throws std::invalid_argument naming the table ("holding_registers")
/// for a table the store cannot keep (a sparse one: its addresses are not one range).
StateLayout persistentLayout(const DeviceContext& device);

/// Moves the tables and files of `device` into the state file at `path` (StateFile's rules: created
/// and seeded from the device's current values when absent or when `reset`, else restored and
/// checked against persistentLayout(device)), and points the device at it: from then on every
/// write lands in the file. Returns the file (the device keeps it open too); its created() tells
/// a first start from a restore. Throws StateFileError, or std::invalid_argument as
/// persistentLayout() does; the device is unchanged then.
std::shared_ptr<StateFile> makeDevicePersistent(DeviceContext& device, const std::string& path, SyncPolicy sync,
                                                bool reset = false);

}  // namespace modbus
