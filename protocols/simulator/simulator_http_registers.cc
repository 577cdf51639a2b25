// The Registers view (pymodbus's /restapi/registers) and the field readers every view shares.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "protocols/simulator/detail/simulator_http_api.h"
#include "protocols/simulator/simulator_server.h"

namespace modbus::simulator_http {
namespace {

using simulator::CellType;

/// The most rows one answer lists (pymodbus's MAX_FILTER).
constexpr std::uint32_t kMaxRows = 1000;

std::string numberText(long double value, CellType type) {
  char text[64];
  if (type == CellType::Float32) {
    // The shortest text that reads back as the same float32: 404.17, not 404.1700134277344.
    auto r = std::to_chars(text, text + sizeof text, static_cast<float>(value));
    return std::string(text, r.ptr);
  }
  if (type == CellType::Float64) {
    auto r = std::to_chars(text, text + sizeof text, static_cast<double>(value));
    return std::string(text, r.ptr);
  }
  std::snprintf(text, sizeof text, "%.0Lf", value);
  return text;
}

/// The first cell of the value cell `index` belongs to.
std::uint32_t firstCellOf(const simulator::SimulatorStore& store, std::uint32_t index) {
  while (index > 0 && store.cell(index).type != CellType::Invalid && !store.cell(index).first &&
         store.cell(index - 1).type == store.cell(index).type)
    --index;
  return index;
}

/// Registers the value starting at `first` takes.
std::uint32_t widthAt(const simulator::SimulatorStore& store, std::uint32_t first) {
  const CellType type = store.cell(first).type;
  if (type != CellType::String) return simulator::registerWidth(type);
  std::uint32_t n = 1;
  while (first + n < store.size() && store.cell(first + n).type == CellType::String && !store.cell(first + n).first) ++n;
  return n;
}

std::string actionText(const simulator::SimulatorStore& store, std::uint32_t first) {
  const simulator::ActionKind kind = store.actionKind(first);
  if (kind == simulator::ActionKind::None) return "none";
  if (kind == simulator::ActionKind::Custom) return "custom";
  return std::string(simulator::actionName(kind));
}

std::string valueText(const simulator::SimulatorStore& store, std::uint32_t first) {
  const CellType type = store.cell(first).type;
  if (type == CellType::Invalid) return std::to_string(store.registerValue(first));
  if (type == CellType::String) return store.text(first);
  return numberText(store.number(first), type);
}

/// Sets the value starting at `first` from `value` (a number or a numeric string; text for a string).
void setValue(simulator::SimulatorStore& store, std::uint32_t first, const Json& value) {
  const CellType type = store.cell(first).type;
  if (type == CellType::Invalid) throw FieldError("register " + std::to_string(first) + " is not defined");
  if (type == CellType::String) {
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    const std::uint32_t width = widthAt(store, first);
    if (text.size() > width * 2u) {
      throw FieldError("value: \"" + text + "\" is longer than the " + std::to_string(width * 2) + " characters of register " +
                       std::to_string(first));
    }
    std::string padded = text;
    padded.resize(width * 2u, ' ');
    for (std::uint32_t i = 0; i < width; ++i) {
      store.setRegister(first + i, static_cast<std::uint16_t>((static_cast<unsigned char>(padded[2 * i]) << 8) |
                                                             static_cast<unsigned char>(padded[2 * i + 1])));
    }
    return;
  }
  const std::optional<double> number = numberField(Json{{"value", value}}, "value");
  if (!number || !std::isfinite(*number)) throw FieldError("value: a finite number is required");
  const long double v = *number;
  if (v < simulator::typeMin(type) || v > simulator::typeMax(type)) {
    throw FieldError("value: " + numberText(v, CellType::Float64) + " is outside the range of " +
                     std::string(simulator::cellTypeName(type)));
  }
  if (!simulator::isFloatType(type) && std::trunc(v) != v) {
    throw FieldError("value: " + std::string(simulator::cellTypeName(type)) + " takes a whole number");
  }
  store.setNumber(first, v);
}

Json registerTypes() {
  // pymodbus's numbers for its types; ours follow them.
  return Json{{"invalid", 0}, {"bits", 1},   {"uint16", 2}, {"uint32", 3},  {"float32", 4},  {"string", 5},
              {"next", 6},    {"int16", 7},  {"int32", 8},  {"uint64", 9},  {"int64", 10},   {"float64", 11}};
}

Json registerActions() {
  return Json{{"null", 0}, {"increment", 1}, {"random", 2}, {"reset", 3}, {"timestamp", 4},  {"uptime", 5},
              {"sine", 6}, {"ramp", 7},      {"square", 8}, {"random_walk", 9}, {"custom", 10}};
}

}  // namespace

Json errorResult(const std::string& message) { return Json{{"result", "error"}, {"error", message}}; }

std::optional<long long> intField(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) return it->get<long long>();
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (std::trunc(d) == d && std::fabs(d) < 9e15) return static_cast<long long>(d);
  }
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;  // an empty form field
    long long v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return v;
  }
  throw FieldError(std::string(name) + ": a whole number is required, not " + it->dump());
}

