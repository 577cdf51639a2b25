// The JSON server configuration: one file gives the datastore and the servers that share it
// (the C++ counterpart of the "server" and "device" sections of pymodbus's setup.json). This
// header parses; protocols/config/server_startup.h starts the servers a configuration gives.
// Tests: tests/protocols/config/server_config_test.cc, server_config_tables_test.cc
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datastore/server_context.h"
#include "protocols/config/config_error.h"
#include "protocols/config/http_entry_config.h"
#include "protocols/config/console_config.h"
#include "protocols/config/redis_store_config.h"
#include "protocols/config/store_config.h"
#include "protocols/servers/server_options.h"
#include "protocols/servers/tls_server_options.h"

namespace modbus {

/// One entry of "servers": where to listen and how to serve.
struct ServerEntry {
  /// An endpoint string: "tcp:5020:interface=127.0.0.1", "tcp6:…", "udp:…", "udp6:…",
  /// "serial:/dev/ttyUSB0:baudrate=19200:parity=E" or "tls:802:cert=…:key=…:ca=…".
  std::string endpoint;
  /// options.framer is the effective framer: RTU by default on a serial line, MBAP elsewhere.
  ServerOptions options;
  /// Set for a "tls:" endpoint only: roles, default role and the framing inside TLS.
  std::optional<TlsServerOptions> tls = std::nullopt;
  /// Where the entry is in the file ("servers[1]"): an "http:" entry before it shifts the index.
  std::string jsonPath = {};
};

/// A unit answered by a downstream Modbus TCP device (a gateway unit): "remote" in place of tables.
struct RemoteUnit {
  /// "tcp:HOST:PORT".
  std::string endpoint;
  /// The unit id downstream; nullopt = the request's own.
  std::optional<std::uint8_t> unitId;
  /// Seconds a request waits for the downstream answer (0x0B after that).
  double timeout = 3.0;
};

/// A parsed configuration: the datastore every server shares, and the servers.
struct ServerConfig {
  std::shared_ptr<ServerContext> context;
  std::vector<ServerEntry> servers;
  /// Gateway units (not in `context`): startServers connects them and serves them on every server.
  std::map<std::uint8_t, RemoteUnit> remotes;
  /// "persistence", when given; required when any unit's store is persistent.
  std::optional<PersistenceSettings> persistence;
  /// The units whose "store" (their own, or the top-level default) is "persistent", in unit order.
  /// Their devices are in `context` with the configured (in-memory) values until a PersistentStore
  /// opens them (uvmodbus-server does before it starts the servers).
  std::vector<PersistentUnit> persistentUnits;
  /// Units whose "store" is "redis" (not in `context`): startServers serves them from Redis, with
  /// these devices as their layout, seed values and per-process state. `redis` is set with them.
  std::map<std::uint8_t, std::shared_ptr<DeviceContext>> redisUnits;
  std::optional<RedisStoreConfig> redis;
  /// The "http:" entry of "servers", when given (protocols/config/http_entry_config.h).
  std::optional<HttpEntry> http;
  /// "console", when given: the debug console (console_config.h), started next to the servers.
  std::optional<ConsoleConfig> console;
};

/// Parses and validates a configuration (the format is documented in docs/configuration.md).
/// Unknown keys, duplicate keys, wrong types and out-of-range values are all errors: throws
/// ConfigError naming the JSON path and the problem.
ServerConfig parseServerConfig(std::string_view json);

/// Reads `path` and parses it as parseServerConfig() does. Throws ConfigError (with the path in
/// front of the message) when the file cannot be read or the configuration is invalid.
ServerConfig loadServerConfig(const std::string& path);

}  // namespace modbus
