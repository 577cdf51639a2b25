// The per-unit device keys of the JSON configuration, checked and applied to a DeviceContext.
#include "protocols/config/device_config.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocols/config/detail/config_json.h"
#include "protocols/config/detail/device_config_json.h"

namespace modbus {
namespace {

using Json = nlohmann::json;

using config::expectObject;
using config::fail;
using config::integer;

/// An object key that is a number ("12" or "0x0C") in [min, max].
std::int64_t numericKey(const std::string& key, const std::string& path, std::int64_t min, std::int64_t max,
                        const std::string& what) {
  auto value = config::parseIntText(key, /*allowDecimal=*/true);
  if (!value || *value < min || *value > max) {
    fail(path, "\"" + key + "\" is not " + what + " (" + std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return *value;
}

/// A string as its bytes, or an array of bytes (0..255, "0x…" allowed).
std::vector<std::uint8_t> bytes(const Json& j, const std::string& path) {
  std::vector<std::uint8_t> out;
  if (j.is_string()) {
    const std::string text = j.get<std::string>();
    out.assign(text.begin(), text.end());
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      out.push_back(static_cast<std::uint8_t>(
          integer(j[i], path + "[" + std::to_string(i) + "]", 0, 255, "a byte")));
    }
  } else {
    fail(path, "expected a string or an array of bytes, got " + config::describeType(j));
  }
  return out;
}

std::vector<std::uint16_t> registers(const Json& j, const std::string& path) {
  if (!j.is_array()) fail(path, "expected an array of register values, got " + config::describeType(j));
  std::vector<std::uint16_t> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    out.push_back(static_cast<std::uint16_t>(
        integer(j[i], path + "[" + std::to_string(i) + "]", 0, 65535, "a register value")));
  }
  return out;
}

void applyIdentity(const Json& j, const std::string& path, ModbusDeviceIdentification& identity) {
  expectObject(j, path, {});
  for (const auto& [key, value] : j.items()) {
    const std::string at = config::joinPath(path, key);
    std::optional<std::uint8_t> id = ModbusDeviceIdentification::objectIdOf(key);
    if (!id) {
      auto number = config::parseIntText(key, /*allowDecimal=*/true);
      if (!number || *number > 0xFF) {
        fail(at, "unknown identity object (use VendorName, ProductCode, MajorMinorRevision, VendorUrl, "
                 "ProductName, ModelName, UserApplicationName, or a private object \"0x80\"..\"0xFF\")");
      }
      id = static_cast<std::uint8_t>(*number);
      if (!ModbusDeviceIdentification::isValidObjectId(*id)) {
        fail(at, "object " + key + " is reserved (use 0x00..0x06 or 0x80..0xFF)");
      }
    }
    if (!value.is_string()) fail(at, "expected a string, got " + config::describeType(value));
    std::string text = value.get<std::string>();
    if (text.size() > ModbusDeviceIdentification::kMaxObjectLength) {
      fail(at, "has " + std::to_string(text.size()) + " bytes, more than " +
                   std::to_string(ModbusDeviceIdentification::kMaxObjectLength));
    }
    identity.set(*id, std::move(text));
  }
}

void applyServerId(const Json& j, const std::string& path, ControlBlock& control) {
  expectObject(j, path, {"id", "run_indicator", "data"});
  std::vector<std::uint8_t> id = control.serverId();
  std::vector<std::uint8_t> data = control.additionalData();
  if (j.contains("id")) {
    const Json& v = j["id"];
    const std::string at = config::joinPath(path, "id");
    id = v.is_array() ? bytes(v, at) : std::vector<std::uint8_t>{static_cast<std::uint8_t>(integer(v, at, 0, 255, "a server id byte"))};
  }
  if (j.contains("run_indicator")) {
    if (!j["run_indicator"].is_boolean()) {
      fail(config::joinPath(path, "run_indicator"), "expected true or false, got " + config::describeType(j["run_indicator"]));
    }
    control.setRunIndicator(j["run_indicator"].get<bool>());
  }
  if (j.contains("data")) data = bytes(j["data"], config::joinPath(path, "data"));
  if (id.size() + 1 + data.size() > ControlBlock::kMaxServerIdLength) {
    fail(path, "id, run indicator and data take " + std::to_string(id.size() + 1 + data.size()) +
                   " bytes, more than " + std::to_string(ControlBlock::kMaxServerIdLength));
  }
  control.setAdditionalData({});
  control.setServerId(std::move(id));
  control.setAdditionalData(std::move(data));
}

void applyFiles(const Json& j, const std::string& path, FileRecords& files) {
  expectObject(j, path, {});
  for (const auto& [key, value] : j.items()) {
    const std::string at = config::joinPath(path, key);
    const auto number = static_cast<std::uint16_t>(numericKey(key, at, 1, 65535, "a file number"));
    expectObject(value, at, {"records", "count", "fill"});
    std::vector<std::uint16_t> records;
    if (value.contains("records")) records = registers(value["records"], config::joinPath(at, "records"));
    const auto maxRecords = static_cast<std::int64_t>(FileRecords::kMaxRecords);
    std::int64_t count = static_cast<std::int64_t>(records.size());
    if (value.contains("count")) {
      count = integer(value["count"], config::joinPath(at, "count"), 0, maxRecords, "a record count");
      if (static_cast<std::int64_t>(records.size()) > count) {
        fail(config::joinPath(at, "records"), "has " + std::to_string(records.size()) + " records, more than count (" +
                                      std::to_string(count) + ")");
      }
    } else if (!value.contains("records")) {
      fail(at, "needs \"records\" or \"count\"");
    }
    if (count > maxRecords) {
      fail(config::joinPath(at, "records"), "has " + std::to_string(count) + " records, more than " + std::to_string(maxRecords) +
                                    " (record numbers are 0..9999)");
    }
    const std::uint16_t fill = value.contains("fill")
                                   ? static_cast<std::uint16_t>(integer(value["fill"], config::joinPath(at, "fill"), 0, 65535,
                                                                        "a register value"))
                                   : 0;
    records.resize(static_cast<std::size_t>(count), fill);
    files.addFile(number, std::move(records));
  }
}

void applyFifos(const Json& j, const std::string& path, FifoQueues& fifos) {
  expectObject(j, path, {});
  for (const auto& [key, value] : j.items()) {
    const std::string at = config::joinPath(path, key);
    const auto address = static_cast<std::uint16_t>(numericKey(key, at, 0, 65535, "a FIFO pointer address"));
    fifos.addQueue(address, registers(value, at));
  }
}

}  // namespace

}  // namespace modbus

namespace modbus::config {

void applyDeviceConfig(const Json& unit, const std::string& path, DeviceContext& device) {
  if (!unit.is_object()) fail(path, "expected an object, got " + config::describeType(unit));
  if (unit.contains("identity")) applyIdentity(unit["identity"], config::joinPath(path, "identity"), device.identity());
  if (unit.contains("server_id")) applyServerId(unit["server_id"], config::joinPath(path, "server_id"), device.control());
  if (unit.contains("exception_status")) {
    device.control().setExceptionStatus(static_cast<std::uint8_t>(
        integer(unit["exception_status"], config::joinPath(path, "exception_status"), 0, 255, "eight status outputs")));
  }
  if (unit.contains("files")) applyFiles(unit["files"], config::joinPath(path, "files"), device.files());
  if (unit.contains("fifos")) applyFifos(unit["fifos"], config::joinPath(path, "fifos"), device.fifos());
}

}  // namespace modbus::config

namespace modbus {

void applyDeviceConfig(std::string_view unitJson, DeviceContext& device) {
  config::applyDeviceConfig(config::parseJson(unitJson), "", device);
}

}  // namespace modbus
