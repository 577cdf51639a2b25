// Parsing the "http:" entry of a server configuration (the struct is protocols/config/http_entry_config.h).
// Not installed: it takes the JSON of the configuration parser (config_json.h).
// Tests: tests/protocols/config/http_entry_config_test.cc
#pragma once

#include <nlohmann/json.hpp>

#include "protocols/config/detail/config_json.h"
#include "protocols/config/http_entry_config.h"

namespace modbus::config {

/// True when `server` is an object whose "endpoint" is a string starting with "http:".
bool isHttpEntry(const nlohmann::json& server);

/// Parses and checks an "http:" entry (reading its token file). Throws ConfigError naming the path.
HttpEntry parseHttpEntry(const Node& server);

}  // namespace modbus::config
