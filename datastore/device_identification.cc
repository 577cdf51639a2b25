// One device's identification objects: the named, basic, regular and private objects.
#include "datastore/device_identification.h"

#include <array>
#include <stdexcept>
#include <utility>

namespace modbus {
namespace {

constexpr std::array<const char*, 7> kNames = {"VendorName",  "ProductCode", "MajorMinorRevision", "VendorUrl",
                                               "ProductName", "ModelName",   "UserApplicationName"};

}  // namespace

ModbusDeviceIdentification::ModbusDeviceIdentification() {
  for (std::uint8_t id = 0; id <= kLastBasic; ++id) objects_[id] = "";
}

ModbusDeviceIdentification::ModbusDeviceIdentification(const std::map<std::uint8_t, std::string>& info)
    : ModbusDeviceIdentification() {
  for (const auto& [id, value] : info) set(id, value);
}

std::optional<std::uint8_t> ModbusDeviceIdentification::objectIdOf(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) return static_cast<std::uint8_t>(i);
  }
  return std::nullopt;
}

const char* ModbusDeviceIdentification::objectName(std::uint8_t id) {
  return id < kNames.size() ? kNames[id] : nullptr;
}

void ModbusDeviceIdentification::set(std::uint8_t id, std::string value) {
  if (!isValidObjectId(id)) {
    throw std::invalid_argument("modbus::ModbusDeviceIdentification: object id " + std::to_string(id) +
                                " is reserved (use 0x00..0x06 or 0x80..0xFF)");
  }
  if (value.size() > kMaxObjectLength) {
    throw std::invalid_argument("modbus::ModbusDeviceIdentification: object " + std::to_string(id) + " has " +
                                std::to_string(value.size()) + " bytes, more than " +
                                std::to_string(kMaxObjectLength));
  }
  objects_[id] = std::move(value);
}

void ModbusDeviceIdentification::erase(std::uint8_t id) {
  if (id <= kLastBasic) {
    objects_[id].clear();
  } else {
    objects_.erase(id);
  }
}

const std::string* ModbusDeviceIdentification::find(std::uint8_t id) const {
  auto it = objects_.find(id);
  return it == objects_.end() ? nullptr : &it->second;
}

std::string ModbusDeviceIdentification::get(std::uint8_t id) const {
  const std::string* value = find(id);
  return value == nullptr ? std::string() : *value;
}

std::optional<std::uint8_t> ModbusDeviceIdentification::nextObject(unsigned from, std::uint8_t last) const {
  if (from > last) return std::nullopt;
  auto it = objects_.lower_bound(static_cast<std::uint8_t>(from));
  if (it == objects_.end() || it->first > last) return std::nullopt;
  return it->first;
}

std::uint8_t ModbusDeviceIdentification::conformityLevel() const {
  if (nextObject(kFirstPrivate, 0xFF)) return 0x83;
  if (nextObject(kLastBasic + 1u, kLastRegular)) return 0x82;
  return 0x81;
}

}  // namespace modbus
