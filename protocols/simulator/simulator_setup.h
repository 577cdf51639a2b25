// pymodbus's simulator setup.json, read: one "device_list" entry becomes a SimulatorStore with its
// layout (loadSimulatorDevice), one "server_list" entry becomes a ServerEntry for the server
// classes uvmodbus-server uses (parseSimulatorServer). docs/simulator.md documents every key.
// Rules:
// - Every error is a ConfigError whose message starts with the JSON path of the offending value
//   and says what is wrong (`device_list.device.uint32[1].addr: [22, 24] is not a whole number of
//   2-register values`): unknown keys, repeated keys, overlapping definitions, "write" on an
//   undefined cell, values outside their type, strings longer than their registers, cells past
//   the block size, unknown actions.
// - Legal but suspicious input loads with a warning (returned, for the caller to log): one entry
//   defining more than kLargeEntryRegisters registers, as pymodbus's own default file does.
// - The public header takes text: nlohmann stays inside the library.
// Tests: tests/protocols/simulator/simulator_setup_test.cc, simulator_setup_errors_test.cc,
//        simulator_pymodbus_files_test.cc, simulator_server_entry_test.cc
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/simulator/simulator_blocks.h"
#include "datastore/simulator/simulator_store.h"
#include "protocols/config/config_error.h"
#include "protocols/config/server_config.h"

namespace modbus {

/// An entry defining more registers than this gets a warning.
inline constexpr std::uint32_t kLargeEntryRegisters = 10000;

/// What a device needs from the program: its time, its chance, and the program's actions by name
/// (used by "action": "name" where the name is not built in).
struct SimulatorSetupOptions {
  std::shared_ptr<simulator::SimulatorClock> clock = nullptr;  ///< nullptr: the system clocks
  std::shared_ptr<simulator::RandomSource> random = nullptr;   ///< nullptr: a seeded mt19937_64
  /// The program's actions by name (registerAction() checks the names; direct inserts are not).
  std::map<std::string, simulator::CustomAction> customActions{};

  /// Makes `"action": "name"` run `action` (pymodbus's custom_actions_dict entry). Returns *this
  /// for chaining. Throws std::invalid_argument for an empty name or function, a built-in action's
  /// name ("increment", …) or a name registered already.
  SimulatorSetupOptions& registerAction(const std::string& name, simulator::CustomAction action);
};

/// One loaded "device_list" entry.
struct SimulatorDevice {
  simulator::SimulatorLayout layout;
  std::shared_ptr<simulator::SimulatorStore> store;
  /// Suspicious but legal things found while loading, each naming its JSON path.
  std::vector<std::string> warnings;
  /// "offline": true in "setup": the device starts silent (SimulatorServer::setOffline).
  bool offline = false;

  /// The device's four tables over the store.
  DeviceTables tables() const { return simulator::simulatorTables(store, layout); }
  /// A new DeviceContext over the store's tables (several contexts may share one store).
  std::shared_ptr<DeviceContext> makeContext() const { return std::make_shared<DeviceContext>(tables()); }
};

/// Loads device `deviceName` of `setupJson`'s "device_list". Throws ConfigError (JSON path first).
SimulatorDevice loadSimulatorDevice(std::string_view setupJson, const std::string& deviceName,
                                    const SimulatorSetupOptions& options = {});

/// One entry of a server's "devices" map: unit ids [first, last] serve copies of device `device`.
struct SimulatorUnitRange {
  std::uint8_t first = 1;
  std::uint8_t last = 1;
  std::string device{};        ///< a "device_list" name
  std::string identityJson{};  ///< {"identity": {...}} given for these units only, or empty
  std::optional<bool> offline{};  ///< "offline" given for these units (else the device's setup decides)
  std::string path{};          ///< "server_list.NAME.devices.3-40"
};

/// One "server_list" entry, mapped onto the server classes.
struct SimulatorServerEntry {
  /// The endpoint string ("tcp:5020:interface=0.0.0.0", "serial:/dev/ttyUSB0:baudrate=9600:…",
  /// "tls:5802:interface=…:cert=…:key=…") and the options (framer, ignore_missing_devices,
  /// broadcast_enable), as uvmodbus-server's configuration would give them.
  ServerEntry entry;
  /// "device_id": only this unit id answers; nullopt: the device answers every unit id.
  std::optional<std::uint8_t> deviceId;
  /// Applies the entry's "identity" (FC 43 objects) to a device. Never throws: the names were
  /// checked by parseSimulatorServer().
  void applyIdentity(DeviceContext& device) const;

  std::string identityJson{};  ///< {"identity": {...}} or empty
  std::string path{};          ///< "server_list.NAME"
  /// The "devices" map, ascending and not overlapping (units 1-247); empty without one. With a
  /// map, each unit id gets its own copy of its device (values, identity, counters) and no other
  /// unit id answers; "device_id" and the program's device name are not used.
  std::vector<SimulatorUnitRange> units{};
};

/// Reads server `serverName` of `setupJson`'s "server_list". Throws ConfigError.
SimulatorServerEntry parseSimulatorServer(std::string_view setupJson, const std::string& serverName);

}  // namespace modbus
