// SimulatorServer: pymodbus's ModbusSimulatorServer without its HTTP half (part 2): one
// "server_list" entry serving one "device_list" entry of a setup.json, on the server classes
// uvmodbus-server uses. The HTTP application and Lua actions come later, behind this class.
// Rules:
// - Construction reads and checks everything (ConfigError naming the JSON path, the file name in
//   front); nothing listens until runForever().
// - runForever(onlyStart = true) starts listening on a reactor the program runs and returns;
//   runForever() also runs the reactor until stop() (or ServerStop(), SIGINT, SIGTERM).
// - stop() closes the servers; it stops the reactor only when runForever() runs it.
// - A "devices" map on the server entry gives each unit id its own copy of its device: values,
//   identity, counters; a device name is loaded (and checked) once, then copied per unit.
// - Run-time changes (setOffline, setFault) act on the next request; reactor thread only.
// - Reactor thread only, like every server.
// Tests: tests/protocols/simulator/simulator_server_test.cc, tests/integration/simulator_test.cc
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "datastore/server_context.h"
#include "protocols/servers/modbus_server.h"
#include "protocols/simulator/simulator_calls.h"
#include "protocols/simulator/simulator_setup.h"
#include "reactor/reactor.h"

namespace modbus {

/// The four Modbus tables, for SimulatorServer::setFault.
enum class SimulatorTable : std::uint8_t { Coils, DiscreteInputs, HoldingRegisters, InputRegisters };

class SimulatorServer {
 public:
  /// Reads `jsonFile` and loads server `modbusServer` with device `modbusDevice`. Throws ConfigError
  /// ("FILE: device_list.device.uint16[2]: …"), also when the file cannot be read.
  SimulatorServer(reactor::Reactor& reactor, const std::string& jsonFile, const std::string& modbusServer = "server",
                  const std::string& modbusDevice = "device", SimulatorSetupOptions options = {});
  /// The same from the text of a setup.json (`label` is put in front of error messages).
  static std::unique_ptr<SimulatorServer> fromText(reactor::Reactor& reactor, std::string_view setupJson,
                                                   const std::string& modbusServer = "server",
                                                   const std::string& modbusDevice = "device",
                                                   SimulatorSetupOptions options = {},
                                                   const std::string& label = "setup");
  ~SimulatorServer();
  SimulatorServer(const SimulatorServer&) = delete;
  SimulatorServer& operator=(const SimulatorServer&) = delete;

  /// Starts listening (throws ConfigError for an endpoint that cannot be used,
  /// reactor::CannotListenError, reactor::SerialPortError). Unless onlyStart, then runs the
  /// reactor until stop() and returns after it.
  void runForever(bool onlyStart = false);
  /// Closes the servers. Idempotent.
  void stop();

  /// The loaded device (its store: values, typed access, custom actions' target). With a "devices"
  /// map: the device of the lowest unit id.
  const SimulatorDevice& device() const { return device_; }
  /// The device answering `unitId` (its own copy with a "devices" map), or nullptr.
  const SimulatorDevice* unitDevice(std::uint8_t unitId) const;
  /// The unit ids with a device, ascending ({0}: one device answers every unit id).
  std::vector<std::uint8_t> unitIds() const { return context_->unitIds(); }

  /// Takes unit `unitId`'s device off line (silent: no answer, nothing counted) or back on line.
  /// Returns false when no device answers that unit id. With one device for every unit id, any
  /// unit id names it.
  bool setOffline(std::uint8_t unitId, bool offline);
  bool offline(std::uint8_t unitId) const;
  /// Makes every access to the register (or to the register holding bit `address`, for the bit
  /// tables: 16 bits share one) answer `fault`; ExceptionCode::None clears it. Returns false when
  /// no device answers `unitId` or the address is past the table.
  bool setFault(std::uint8_t unitId, SimulatorTable table, std::uint16_t address, ExceptionCode fault);
  /// The unit id → device map the servers share.
  const std::shared_ptr<ServerContext>& context() const { return context_; }
  const SimulatorServerEntry& serverEntry() const { return entry_; }
  /// The call monitor, response simulations and counters (the HTTP application's Calls and Server
  /// pages), created on first use and hooked into the servers (TCP, TLS, UDP, serial) started after that (call it
  /// before runForever). Without it the servers carry no response hook at all.
  SimulatorCalls& calls(std::shared_ptr<simulator::RandomSource> random = nullptr);
  bool hasCalls() const { return calls_ != nullptr; }
  /// Closes the Modbus servers and starts them again on the same endpoints (connections are
  /// closed; values, counters and the HTTP side stay). Throws what runForever throws; the servers
  /// are then stopped. A "port": 0 endpoint gets a new port.
  void restart();
  std::size_t restartCount() const { return restarts_; }
  /// The reactor's time when the servers last started (runForever or restart).
  double startedAt() const { return startedAt_; }
  reactor::Reactor& reactor() const { return reactor_; }
  /// The running servers (empty before runForever and after stop).
  const std::vector<std::unique_ptr<ModbusServer>>& servers() const { return servers_; }

 private:
  struct FromText {};
  SimulatorServer(FromText, reactor::Reactor& reactor, std::string_view setupJson, const std::string& modbusServer,
                  const std::string& modbusDevice, SimulatorSetupOptions options, const std::string& label);

  reactor::Reactor& reactor_;
  SimulatorServerEntry entry_;
  SimulatorDevice device_;
  std::map<std::uint8_t, SimulatorDevice> units_;  ///< with a "devices" map: each unit's copy
  std::shared_ptr<ServerContext> context_;
  std::vector<std::unique_ptr<ModbusServer>> servers_;
  std::shared_ptr<SimulatorCalls> calls_;
  bool runsReactor_ = false;
  std::size_t restarts_ = 0;
  double startedAt_ = 0;

  void startServers(bool onlyStart);
};

}  // namespace modbus
