// The Redis store's configuration ("store": "redis" is read by detail/store_json.h):
// "redis": {"endpoint": "tcp:HOST:PORT" or "unix:PATH", "prefix": NAME, "password_file": PATH, "timeout": SECONDS}
// (docs/configuration.md, docs/scaling.md).
// Tests: tests/protocols/config/redis_store_config_test.cc
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "protocols/config/config_error.h"
#include "protocols/devices/redis_store.h"

namespace modbus {

namespace config {
class Node;
}

/// The "redis" object, checked.
struct RedisStoreConfig {
  std::string endpoint = "tcp:127.0.0.1:6379";
  std::string prefix = "uvmodbus";
  /// The file the password was read from ("" when none).
  std::string passwordFile;
  RedisStoreOptions options;  ///< host, port or unixPath, prefix, password (read from the file), timeout
};

/// "tcp:HOST:PORT" (or "tcp:host=HOST:port=PORT") → host and port. Throws reactor::EndpointError
/// with the problem (a "unix:" endpoint goes to parseRedisUnixPath instead).
std::pair<std::string, std::uint16_t> parseRedisEndpoint(std::string_view endpoint);
/// "unix:PATH" (or "unix:path=PATH", as clientFromString reads it) → PATH; std::nullopt for
/// another type; reactor::EndpointError for an empty path or a keyword other than path.
std::optional<std::string> parseRedisUnixPath(std::string_view endpoint);

namespace config {
/// The "redis" object at `node` (reads the password file): ConfigError naming the key at fault.
RedisStoreConfig parseRedisStoreConfig(const Node& node);
}  // namespace config

}  // namespace modbus
