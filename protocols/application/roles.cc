// Role-based authorization of Modbus/TCP Security: the role table, its JSON form, and the check of
// one request (function code, unit, address spans) without allocating.
#include "protocols/application/roles.h"

#include <nlohmann/json.hpp>

#include "protocols/application/pdu.h"

namespace modbus {
namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw RoleConfigError(path + ": " + problem);
}

/// An integer in [min, max], written as a JSON number or a "0x…" string.
long integerAt(const Json& j, const std::string& path, long min, long max, const char* what) {
  long value = 0;
  if (j.is_number_integer()) {
    value = j.get<long>();
  } else if (j.is_string() && j.get<std::string>().rfind("0x", 0) == 0 && j.get<std::string>().size() > 2) {
    const std::string text = j.get<std::string>();
    std::size_t used = 0;
    try {
      value = std::stol(text.substr(2), &used, 16);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() - 2) fail(path, "'" + text + "' is not a number");
  } else {
    fail(path, j.dump() + " is not " + what + " (" + std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  if (value < min || value > max) {
    fail(path, j.dump() + " is not " + what + " (" + std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return value;
}

std::optional<ModbusTable> tableFromName(std::string_view name) {
  for (ModbusTable t : {ModbusTable::Coils, ModbusTable::DiscreteInputs, ModbusTable::HoldingRegisters,
                        ModbusTable::InputRegisters}) {
    if (modbusTableName(t) == name) return t;
  }
  return std::nullopt;
}

RolePermissions parseRole(const Json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "a role is an object like {\"functions\": [1, 2, 3, 4]}");
  RolePermissions p;
  for (const auto& [key, value] : j.items()) {
    const std::string at = path + "." + key;
    if (key == "functions") {
      if (value.is_string() && value.get<std::string>() == "all") {
        for (std::size_t fc = 1; fc < 128; ++fc) p.functions.set(fc);
        continue;
      }
      if (!value.is_array()) fail(at, "a list of function codes, or \"all\"");
      for (std::size_t i = 0; i < value.size(); ++i) {
        p.functions.set(static_cast<std::size_t>(
            integerAt(value[i], at + "[" + std::to_string(i) + "]", 1, 127, "a function code")));
      }
    } else if (key == "units") {
      if (!value.is_array()) fail(at, "a list of unit ids");
      for (std::size_t i = 0; i < value.size(); ++i) {
        p.units.insert(static_cast<std::uint8_t>(integerAt(value[i], at + "[" + std::to_string(i) + "]", 0, 255, "a unit id")));
      }
    } else if (key == "ranges") {
      if (!value.is_object()) fail(at, "an object of table name → list of [first, last] ranges");
      for (const auto& [tableName, list] : value.items()) {
        const std::string tat = at + "." + tableName;
        auto table = tableFromName(tableName);
        if (!table) fail(tat, "unknown table (coils, discrete_inputs, holding_registers, input_registers)");
        if (!list.is_array()) fail(tat, "a list of [first, last] ranges");
        auto& ranges = p.ranges[*table];
        for (std::size_t i = 0; i < list.size(); ++i) {
          const std::string rat = tat + "[" + std::to_string(i) + "]";
          if (!list[i].is_array() || list[i].size() != 2) fail(rat, "a range is [first, last]");
          AddressRange r;
          r.first = static_cast<std::uint16_t>(integerAt(list[i][0], rat + "[0]", 0, 65535, "an address"));
          r.last = static_cast<std::uint16_t>(integerAt(list[i][1], rat + "[1]", 0, 65535, "an address"));
          if (r.last < r.first) fail(rat, "last is below first");
          ranges.push_back(r);
        }
      }
    } else {
      fail(at, "unknown key (functions, units, ranges)");
    }
  }
  if (!j.contains("functions")) fail(path, "a role needs \"functions\"");
  return p;
}

bool withinRanges(const std::vector<AddressRange>& ranges, std::uint32_t first, std::uint32_t last) {
  for (const auto& r : ranges) {
    if (first >= r.first && last <= r.last) return true;
  }
  return false;
}

}  // namespace

std::string_view modbusTableName(ModbusTable table) noexcept {
  switch (table) {
    case ModbusTable::Coils: return "coils";
    case ModbusTable::DiscreteInputs: return "discrete_inputs";
    case ModbusTable::HoldingRegisters: return "holding_registers";
    case ModbusTable::InputRegisters: return "input_registers";
  }
  return "coils";
}

RolePermissions& RolePermissions::allow(std::initializer_list<std::uint8_t> functionCodes) {
  for (std::uint8_t fc : functionCodes) {
    if (fc >= 1 && fc < 128) functions.set(fc);
  }
  return *this;
}

std::string_view denialText(Denial denial) noexcept {
  switch (denial) {
    case Denial::Allowed: return "allowed";
    case Denial::NoRole: return "no role (the certificate has none and there is no default role)";
    case Denial::UnknownRole: return "the role is not configured";
    case Denial::Function: return "function code not allowed for the role";
    case Denial::Unit: return "unit id not allowed for the role";
    case Denial::Address: return "address outside the role's ranges";
  }
  return "denied";
}

void RoleTable::addRole(std::string name, RolePermissions permissions) { roles_[std::move(name)] = std::move(permissions); }

const RolePermissions* RoleTable::find(std::string_view name) const {
  auto it = roles_.find(name);
  return it == roles_.end() ? nullptr : &it->second;
}

RoleGrant RoleTable::grant(const std::optional<std::string>& certificateRole) const {
  RoleGrant g;
  g.name = certificateRole ? certificateRole : defaultRole_;
  if (!g.name) {
    g.refusal = Denial::NoRole;
    return g;
  }
  g.permissions = find(*g.name);
  g.refusal = g.permissions ? Denial::Allowed : Denial::UnknownRole;
  return g;
}

Denial RoleTable::authorize(const RoleGrant& grant, std::uint8_t unitId, std::span<const std::uint8_t> pdu) {
  if (pdu.empty()) return Denial::Allowed;
  if (grant.permissions == nullptr) return grant.refusal == Denial::Allowed ? Denial::NoRole : grant.refusal;
  const RolePermissions& p = *grant.permissions;
  const std::uint8_t fc = pdu[0];
  if (fc == 0 || fc >= 128 || !p.functions.test(fc)) return Denial::Function;
  if (!p.units.empty() && p.units.count(unitId) == 0) return Denial::Unit;
  if (!p.ranges.empty()) {
    AddressSpans spans = requestAddressSpans(pdu);
    for (std::size_t i = 0; i < spans.count; ++i) {
      auto it = p.ranges.find(spans.spans[i].table);
      if (it != p.ranges.end() && !withinRanges(it->second, spans.spans[i].first, spans.spans[i].last)) {
        return Denial::Address;
      }
    }
  }
  return Denial::Allowed;
}

Denial RoleTable::authorize(const std::optional<std::string>& certificateRole, std::uint8_t unitId,
                            std::span<const std::uint8_t> pdu) const {
  return authorize(grant(certificateRole), unitId, pdu);
}

AddressSpans requestAddressSpans(std::span<const std::uint8_t> pdu) noexcept {
  AddressSpans out;
  if (pdu.size() < 5) return out;  // function code, address, quantity/value
  const std::uint32_t address = readU16BE(pdu.data() + 1);
  const std::uint32_t word = readU16BE(pdu.data() + 3);
  // A quantity of 0 still names its first address (the processor refuses it with 03).
  auto span = [&](ModbusTable table, std::uint32_t first, std::uint32_t count) {
    out.spans[out.count++] = AddressSpan{table, first, first + (count == 0 ? 0 : count - 1)};
  };
  switch (pdu[0]) {
    case pdu::kReadCoils: span(ModbusTable::Coils, address, word); break;
    case pdu::kReadDiscreteInputs: span(ModbusTable::DiscreteInputs, address, word); break;
    case pdu::kReadHoldingRegisters: span(ModbusTable::HoldingRegisters, address, word); break;
    case pdu::kReadInputRegisters: span(ModbusTable::InputRegisters, address, word); break;
    case pdu::kWriteSingleCoil: span(ModbusTable::Coils, address, 1); break;
    case pdu::kWriteSingleRegister: span(ModbusTable::HoldingRegisters, address, 1); break;
    case pdu::kWriteMultipleCoils: span(ModbusTable::Coils, address, word); break;
    case pdu::kWriteMultipleRegisters: span(ModbusTable::HoldingRegisters, address, word); break;
    case pdu::kMaskWriteRegister: span(ModbusTable::HoldingRegisters, address, 1); break;
    case pdu::kReadWriteMultipleRegisters:
      span(ModbusTable::HoldingRegisters, address, word);
      if (pdu.size() >= 9) span(ModbusTable::HoldingRegisters, readU16BE(pdu.data() + 5), readU16BE(pdu.data() + 7));
      break;
    default: break;
  }
  return out;
}

RoleTable parseRoleTable(std::string_view rolesJson, std::optional<std::string> defaultRole) {
  Json j;
  try {
    j = Json::parse(rolesJson);
  } catch (const Json::parse_error& e) {
    fail("roles", std::string("not valid JSON: ") + e.what());
  }
  RoleTable table;
  if (!j.is_object()) fail("roles", "an object of role name → permissions");
  for (const auto& [name, value] : j.items()) {
    if (name.empty()) fail("roles", "a role name must not be empty");
    table.addRole(name, parseRole(value, "roles." + name));
  }
  if (defaultRole && table.find(*defaultRole) == nullptr) {
    fail("default_role", "\"" + *defaultRole + "\" is not one of the roles");
  }
  table.setDefaultRole(std::move(defaultRole));
  return table;
}

}  // namespace modbus
