// applyDeviceConfig on an already parsed unit: what parseServerConfig() calls for each unit, with
// the unit's JSON path for the messages. Kept out of the installed device_config.h because it
// takes nlohmann::json, which the package does not provide to its users.
// Tests: tests/protocols/config/device_config_test.cc, server_config_test.cc
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "datastore/device_context.h"

namespace modbus::config {

/// Applies the device keys present in `unit` (the JSON object of one unit; its other keys are
/// left to the caller) to `device`. `path` is the unit's JSON path ("units.1"), put in front of
/// every message. Throws ConfigError as modbus::applyDeviceConfig() does.
void applyDeviceConfig(const nlohmann::json& unit, const std::string& path, DeviceContext& device);

}  // namespace modbus::config
