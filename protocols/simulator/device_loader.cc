// loadSimulatorDevice: one "device_list" entry of setup.json → a SimulatorStore. Sections are read
// in pymodbus's order (setup, invalid, the typed sections, write, repeat); each cell remembers
// which entry claimed it, so an overlap names both entries. Errors go through config::Node (the
// configuration's JSON-path helpers), never a second error format.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocols/config/detail/config_json.h"
#include "protocols/simulator/simulator_setup.h"

namespace modbus {
namespace {

using config::Node;
using Json = nlohmann::json;
using namespace simulator;

constexpr std::array<CellType, 10> kTypes = {CellType::Bits,   CellType::Uint16,  CellType::Int16,  CellType::Uint32,
                                             CellType::Int32,  CellType::Float32, CellType::Uint64, CellType::Int64,
                                             CellType::Float64, CellType::String};

std::string rangeText(std::uint32_t first, std::uint32_t last) {
  // Appended piece by piece: g++ 12 -O3 reports a false -Wrestrict on "[" + std::to_string(…).
  std::string out(1, '[');
  out += std::to_string(first);
  out += ", ";
  out += std::to_string(last);
  out += ']';
  return out;
}

std::string numberText(long double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e19L) {
    return v < 0 ? std::to_string(static_cast<long long>(v)) : std::to_string(static_cast<unsigned long long>(v));
  }
  return Json(static_cast<double>(v)).dump();
}

/// "a uint16", "an int16".
std::string withArticle(CellType type) {
  const std::string name(cellTypeName(type));
  return (name[0] == 'i' ? "an " : "a ") + name;
}

bool orderIsLittle(const Node& n) {
  const std::string s = n.string();
  if (s != "big" && s != "little") n.fail("\"" + s + "\" is not an order (big or little)");
  return s == "little";
}

struct Range {
  std::uint32_t first;
  std::uint32_t last;
  std::uint32_t count() const { return last - first + 1; }
};

class DeviceLoader {
 public:
  DeviceLoader(const Node& device, const SimulatorSetupOptions& options) : device_(device), options_(options) {}

  SimulatorDevice load() {
    std::vector<const char*> allowed = {"setup", "invalid", "write", "repeat"};
    for (CellType t : kTypes) allowed.push_back(typeKey(t));
    expectObjectOf(device_, allowed);
    if (!device_.has("setup")) device_.fail("missing \"setup\" (co size, di size, hr size, ir size)");
    readSetup(device_.child("setup"));
    if (device_.has("invalid")) forEachRange(device_.child("invalid"), [&](const Node& at, Range r) { claim(at, r, -2); });
    for (CellType t : kTypes) {
      if (device_.has(typeKey(t))) readTypeSection(device_.child(typeKey(t)), t);
    }
    if (device_.has("write")) readWrite(device_.child("write"));
    if (device_.has("repeat")) readRepeat(device_.child("repeat"));
    result_.store->commitConfiguredValues();
    return std::move(result_);
  }

 private:
  static const char* typeKey(CellType t) { return cellTypeName(t).data(); }  // names are literals