std::optional<double> numberField(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    double v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return v;
  }
  throw FieldError(std::string(name) + ": a number is required, not " + it->dump());
}

bool flagField(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number()) return it->get<double>() != 0;
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    return s == "on" || s == "1" || s == "true" || s == "True" || s == "yes" || s == "checked";
  }
  throw FieldError(std::string(name) + ": true or false is required, not " + it->dump());
}

std::optional<std::string> stringField(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  throw FieldError(std::string(name) + ": a string is required, not " + it->dump());
}

Json registersView(SimulatorServer& simulator, const Json& params) {
  if (!params.is_object()) return errorResult("the request must be a JSON object");
  try {
    const std::optional<std::string> submit = stringField(params, "submit");
    if (!submit) return errorResult("submit: missing (\"Register\", \"Set\", ...)");
    simulator::SimulatorStore& store = *simulator.device().store;
    if (store.size() == 0) return errorResult("the device has no registers");
    const std::uint32_t last = store.size() - 1;
    std::string footer = "Operation completed successfully";
    if (*submit == "Set") {
      const std::optional<long long> reg = intField(params, "register");
      if (!reg) throw FieldError("register: missing");
      if (*reg < 0 || *reg > last) throw FieldError("register: " + std::to_string(*reg) + " is outside 0-" + std::to_string(last));
      auto value = params.find("value");
      if (value == params.end() || value->is_null() || (value->is_string() && value->get_ref<const std::string&>().empty()))
        throw FieldError("value: missing");
      const std::uint32_t first = firstCellOf(store, static_cast<std::uint32_t>(*reg));
      setValue(store, first, *value);
      footer = "register " + std::to_string(first) + " set to " + valueText(store, first);
    }
    const long long start = std::clamp<long long>(intField(params, "range_start").value_or(0), 0, last);
    std::optional<long long> stop = intField(params, "range_stop");
    if (!stop) stop = intField(params, "range_end");
    const long long end = std::clamp<long long>(stop.value_or(start + 99), start, last);
    const std::string type = stringField(params, "type").value_or("Any");
    const std::string action = stringField(params, "action").value_or("Any");
    if (type != "Any" && type != "" && !simulator::cellTypeFromName(type)) throw FieldError("type: unknown type \"" + type + "\"");
    const bool writableOnly = flagField(params, "writeable") || flagField(params, "writable");
    SimulatorCalls* calls = simulator.hasCalls() ? &simulator.calls() : nullptr;
    Json rows = Json::array();
    std::int64_t shownUpTo = -1;
    for (long long i = start; i <= end && rows.size() < kMaxRows; ++i) {
      const std::uint32_t first = firstCellOf(store, static_cast<std::uint32_t>(i));
      if (static_cast<std::int64_t>(first) <= shownUpTo) continue;
      const std::uint32_t width = widthAt(store, first);
      shownUpTo = first + width - 1;
      const simulator::Cell& cell = store.cell(first);
      const std::string typeName(simulator::cellTypeName(cell.type));
      if (type != "Any" && type != "" && type != typeName) continue;
      const std::string actionName = actionText(store, first);
      if (action != "Any" && action != "" && action != actionName) continue;
      const bool writable = cell.access == simulator::Access::Writable;
      if (writableOnly && !writable) continue;
      std::uint64_t reads = 0, writes = 0;
      if (calls) {
        for (std::uint32_t k = first; k < first + width; ++k) {
          reads = std::max<std::uint64_t>(reads, calls->readCount(k));
          writes = std::max<std::uint64_t>(writes, calls->writeCount(k));
        }
      }
      rows.push_back(Json{{"index", width > 1 ? std::to_string(first) + "-" + std::to_string(first + width - 1)
                                              : std::to_string(first)},
                          {"type", typeName},
                          {"access", writable ? "True" : "False"},
                          {"action", actionName},
                          {"value", valueText(store, first)},
                          {"count_read", std::to_string(reads)},
                          {"count_write", std::to_string(writes)}});
    }
    return Json{{"result", "ok"},
                {"footer", footer},
                {"register_types", registerTypes()},
                {"register_actions", registerActions()},
                {"range_start", start},
                {"range_stop", end},
                {"register_rows", std::move(rows)}};
  } catch (const FieldError& e) {
    return errorResult(e.what());
  }
}

}  // namespace modbus::simulator_http
