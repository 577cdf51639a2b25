// /api/v1 registers: typed get and set by table and address (see simulator_api_v1.h's rules).
// Register tables address cells (one per register); bit tables address bits, 16 to a cell.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "protocols/simulator/detail/simulator_api_v1_detail.h"
#include "protocols/simulator/detail/simulator_api_v1_tables.h"
#include "protocols/simulator/simulator_server.h"

namespace modbus::api_v1 {

using simulator::CellType;
using simulator::SimulatorStore;

Table tableParam(const http::Request& request, const SimulatorDevice& device) {
  const std::string_view name = request.param("table");
  const simulator::SimulatorLayout& l = device.layout;
  Table t;
  t.name = std::string(name);
  if (name == "coils") {
    t.which = SimulatorTable::Coils, t.bits = true, t.offset = l.coilsOffset(), t.cells = l.coilsSize();
  } else if (name == "discrete_inputs") {
    t.which = SimulatorTable::DiscreteInputs, t.bits = true, t.offset = l.discreteInputsOffset(), t.cells = l.discreteInputsSize();
  } else if (name == "holding_registers") {
    t.which = SimulatorTable::HoldingRegisters, t.offset = l.holdingRegistersOffset(), t.cells = l.holdingRegistersSize();
  } else if (name == "input_registers") {
    t.which = SimulatorTable::InputRegisters, t.offset = l.inputRegistersOffset(), t.cells = l.inputRegistersSize();
  } else {
    throw ApiError(404, "table: \"" + t.name + "\" is not coils, discrete_inputs, holding_registers or input_registers");
  }
  return t;
}

std::uint32_t addressParam(const http::Request& request, const Table& table) {
  const auto address = static_cast<std::uint32_t>(wholeNumber(std::string(request.param("address")), 0, 65535, "address"));
  if (address >= table.size()) {
    throw ApiError(404, "address " + std::to_string(address) + " is past the " + std::to_string(table.size()) + " " +
                            (table.bits ? "bits" : "registers") + " of " + table.name);
  }
  return address;
}

Json faultJson(ExceptionCode fault) {
  if (fault == ExceptionCode::None) return nullptr;
  return Json{{"exception_code", static_cast<int>(fault)}, {"exception", exceptionCodeName(fault)}};
}

std::uint32_t firstCellOf(const SimulatorStore& store, std::uint32_t index) {
  while (index > 0 && store.cell(index).type != CellType::Invalid && !store.cell(index).first &&
         store.cell(index - 1).type == store.cell(index).type)
    --index;
  return index;
}

std::uint32_t widthAt(const SimulatorStore& store, std::uint32_t first) {
  const CellType type = store.cell(first).type;
  if (type != CellType::String) return simulator::registerWidth(type);
  std::uint32_t n = 1;
  while (first + n < store.size() && store.cell(first + n).type == CellType::String && !store.cell(first + n).first) ++n;
  return n;
}

namespace {

constexpr std::uint32_t kMaxCount = 2000;

Json numberJson(long double value, CellType type) {
  if (type == CellType::Float32) {
    // The shortest decimal that reads back as this float32 (404.17, not 404.1700134277344).
    char text[32];
    auto r = std::to_chars(text, text + sizeof text, static_cast<float>(value));
    return Json::parse(std::string(text, r.ptr), nullptr, false);
  }
  if (type == CellType::Float64) return static_cast<double>(value);
  if (value < 0) return static_cast<long long>(value);
  return static_cast<unsigned long long>(value);
}

std::string actionName(const SimulatorStore& store, std::uint32_t first) {
  const simulator::ActionKind kind = store.actionKind(first);
  if (kind == simulator::ActionKind::None) return "none";
  if (kind == simulator::ActionKind::Custom) return "custom";
  return std::string(simulator::actionName(kind));
}

/// One register-table value starting at cell `first`.
Json registerValueJson(const SimulatorStore& store, const Table& table, std::uint32_t first) {
  const simulator::Cell& cell = store.cell(first);
  const std::uint32_t width = cell.type == CellType::Invalid ? 1 : widthAt(store, first);
  Json registers = Json::array();
  for (std::uint32_t i = 0; i < width && first + i < table.offset + table.cells; ++i) registers.push_back(store.registerValue(first + i));
  Json value = nullptr;
  if (cell.type == CellType::String) {
    value = store.text(first);
  } else if (cell.type != CellType::Invalid) {
    value = numberJson(store.number(first), cell.type);
  }
  return Json{{"address", first - table.offset},
              {"type", std::string(simulator::cellTypeName(cell.type))},
              {"value", std::move(value)},
              {"registers", std::move(registers)},
              {"writable", cell.access == simulator::Access::Writable},
              {"action", cell.type == CellType::Invalid ? std::string("none") : actionName(store, first)},
              {"word_order", cell.wordLittle ? "little" : "big"},
              {"byte_order", cell.byteLittle ? "little" : "big"},
              {"fault", faultJson(cell.fault)}};
}

Json bitJson(const SimulatorStore& store, const Table& table, std::uint32_t bit) {
  const simulator::Cell& cell = store.cell(table.offset + bit / 16);
  return Json{{"address", bit},
              {"type", cell.type == CellType::Invalid ? "invalid" : "bit"},
              {"value", cell.type == CellType::Invalid ? Json(nullptr) : Json(((cell.value >> (bit % 16)) & 1u) != 0)},
              {"writable", cell.access == simulator::Access::Writable},
              {"fault", faultJson(cell.fault)}};
}

/// The values covering addresses [address, address + count): whole values for register tables
/// (the first may start before `address`), single bits for bit tables.
Json valuesJson(const SimulatorStore& store, const Table& table, std::uint32_t address, std::uint32_t count) {
  Json values = Json::array();
  if (table.bits) {
    for (std::uint32_t bit = address; bit < address + count; ++bit) values.push_back(bitJson(store, table, bit));
    return values;
  }
  std::uint32_t cell = table.offset + address;
  const std::uint32_t end = table.offset + address + count;
  while (cell < end) {
    const std::uint32_t first = std::max(table.offset, firstCellOf(store, cell));
    values.push_back(registerValueJson(store, table, first));
    cell = first + std::max<std::uint32_t>(1, store.cell(first).type == CellType::Invalid ? 1 : widthAt(store, first));
  }
  return values;
}

std::uint32_t countParam(const http::Request& request, const Table& table, std::uint32_t address) {
  std::uint32_t count = 1;
  if (auto text = request.queryParam("count")) count = static_cast<std::uint32_t>(wholeNumber(*text, 1, 1000000, "count"));
  if (count > kMaxCount) throw ApiError(422, "count: at most " + std::to_string(kMaxCount) + " per request");
  if (std::uint64_t{address} + count > table.size()) {
    throw ApiError(422, "count: " + std::to_string(address) + "+" + std::to_string(count) + " runs past the " +
                            std::to_string(table.size()) + " " + (table.bits ? "bits" : "registers") + " of " + table.name);
  }
  return count;
}

Json rangeJson(const Unit& unit, const Table& table, std::uint32_t address, std::uint32_t count, Json values) {
  return Json{{"unit", unit.id}, {"table", table.name}, {"address", address}, {"count", count}, {"values", std::move(values)}};
}

/// The registers `value` becomes as the value starting at `first` (422 when it cannot).
std::vector<std::uint16_t> encodeValue(const SimulatorStore& store, std::uint32_t first, const Json& value) {
  const simulator::Cell& cell = store.cell(first);
  const std::string at = "the " + std::string(simulator::cellTypeName(cell.type)) + " at cell " + std::to_string(first);
  if (cell.type == CellType::String) {
    if (!value.is_string()) throw ApiError(422, "value: " + at + " takes a string");
    const std::string& text = value.get_ref<const std::string&>();
    const std::uint32_t width = widthAt(store, first);
    if (text.size() > width * 2u) {
      throw ApiError(422, "value: \"" + text + "\" is longer than the " + std::to_string(width * 2) + " characters of " + at);
    }
    std::string padded = text;
    padded.resize(width * 2u, ' ');
    std::vector<std::uint16_t> out(width);
    for (std::uint32_t i = 0; i < width; ++i) {
      out[i] = static_cast<std::uint16_t>((static_cast<unsigned char>(padded[2 * i]) << 8) | static_cast<unsigned char>(padded[2 * i + 1]));
    }
    return out;
  }
  if (!value.is_number()) throw ApiError(422, "value: " + at + " takes a number, not " + value.dump());
  const long double v = value.is_number_float() ? static_cast<long double>(value.get<double>())
                        : value.is_number_unsigned() ? static_cast<long double>(value.get<std::uint64_t>())
                                                     : static_cast<long double>(value.get<std::int64_t>());
  if (!std::isfinite(static_cast<double>(v)) || v < simulator::typeMin(cell.type) || v > simulator::typeMax(cell.type)) {
    throw ApiError(422, "value: " + value.dump() + " is outside the range of " + at);
  }
  if (!simulator::isFloatType(cell.type) && std::trunc(v) != v) throw ApiError(422, "value: " + at + " takes a whole number");
  std::vector<std::uint16_t> out(simulator::registerWidth(cell.type));
  simulator::encodeNumber(cell.type, simulator::ValueOrder{cell.wordLittle, cell.byteLittle}, v, out.data());
  return out;
}

/// The body's "value" (one) or "values" (several, consecutive): 422 without either.
Json bodyValues(const Json& body) {
  auto one = body.find("value");
  auto many = body.find("values");
  if ((one == body.end()) == (many == body.end())) throw ApiError(422, "give \"value\" or \"values\" (an array), one of them");
  if (one != body.end()) return Json::array({*one});
  if (!many->is_array() || many->empty()) throw ApiError(422, "values: a non-empty array is required");
  if (many->size() > kMaxCount) throw ApiError(422, "values: at most " + std::to_string(kMaxCount) + " per request");
  return *many;
}

}  // namespace

http::Response getRegisters(SimulatorServer& simulator, http::Request& request) {
  const Unit unit = unitParam(simulator, request);
  const Table table = tableParam(request, *unit.device);
  const std::uint32_t address = addressParam(request, table);
  const std::uint32_t count = countParam(request, table, address);
  return json(rangeJson(unit, table, address, count, valuesJson(*unit.device->store, table, address, count)));
}

http::Response setRegisters(SimulatorServer& simulator, http::Request& request) {
  const Unit unit = unitParam(simulator, request);
  const Table table = tableParam(request, *unit.device);
  const std::uint32_t address = addressParam(request, table);
  const Json values = bodyValues(objectBody(request));
  SimulatorStore& store = *unit.device->store;
  if (std::uint64_t{address} + (table.bits ? values.size() : 0) > table.size()) {
    throw ApiError(422, "values: " + std::to_string(values.size()) + " bits from " + std::to_string(address) + " run past " + table.name);
  }
  if (table.bits) {
    // Checked whole first, then written: all or nothing.
    for (std::size_t i = 0; i < values.size(); ++i) {
      const Json& v = values[i];
      if (!v.is_boolean() && !(v.is_number_integer() && (v.get<long long>() == 0 || v.get<long long>() == 1))) {
        throw ApiError(422, "value: a bit takes true, false, 0 or 1, not " + v.dump());
      }
      const std::uint32_t cell = table.offset + (address + static_cast<std::uint32_t>(i)) / 16;
      if (store.cell(cell).type == CellType::Invalid) {
        throw ApiError(409, "bit " + std::to_string(address + i) + " of " + table.name + " is in an undefined register");
      }
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::uint32_t bit = address + static_cast<std::uint32_t>(i);
      const bool on = values[i].is_boolean() ? values[i].get<bool>() : values[i].get<long long>() == 1;
      const std::uint32_t cell = table.offset + bit / 16;
      const auto mask = static_cast<std::uint16_t>(1u << (bit % 16));
      store.setRegister(cell, static_cast<std::uint16_t>(on ? store.registerValue(cell) | mask : store.registerValue(cell) & ~mask));
    }
    return json(rangeJson(unit, table, address, static_cast<std::uint32_t>(values.size()),
                          valuesJson(store, table, address, static_cast<std::uint32_t>(values.size()))));
  }
  std::vector<std::pair<std::uint32_t, std::vector<std::uint16_t>>> writes;
  std::uint32_t cell = table.offset + address;
  for (const Json& v : values) {
    if (cell >= table.offset + table.cells) throw ApiError(422, "values: more values than " + table.name + " holds from " + std::to_string(address));
    const simulator::Cell& c = store.cell(cell);
    const std::uint32_t at = cell - table.offset;
    if (c.type == CellType::Invalid) throw ApiError(409, "register " + std::to_string(at) + " of " + table.name + " is not defined");
    const std::uint32_t first = firstCellOf(store, cell);
    if (first != cell) {
      throw ApiError(409, "register " + std::to_string(at) + " is inside the " + std::string(simulator::cellTypeName(c.type)) +
                              " at " + std::to_string(first - table.offset) + ": set it from there");
    }
    std::vector<std::uint16_t> registers = encodeValue(store, cell, v);
    if (cell + registers.size() > table.offset + table.cells) throw ApiError(409, "the value at " + std::to_string(at) + " runs past " + table.name);
    const std::uint32_t next = cell + static_cast<std::uint32_t>(registers.size());
    writes.emplace_back(cell, std::move(registers));
    cell = next;
  }
  for (const auto& [first, registers] : writes) {
    for (std::size_t i = 0; i < registers.size(); ++i) store.setRegister(first + static_cast<std::uint32_t>(i), registers[i]);
  }
  const std::uint32_t count = cell - (table.offset + address);
  return json(rangeJson(unit, table, address, count, valuesJson(store, table, address, count)));
}

}  // namespace modbus::api_v1
