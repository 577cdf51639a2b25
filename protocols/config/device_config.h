// The per-unit device keys of the JSON configuration ("identity", "server_id", "exception_status",
// "files", "fifos"), applied to a DeviceContext; the C++ counterpart of pymodbus's identity= and
// of the file/FIFO stores pymodbus lacks. Free of nlohmann, which the package does not provide.
// Tests: tests/protocols/config/device_config_test.cc
#pragma once

#include <array>
#include <string_view>

#include "datastore/device_context.h"
#include "protocols/config/config_error.h"

namespace modbus {

/// The keys of a unit that applyDeviceConfig() reads (docs/configuration.md documents them):
/// `"identity": {"VendorName": "…", …, "0x80": "…"}`,
/// `"server_id": {"id": 42, "run_indicator": true, "data": "text or [bytes]"}`,
/// `"exception_status": 0`, `"files": {"1": {"records": [1, 2]}, "2": {"count": 20, "fill": 0}}`,
/// `"fifos": {"1246": [440, 4740]}`. Numbers may be written as "0x…" strings, and so may the
/// numeric object keys (file numbers, FIFO addresses, private identity objects).
inline constexpr std::array<const char*, 5> kDeviceConfigKeys = {"identity", "server_id", "exception_status", "files",
                                                                  "fifos"};

/// Applies the device keys present in `unitJson` (the JSON text of one unit: an object with any of
/// the keys above; its other keys are ignored) to `device`. Throws ConfigError naming the key for
/// invalid JSON, a wrong type, an unknown key inside these objects, or a value out of range (a
/// reserved identity object, a record number past 9999, ...). The configuration's parser applies
/// the same keys to a parsed unit through detail/device_config_json.h.
void applyDeviceConfig(std::string_view unitJson, DeviceContext& device);

}  // namespace modbus
