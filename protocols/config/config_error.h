// ConfigError: what every part of the JSON configuration (servers, units, device keys, TLS
// entries) throws for a value it cannot use, its message starting with the value's JSON path.
// Tests: tests/protocols/config/
#pragma once

#include <stdexcept>

namespace modbus {

/// A configuration that cannot be used. what() starts with the JSON path of the offending value
/// and says what is wrong with it, e.g.
/// `units.1.holding_registers.values[3]: 70000 is not a register value (0..65535)`.
/// loadServerConfig() puts the file name in front: `site.json: units.1...`.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace modbus
