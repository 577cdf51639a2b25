// Helpers shared by every part of the JSON configuration (server_config.cc for the servers and
// tables, device_config.cc for the per-unit device keys, tls_entry.cc for a tls: entry): the
// bounded parser, JSON paths, type names, "0x…" numbers, and Node, a value with its path, so
// that every message names the offending key. Not installed: the public headers take text.
// Tests: tests/protocols/config/
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocols/config/config_error.h"

namespace modbus::config {

/// "units" + "1" → "units.1"; "" + "servers" → "servers".
std::string joinPath(const std::string& parent, const std::string& key);

/// "an object", "a string", "a fractional number", ... for messages.
std::string describeType(const nlohmann::json& j);

/// "0x1F" (any case, at least one digit) → 31; plain decimal digits too when allowDecimal (object
/// keys). nullopt for anything else, or for a value above INT64_MAX.
std::optional<std::int64_t> parseIntText(std::string_view text, bool allowDecimal);

/// Throws ConfigError("PATH: problem") ("configuration: problem" for the root).
[[noreturn]] void fail(const std::string& path, const std::string& problem);

/// Requires an object whose keys are all in `allowed` (empty: any key); a typo is an error naming the key.
void expectObject(const nlohmann::json& j, const std::string& path, std::initializer_list<const char*> allowed);

/// An integer in [min, max]: a JSON integer or a "0x…" string. `what` completes "is not …".
std::int64_t integer(const nlohmann::json& j, const std::string& path, std::int64_t min, std::int64_t max,
                     const std::string& what);

/// Objects and arrays nest at most this deep in a configuration (a real one needs 5).
inline constexpr std::size_t kMaxJsonDepth = 64;

/// Parses configuration text with nlohmann, and also rejects a key repeated in one object (JSON
/// lets the last one win silently, which would hide a copy-and-paste mistake such as two "1"
/// units) and nesting deeper than kMaxJsonDepth. Throws ConfigError ("invalid JSON: parse error at
/// line 3, column 5: …", or the path of the repeated key or of the 65th level).
nlohmann::json parseJson(std::string_view text);

/// A configuration file may be at most this long (a configuration with 247 units of 65536 values
/// each is about 12 MiB).
inline constexpr std::size_t kMaxConfigFileBytes = 16u << 20;

/// The text of the configuration file at `path`, read with bounds: a regular file of at most
/// kMaxConfigFileBytes. A directory, a FIFO or a device (/dev/zero, /dev/urandom) is refused at
/// once without reading from it (a FIFO is opened without waiting for a writer). Throws
/// ConfigError("PATH: is a directory, not a configuration file", "PATH: cannot read: …", …).
std::string readConfigFile(const std::string& path);

/// A JSON value and its path ("units.1.coils.values[3]"), for messages.
class Node {
 public:
  Node(const nlohmann::json& json, std::string path) : json_(json), path_(std::move(path)) {}

  const nlohmann::json& json() const { return json_; }
  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& problem) const { config::fail(path_, problem); }

  /// Requires an object whose keys are all in `allowed` (a typo is an error naming the key).
  void expectObject(std::initializer_list<const char*> allowed) const { config::expectObject(json_, path_, allowed); }

  bool has(const char* key) const { return json_.contains(key); }
  Node child(const std::string& key) const { return Node(json_.at(key), joinPath(path_, key)); }
  Node element(std::size_t i) const { return Node(json_.at(i), path_ + "[" + std::to_string(i) + "]"); }

  /// An integer in [min, max]: a JSON integer or a "0x…" string. `what` completes "is not …".
  std::int64_t integer(std::int64_t min, std::int64_t max, const std::string& what) const {
    return config::integer(json_, path_, min, max, what);
  }

  /// A number of seconds (integer or fractional), at least 0.
  double seconds() const {
    if (!json_.is_number()) fail("expected a number of seconds, got " + describeType(json_));
    double value = json_.get<double>();
    if (value < 0) fail(json_.dump() + " is not a duration (seconds, 0 or more)");
    return value;
  }

  bool boolean() const {
    if (!json_.is_boolean()) fail("expected true or false, got " + describeType(json_));
    return json_.get<bool>();
  }

  std::string string() const {
    if (!json_.is_string()) fail("expected a string, got " + describeType(json_));
    return json_.get<std::string>();
  }

  /// A coil or discrete input value: 0, 1, true or false.
  bool bit() const {
    if (json_.is_boolean()) return json_.get<bool>();
    std::optional<std::int64_t> value;
    std::string shown = json_.dump();
    if (json_.is_number_unsigned()) {
      value = json_.get<std::uint64_t>() > 1 ? 2 : static_cast<std::int64_t>(json_.get<std::uint64_t>());
    } else if (json_.is_number_integer()) {
      value = json_.get<std::int64_t>();
    } else if (json_.is_string()) {
      shown = json_.get<std::string>();
      value = parseIntText(shown, /*allowDecimal=*/false);
    }
    if (!value || (*value != 0 && *value != 1)) fail(shown + " is not a bit value (0, 1, true or false)");
    return *value == 1;
  }

  std::uint16_t registerValue() const { return static_cast<std::uint16_t>(integer(0, 65535, "a register value")); }

 private:
  const nlohmann::json& json_;
  std::string path_;
};

}  // namespace modbus::config
