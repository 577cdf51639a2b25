// Helpers shared by the two halves of the JSON configuration (server_config.cc for the servers and
// tables, device_config.cc for the per-unit device keys): JSON paths, type names and "0x…" numbers
// for the messages that name the offending key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace modbus::config {

/// "units" + "1" → "units.1"; "" + "servers" → "servers".
std::string joinPath(const std::string& parent, const std::string& key);

/// "an object", "a string", "a fractional number", ... for messages.
std::string describeType(const nlohmann::json& j);

/// "0x1F" (any case, at least one digit) → 31; plain decimal digits too when allowDecimal (object
/// keys). nullopt for anything else, or for a value above INT64_MAX.
std::optional<std::int64_t> parseIntText(std::string_view text, bool allowDecimal);

}  // namespace modbus::config
