// Sample 09: a simulated device from a setup.json held in the program, with one action of the
// program's own; ports pymodbus's examples/server_simulator.py (ModbusSimulatorServer with a
// custom_actions_dict). Run: 09_simulator [PORT] (default 5020, on 127.0.0.1), then read holding
// registers 0..7: a counter, a fixed uint32, a float32 the program's action doubles on every
// read, and a sine wave.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "protocols/simulator/simulator_server.h"
#include "reactor/reactor.h"

namespace {

std::string setup(int port) {
  return R"({
    "server_list": {"server": {"comm": "tcp", "host": "127.0.0.1", "port": )" +
         std::to_string(port) + R"(}},
    "device_list": {"device": {
      "setup": {"co size": 8, "di size": 8, "hr size": 8, "ir size": 8, "type exception": true},
      "write": [0],
      "uint16": [{"addr": 0, "value": 1, "action": "increment", "parameters": {"minval": 1, "maxval": 100}},
                 {"addr": 7, "action": "sine", "parameters": {"period": 10, "amplitude": 100, "offset": 200}}],
      "uint32": [{"addr": [1, 2], "value": 617001}],
      "float32": [{"addr": [3, 4], "value": 1.5, "action": "double"}],
      "int16": [[5, 6]]}}})";
}

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 5020;
  modbus::SimulatorSetupOptions options;
  // The program's action: the float doubles on every read, back to 1.5 past a million.
  options.registerAction("double", [](modbus::simulator::SimulatorStore& store, std::uint32_t first,
                                      const modbus::simulator::ActionParameters&) {
    const long double next = store.number(first) * 2;
    store.setNumber(first, next > 1e6L ? 1.5L : next);
  });
  try {
    reactor::Reactor reactor;
    auto simulator = modbus::SimulatorServer::fromText(reactor, setup(port), "server", "device", options);
    simulator->runForever();  // until Ctrl-C
  } catch (const std::exception& e) {
    std::fprintf(stderr, "09_simulator: %s\n", e.what());
    return 1;
  }
  return 0;
}
