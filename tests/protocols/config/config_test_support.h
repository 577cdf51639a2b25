// Configuration texts and error capture shared by the tests of protocols/config/.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "protocols/config/server_config.h"

namespace modbus::testing {

inline constexpr const char* kServers = R"("servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}])";

/// A configuration with one server and `units` as the "units" value.
inline std::string withUnits(const std::string& units, const std::string& extra = "") {
  return std::string("{") + kServers + (extra.empty() ? "" : ", " + extra) + R"(, "units": )" + units + "}";
}

/// A configuration whose only server entry is `server`.
inline std::string withServer(const std::string& server) {
  return R"({"servers": [)" + server + R"(], "units": {"1": {"coils": {"count": 1}}}})";
}

/// The ConfigError message of parsing `json`, or "no error".
inline std::string errorOf(const std::string& json) {
  try {
    modbus::parseServerConfig(json);
  } catch (const modbus::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

inline modbus::DeviceContext& unit(const modbus::ServerConfig& c, std::uint8_t id) {
  auto* device = c.context->find(id);
  REQUIRE(device != nullptr);
  return *device;
}

}  // namespace modbus::testing
