// What the two commands (uvmodbus-server, uvmodbus-simulator) share about starting up: their exit
// codes, and one place that turns what a start-up step throws into a message and an exit code, so
// both commands (and --check) report a problem in the same words.
// Tests: tests/integration/server_command_test.cc, tests/integration/simulator_test.cc
#pragma once

#include <cstdio>
#include <exception>
#include <functional>
#include <string>

#include "protocols/config/config_error.h"
#include "reactor/failure.h"
#include "reactor/serial_port.h"

namespace uvmodbus_command {

// Exit codes (documented in docs/configuration.md and docs/simulator.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitCannotServe = 1;  // e.g. a port that cannot be bound
inline constexpr int kExitBadConfig = 2;    // a bad configuration or command line

/// "PROGRAM: message" on stderr.
inline void printError(const char* program, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program, message.c_str());
}

/// Runs `step` (checking or starting servers). A ConfigError is printed after `configPrefix`
/// ("bad configuration: FILE: ") and gives kExitBadConfig; a port or device that cannot be used, or
/// anything else, gives kExitCannotServe.
inline int startUp(const char* program, const std::string& configPrefix, const std::function<void()>& step) {
  try {
    step();
    return kExitOk;
  } catch (const modbus::ConfigError& e) {
    printError(program, configPrefix + e.what());
    return kExitBadConfig;
  } catch (const reactor::CannotListenError& e) {
    printError(program, e.what());
    return kExitCannotServe;
  } catch (const reactor::SerialPortError& e) {
    printError(program, std::string("SerialPortError: ") + e.what());
    return kExitCannotServe;
  } catch (const std::exception& e) {
    printError(program, std::string("cannot start: ") + e.what());
    return kExitCannotServe;
  }
}

}  // namespace uvmodbus_command