  static void expectObjectOf(const Node& n, const std::vector<const char*>& allowed) {
    if (!n.json().is_object()) n.fail("expected an object, got " + config::describeType(n.json()));
    for (const auto& item : n.json().items()) {
      const std::string& key = item.key();
      if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }) != allowed.end()) continue;
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      config::fail(config::joinPath(n.path(), key), "unknown key (expected one of: " + list + ")");
    }
  }

  void readSetup(const Node& setup) {
    setup.expectObject({"co size", "di size", "hr size", "ir size", "shared blocks", "type exception", "offline", "defaults",
                        "word_order", "byte_order"});
    auto size = [&](const char* key) -> std::uint32_t {
      if (!setup.has(key)) setup.fail(std::string("missing \"") + key + "\"");
      return static_cast<std::uint32_t>(setup.child(key).integer(0, 65536, "a table size"));
    };
    SimulatorLayout& layout = result_.layout;
    layout.coils = size("co size");
    layout.discreteInputs = size("di size");
    layout.holdingRegisters = size("hr size");
    layout.inputRegisters = size("ir size");
    layout.shared = setup.has("shared blocks") ? setup.child("shared blocks").boolean() : true;
    if (setup.has("word_order")) order_.wordLittle = orderIsLittle(setup.child("word_order"));
    if (setup.has("byte_order")) order_.byteLittle = orderIsLittle(setup.child("byte_order"));
    auto clock = options_.clock ? options_.clock : systemSimulatorClock();
    auto random = options_.random ? options_.random : defaultRandomSource();
    result_.store = std::make_shared<SimulatorStore>(layout.cellCount(), clock, random);
    result_.store->setTypeException(setup.has("type exception") && setup.child("type exception").boolean());
    result_.offline = setup.has("offline") && setup.child("offline").boolean();
    owner_.assign(layout.cellCount(), -1);
    if (setup.has("defaults")) readDefaults(setup.child("defaults"));
  }

  void readDefaults(const Node& defaults) {
    defaults.expectObject({"value", "action"});
    std::vector<const char*> types;
    for (CellType t : kTypes) types.push_back(typeKey(t));
    if (defaults.has("value")) {
      const Node values = defaults.child("value");
      expectObjectOf(values, types);
      for (CellType t : kTypes) {
        if (!values.has(typeKey(t))) continue;
        const Node v = values.child(typeKey(t));
        if (t == CellType::String) {
          defaultText_ = v.string();
        } else {
          defaultNumber_[static_cast<std::size_t>(t)] = number(v, t);
        }
      }
    }
    if (defaults.has("action")) {
      const Node actions = defaults.child("action");
      expectObjectOf(actions, types);
      for (CellType t : kTypes) {
        if (!actions.has(typeKey(t))) continue;
        const Node a = actions.child(typeKey(t));
        if (a.json().is_null()) continue;
        checkActionName(a, t);
        defaultAction_[static_cast<std::size_t>(t)] = a.string();
      }
    }
  }

  /// An address (int) or [first, last], inside the device.
  Range range(const Node& n) const {
    const std::uint32_t cells = result_.store->size();
    auto address = [&](const Node& a) {
      const auto v = static_cast<std::uint32_t>(a.integer(0, 4 * 65536, "a register address"));
      if (v >= cells) {
        n.fail("register " + std::to_string(v) + " is past the end of the device (" +
               (cells == 0 ? std::string("it has no registers") : "last register " + std::to_string(cells - 1)) + ")");
      }
      return v;
    };
    if (n.json().is_array()) {
      if (n.json().size() != 2) n.fail("expected [first, last], got " + n.json().dump());
      const std::uint32_t first = address(n.element(0));
      const std::uint32_t last = address(n.element(1));
      if (first > last) n.fail(rangeText(first, last) + " ends before it starts");
      return Range{first, last};
    }
    if (!n.json().is_number_integer()) n.fail("expected an address or [first, last], got " + config::describeType(n.json()));
    const std::uint32_t a = address(n);
    return Range{a, a};
  }

  template <class F>
  void forEachRange(const Node& section, F&& f) {
    if (!section.json().is_array()) section.fail("expected an array, got " + config::describeType(section.json()));
    for (std::size_t i = 0; i < section.json().size(); ++i) {
      const Node at = section.element(i);
      f(at, range(at));
    }
  }

  std::string ownerText(std::int32_t owner) const {
    return owner == -2 ? std::string("\"invalid\"") : entryPaths_[static_cast<std::size_t>(owner)];
  }

  /// Claims cells for an entry (`owner` -2: the invalid list); an overlap is an error naming both.
  void claim(const Node& at, Range r, std::int32_t owner) {
    for (std::uint32_t i = r.first; i <= r.last; ++i) {
      if (owner_[i] != -1) at.fail("register " + std::to_string(i) + " is already defined by " + ownerText(owner_[i]));
    }
    for (std::uint32_t i = r.first; i <= r.last; ++i) owner_[i] = owner;
  }

  long double number(const Node& v, CellType type) const {
    const Json& j = v.json();
    long double value = 0;
    if (j.is_number_unsigned()) {
      value = static_cast<long double>(j.get<std::uint64_t>());
    } else if (j.is_number_integer()) {
      value = static_cast<long double>(j.get<std::int64_t>());
    } else if (j.is_number_float()) {
      value = j.get<double>();
      if (!isFloatType(type) && value != std::floor(value)) v.fail(j.dump() + " is not a whole number");
    } else {
      v.fail("expected " + withArticle(type) + " value (a number), got " + config::describeType(j));
    }
    const CellType range = type == CellType::Bits ? CellType::Uint16 : type;
    if (value < typeMin(range) || value > typeMax(range)) {
      v.fail(j.dump() + " is not " + withArticle(type) + " value (" + numberText(typeMin(range)) +
             ".." + numberText(typeMax(range)) + ")");
    }
    return value;
  }

  void checkActionName(const Node& a, CellType type) const {
    const std::string name = a.string();
    const auto kind = actionFromName(name);
    if (!kind && options_.customActions.count(name)) return;
    if (!kind) {
      std::string known = "increment, random, timestamp, uptime, reset, sine, ramp, square, random_walk";
      for (const auto& [custom, fn] : options_.customActions) known += ", " + custom;
      a.fail("unknown action \"" + name + "\" (expected one of: " + known + ")");
    }
    if (type == CellType::String && *kind != ActionKind::Reset) {
      a.fail("action \"" + name + "\" does not apply to string values");
    }
  }

  ActionParameters parameters(const Node& p, bool custom) const {
    if (!custom) p.expectObject({"minval", "maxval", "period", "amplitude", "offset"});
    if (!p.json().is_object()) p.fail("expected an object, got " + config::describeType(p.json()));
    ActionParameters out;
    auto num = [&](const char* key) -> std::optional<long double> {
      if (!p.has(key)) return std::nullopt;
      const Node v = p.child(key);
      if (!v.json().is_number()) v.fail("expected a number, got " + config::describeType(v.json()));
      return static_cast<long double>(v.json().get<double>());
    };
    out.minval = num("minval");
    out.maxval = num("maxval");
    if (auto v = num("period")) {
      if (*v <= 0) p.child("period").fail(p.child("period").json().dump() + " is not a period (seconds, above 0)");
      out.period = static_cast<double>(*v);
    }
    if (auto v = num("amplitude")) out.amplitude = static_cast<double>(*v);
    if (auto v = num("offset")) out.offset = static_cast<double>(*v);
    if (out.minval && out.maxval && *out.minval > *out.maxval) p.fail("minval is above maxval");
    return out;
  }

  /// The action id of an entry: its "action" (null: none), else the type's default.
  std::uint32_t action(const Node& entry, CellType type) {
    std::optional<std::string> name = defaultAction_[static_cast<std::size_t>(type)];
    if (entry.json().is_object() && entry.has("action")) {
      const Node a = entry.child("action");
      if (a.json().is_null()) return 0;
      checkActionName(a, type);
      name = a.string();
    }
    if (!name) return 0;
    const bool custom = !actionFromName(*name) && options_.customActions.count(*name) != 0;
    ActionParameters p;
    if (entry.json().is_object()) {
      if (entry.has("parameters") && entry.has("args")) entry.fail("give \"parameters\" or \"args\", not both");
      if (entry.has("parameters")) p = parameters(entry.child("parameters"), custom);
      if (entry.has("args")) p = parameters(entry.child("args"), custom);
    }
    if (custom) return result_.store->addCustomAction(options_.customActions.at(*name), p);
    return result_.store->addAction(*actionFromName(*name), p);
  }

  void readTypeSection(const Node& section, CellType type) {
    if (!section.json().is_array()) section.fail("expected an array, got " + config::describeType(section.json()));
    for (std::size_t i = 0; i < section.json().size(); ++i) readEntry(section.element(i), type);
  }

  void readEntry(const Node& entry, CellType type) {
    const bool object = entry.json().is_object();
    if (object) {
      entry.expectObject({"addr", "value", "action", "parameters", "args", "word_order", "byte_order", "exception"});
      if (!entry.has("addr")) entry.fail("missing \"addr\"");
    }
    const Node at = object ? entry.child("addr") : entry;
    Range r = range(at);
    const unsigned width = registerWidth(type);
    if (!at.json().is_array() && width > 1) {  // one address: one value starting there
      r.last = r.first + width - 1;
      if (r.last >= result_.store->size()) {
        at.fail(std::string(cellTypeName(type)) + " at " + std::to_string(r.first) + " needs registers " +
                rangeText(r.first, r.last) + ", past the end of the device (last register " +
                std::to_string(result_.store->size() - 1) + ")");
      }
    }
    if (type != CellType::String && r.count() % width != 0) {
      at.fail(rangeText(r.first, r.last) + " is not a whole number of " + std::to_string(width) + "-register values");
    }
    ValueOrder order = order_;
    if (object && entry.has("word_order")) order.wordLittle = orderIsLittle(entry.child("word_order"));
    if (object && entry.has("byte_order")) order.byteLittle = orderIsLittle(entry.child("byte_order"));
    entryPaths_.push_back(entry.path());
    claim(at, r, static_cast<std::int32_t>(entryPaths_.size() - 1));
    if (r.count() > kLargeEntryRegisters) {
      result_.warnings.push_back(at.path() + ": " + rangeText(r.first, r.last) + " defines " +
                                 std::to_string(r.count()) + " registers (" + std::to_string(r.count() / width) + " " +
                                 std::string(cellTypeName(type)) + " values); is the range a typo?");
    }
    const std::uint32_t actionId = action(entry, type);
    std::vector<std::uint16_t> regs;
    if (type == CellType::String) {
      std::string text = defaultText_;
      if (object && entry.has("value")) text = entry.child("value").string();
      if (text.size() > 2 * std::size_t{r.count()}) {
        (object && entry.has("value") ? entry.child("value") : entry).fail("\"" + text + "\" (" + std::to_string(text.size()) + " characters) does not fit in " +
                                  std::to_string(r.count()) + " registers (" + std::to_string(2 * r.count()) +
                                  " characters)");
      }
      text.resize(2 * std::size_t{r.count()}, ' ');
      for (std::size_t i = 0; i < text.size(); i += 2) {
        regs.push_back(static_cast<std::uint16_t>(static_cast<std::uint8_t>(text[i]) << 8 |
                                                  static_cast<std::uint8_t>(text[i + 1])));
      }
      result_.store->defineValue(r.first, type, order, regs, actionId);
    } else {
      long double value = defaultNumber_[static_cast<std::size_t>(type)];
      if (object && entry.has("value")) value = number(entry.child("value"), type);
      regs.resize(width);
      encodeNumber(type, order, value, regs.data());
      for (std::uint32_t first = r.first; first <= r.last; first += width) {
        result_.store->defineValue(first, type, order, regs, actionId);
      }
    }
    if (object && entry.has("exception")) {
      const auto code = static_cast<ExceptionCode>(entry.child("exception").integer(1, 255, "an exception code"));
      for (std::uint32_t i = r.first; i <= r.last; ++i) result_.store->setFault(i, code);
    }
  }

  void readWrite(const Node& section) {
    forEachRange(section, [&](const Node& at, Range r) {
      for (std::uint32_t i = r.first; i <= r.last; ++i) {
        if (owner_[i] < 0) {
          at.fail("register " + std::to_string(i) + " is " + (owner_[i] == -2 ? "listed in \"invalid\"" : "not defined") +
                  " (\"write\" needs a defined cell)");
        }
        result_.store->setWritable(i, true);
      }
    });
  }

  void readRepeat(const Node& section) {
    if (!section.json().is_array()) section.fail("expected an array, got " + config::describeType(section.json()));
    for (std::size_t n = 0; n < section.json().size(); ++n) {
      const Node entry = section.element(n);
      entry.expectObject({"addr", "to"});
      if (!entry.has("addr") || !entry.has("to")) entry.fail("expected {\"addr\": [first, last], \"to\": [first, last]}");
      const Range from = range(entry.child("addr"));
      const Node toNode = entry.child("to");
      const Range to = range(toNode);
      entryPaths_.push_back(entry.path());
      const auto owner = static_cast<std::int32_t>(entryPaths_.size() - 1);
      for (std::uint32_t i = to.first; i <= to.last; ++i) {
        const std::uint32_t src = from.first + (i - to.first) % from.count();
        if (owner_[src] < 0) continue;  // undefined or invalid cells copy as undefined
        if (owner_[i] != -1) toNode.fail("register " + std::to_string(i) + " is already defined by " + ownerText(owner_[i]));
        result_.store->copyDefinition(src, i);
        owner_[i] = owner;
      }
      const std::uint32_t next = from.first + to.count() % from.count();
      if (to.count() % from.count() != 0 && !result_.store->cell(next).first &&
          result_.store->cell(next).type != CellType::Invalid) {
        toNode.fail(rangeText(to.first, to.last) + " ends inside a value copied from register " + std::to_string(next - 1));
      }
    }
  }

  const Node& device_;
  const SimulatorSetupOptions& options_;
  SimulatorDevice result_;
  ValueOrder order_;
  std::vector<std::int32_t> owner_;  // per cell: -1 free, -2 invalid, else an index in entryPaths_
  std::vector<std::string> entryPaths_;
  std::array<long double, 11> defaultNumber_{};
  std::string defaultText_ = " ";
  std::array<std::optional<std::string>, 11> defaultAction_{};
};

}  // namespace

