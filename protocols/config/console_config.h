// The debug console's configuration: "console": {"endpoint": "tcp:9020:interface=127.0.0.1",
// "token_file": "/etc/uvmodbus/console.token"} at the top level of uvmodbus-server's JSON
// (docs/configuration.md, docs/console.md). The endpoint must be loopback or unix:; the token file
// is read (and its mode checked) here, so `--check` reports both.
// Tests: tests/protocols/config/console_config_test.cc
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/config/config_error.h"

namespace reactor {
class Reactor;
}

namespace modbus {

namespace config {
class Node;
}
struct ServerConfig;
class ModbusServer;
class ConsoleServer;

/// The "console" object, checked, with its token read.
struct ConsoleConfig {
  std::string endpoint;
  std::string tokenFile;
  std::string token;
};

namespace config {
/// The "console" object at `node`: ConfigError naming "console.endpoint" or "console.token_file".
ConsoleConfig parseConsoleConfig(const Node& node);
}  // namespace config

/// uvmodbus-server's console: listening on config.console's endpoint with its token, on `servers`
/// (which must outlive it; destroy the console first) and config.context. Logs where it listens.
/// Throws reactor::CannotListenError when the endpoint cannot be bound.
std::unique_ptr<ConsoleServer> startConfiguredConsole(reactor::Reactor& reactor, const ServerConfig& config,
                                                      const std::vector<std::unique_ptr<ModbusServer>>& servers);

}  // namespace modbus