SimulatorSetupOptions& SimulatorSetupOptions::registerAction(const std::string& name, CustomAction action) {
  if (name.empty() || !action) throw std::invalid_argument("registerAction: an action needs a name and a function");
  if (actionFromName(name)) throw std::invalid_argument("registerAction: \"" + name + "\" is a built-in action");
  if (!customActions.emplace(name, std::move(action)).second) {
    throw std::invalid_argument("registerAction: \"" + name + "\" is registered already");
  }
  return *this;
}

SimulatorDevice loadSimulatorDevice(std::string_view setupJson, const std::string& deviceName,
                                    const SimulatorSetupOptions& options) {
  const Json root = config::parseJson(setupJson);
  config::expectObject(root, "", {"server_list", "device_list"});
  if (!root.contains("device_list")) config::fail("", "missing \"device_list\"");
  const Node devices(root.at("device_list"), "device_list");
  devices.expectObject({});
  if (!devices.has(deviceName.c_str())) {
    std::string names;
    for (const auto& [name, value] : devices.json().items()) names += (names.empty() ? "" : ", ") + name;
    devices.fail("no device \"" + deviceName + "\" (devices: " + (names.empty() ? "none" : names) + ")");
  }
  const Node device = devices.child(deviceName);
  return DeviceLoader(device, options).load();
}

}  // namespace modbus
