// The simulator's typed cells: access checks over a whole range first, then actions, then the copy.
// Why the actions work on long double: it holds every 64-bit integer exactly, so increment on a
// uint64 or int64 never drifts, and one code path serves every numeric type.
#include "datastore/simulator/simulator_store.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <numbers>
#include <stdexcept>
#include <utility>

namespace modbus::simulator {
namespace {

constexpr std::array<std::string_view, 11> kActionNames = {
    "", "increment", "random", "timestamp", "uptime", "reset", "sine", "ramp", "square", "random_walk", ""};

constexpr ValueOrder orderOf(const Cell& c) noexcept { return ValueOrder{c.wordLittle, c.byteLittle}; }

/// The phase of t in a period, in [0, 1).
double phase(double t, double period) noexcept {
  const double p = std::fmod(t / period, 1.0);
  return p < 0 ? p + 1.0 : p;
}

}  // namespace

std::string_view actionName(ActionKind kind) noexcept {
  const auto index = static_cast<std::size_t>(kind);
  return index < kActionNames.size() ? kActionNames[index] : std::string_view();
}

std::optional<ActionKind> actionFromName(std::string_view name) noexcept {
  for (std::size_t i = 1; i + 1 < kActionNames.size(); ++i) {
    if (kActionNames[i] == name) return static_cast<ActionKind>(i);
  }
  return std::nullopt;
}

SimulatorStore::SimulatorStore(std::uint32_t cellCount, std::shared_ptr<SimulatorClock> clock,
                               std::shared_ptr<RandomSource> random)
    : cells_(cellCount), configured_(cellCount, 0), clock_(std::move(clock)), random_(std::move(random)) {
  if (!clock_ || !random_) throw std::invalid_argument("modbus::simulator::SimulatorStore: null clock or random source");
  startSeconds_ = clock_->monotonicSeconds();
}

// --- definition ----------------------------------------------------------------------------------

std::uint32_t SimulatorStore::addAction(ActionKind kind, const ActionParameters& parameters) {
  if (kind == ActionKind::None) return 0;
  actions_.push_back(ActionSpec{kind, parameters, nullptr});
  return static_cast<std::uint32_t>(actions_.size());
}

std::uint32_t SimulatorStore::addCustomAction(CustomAction action, const ActionParameters& parameters) {
  if (!action) throw std::invalid_argument("modbus::simulator::SimulatorStore: empty custom action");
  actions_.push_back(ActionSpec{ActionKind::Custom, parameters, std::move(action)});
  return static_cast<std::uint32_t>(actions_.size());
}

void SimulatorStore::defineValue(std::uint32_t first, CellType type, ValueOrder order,
                                 const std::vector<std::uint16_t>& registers, std::uint32_t actionId) {
  if (registers.empty() || first >= cells_.size() || registers.size() > cells_.size() - first) {
    throw std::out_of_range("modbus::simulator::SimulatorStore: value past the last cell");
  }
  if (actionId > actions_.size()) throw std::out_of_range("modbus::simulator::SimulatorStore: unknown action id");
  for (std::size_t i = 0; i < registers.size(); ++i) {
    const Cell& c = cells_[first + i];
    if (c.type != CellType::Invalid || c.access != Access::Invalid) {
      throw std::logic_error("modbus::simulator::SimulatorStore: cell " + std::to_string(first + i) +
                             " is already defined");
    }
  }
  for (std::size_t i = 0; i < registers.size(); ++i) {
    Cell& c = cells_[first + i];
    c.value = registers[i];
    c.type = type;
    c.access = Access::ReadOnly;
    c.first = i == 0;
    c.wordLittle = order.wordLittle;
    c.byteLittle = order.byteLittle;
    c.action = i == 0 ? actionId : 0;
  }
}

void SimulatorStore::copyDefinition(std::uint32_t from, std::uint32_t to) {
  const Cell source = cells_.at(from);
  Cell& target = cells_.at(to);
  if (target.type != CellType::Invalid || target.access != Access::Invalid) {
    throw std::logic_error("modbus::simulator::SimulatorStore: cell " + std::to_string(to) + " is already defined");
  }
  target = source;
}

void SimulatorStore::markInvalid(std::uint32_t index) {
  Cell& c = cells_.at(index);
  c = Cell{};
}

void SimulatorStore::setWritable(std::uint32_t index, bool writable) {
  Cell& c = cells_.at(index);
  if (c.type == CellType::Invalid) {
    throw std::logic_error("modbus::simulator::SimulatorStore: cell " + std::to_string(index) + " is not defined");
  }
  c.access = writable ? Access::Writable : Access::ReadOnly;
}

void SimulatorStore::setFault(std::uint32_t index, ExceptionCode fault) { cells_.at(index).fault = fault; }

void SimulatorStore::commitConfiguredValues() {
  for (std::size_t i = 0; i < cells_.size(); ++i) configured_[i] = cells_[i].value;
}

void SimulatorStore::resetValues() {
  for (std::size_t i = 0; i < cells_.size(); ++i) cells_[i].value = configured_[i];
}

// --- typed access --------------------------------------------------------------------------------

long double SimulatorStore::number(std::uint32_t first) const {
  const Cell& c = cells_.at(first);
  std::array<std::uint16_t, 4> regs{};
  const unsigned width = registerWidth(c.type);
  for (unsigned i = 0; i < width && first + i < cells_.size(); ++i) regs[i] = cells_[first + i].value;
  return decodeNumber(c.type, orderOf(c), regs.data());
}

void SimulatorStore::setNumber(std::uint32_t first, long double value) {
  (void)cells_.at(first);
  store(first, value);
}

std::string SimulatorStore::text(std::uint32_t first) const {
  std::string out;
  for (std::uint32_t i = first; i < cells_.size(); ++i) {
    const Cell& c = cells_[i];
    if (i != first && (c.first || c.type != CellType::String)) break;
    out.push_back(static_cast<char>(c.value >> 8));
    out.push_back(static_cast<char>(c.value & 0xFF));
  }
  return out;
}

void SimulatorStore::store(std::uint32_t first, long double value) noexcept {
  const Cell& c = cells_[first];
  if (!isNumericType(c.type)) return;
  if (std::isnan(value)) value = 0;
  value = std::clamp(value, typeMin(c.type), typeMax(c.type));
  std::array<std::uint16_t, 4> regs{};
  encodeNumber(c.type, orderOf(c), value, regs.data());
  const unsigned width = registerWidth(c.type);
  for (unsigned i = 0; i < width && first + i < cells_.size(); ++i) cells_[first + i].value = regs[i];
}

// --- actions -------------------------------------------------------------------------------------

long double SimulatorStore::generated(const ActionSpec& spec, CellType type) noexcept {
  const ActionParameters& p = spec.parameters;
  const double t = clock_->monotonicSeconds() - startSeconds_;
  const double period = p.period > 0 ? p.period : 1.0;
  long double v = 0;
  switch (spec.kind) {
    case ActionKind::Sine: v = p.offset + p.amplitude * std::sin(2 * std::numbers::pi * t / period); break;
    case ActionKind::Ramp: v = p.offset - p.amplitude + 2 * p.amplitude * phase(t, period); break;
    case ActionKind::Square: v = phase(t, period) < 0.5 ? p.offset + p.amplitude : p.offset - p.amplitude; break;
    default: break;
  }
  if (p.minval && v < *p.minval) v = *p.minval;
  if (p.maxval && v > *p.maxval) v = *p.maxval;
  return isFloatType(type) ? v : std::round(v);
}

void SimulatorStore::runAction(std::uint32_t first) {
  const Cell& c = cells_[first];
  const ActionSpec& spec = actions_[c.action - 1];
  const ActionParameters& p = spec.parameters;
  const CellType type = c.type == CellType::Bits ? CellType::Uint16 : c.type;
  switch (spec.kind) {
    case ActionKind::None: return;
    case ActionKind::Increment: {
      long double v = number(first) + 1;
      const long double low = p.minval.value_or(typeMin(type));
      if ((p.maxval && v > *p.maxval) || v > typeMax(type)) v = low;
      if (p.minval && v < *p.minval) v = *p.minval;
      store(first, v);
      return;
    }
    case ActionKind::Random: {
      const long double low = std::max(p.minval.value_or(1), typeMin(type));
      const long double high = std::min(p.maxval.value_or(65536), typeMax(type));
      const long double u = random_->uniform();
      long double v = isFloatType(type) ? low + u * (high - low) : low + std::floor(u * (high - low + 1));
      store(first, std::min(v, high));
      return;
    }
    case ActionKind::RandomWalk: {
      long double v = number(first) + (2 * random_->uniform() - 1) * p.amplitude;
      if (!isFloatType(type)) v = std::round(v);
      if (p.minval && v < *p.minval) v = *p.minval;
      if (p.maxval && v > *p.maxval) v = *p.maxval;
      store(first, v);
      return;
    }
    case ActionKind::Timestamp: {
      const std::time_t now = static_cast<std::time_t>(clock_->unixSeconds());
      std::tm tm{};
      localtime_r(&now, &tm);  // local time, as pymodbus's datetime.now() (TZ decides; UTC where unset)
      const std::array<int, 7> fields = {tm.tm_year + 1900, tm.tm_mon, tm.tm_mday, (tm.tm_wday + 6) % 7 + 1,
                                         tm.tm_hour,        tm.tm_min, tm.tm_sec};
      for (std::size_t i = 0; i < fields.size() && first + i < cells_.size(); ++i) {
        cells_[first + i].value = static_cast<std::uint16_t>(fields[i]);
      }
      return;
    }
    case ActionKind::Uptime:
      store(first, std::floor(static_cast<long double>(clock_->monotonicSeconds() - startSeconds_)) + 1);
      return;
    case ActionKind::Reset: resetValues(); return;
    case ActionKind::Sine:
    case ActionKind::Ramp:
    case ActionKind::Square: store(first, generated(spec, type)); return;
    case ActionKind::Custom: spec.custom(*this, first, p); return;
  }
}

ExceptionCode SimulatorStore::runActions(std::uint32_t start, std::uint32_t end) noexcept {
  try {
    std::uint32_t i = start;
    // A range that starts inside a value (type exception off) still runs that value's action.
    if (i < end && !cells_[i].first && cells_[i].type != CellType::Invalid) {
      std::uint32_t j = i;
      while (j > 0 && !cells_[j].first) --j;
      if (cells_[j].first && cells_[j].action != 0) runAction(j);
    }
    for (; i < end; ++i) {
      if (cells_[i].first && cells_[i].action != 0) runAction(i);
    }
  } catch (...) {
    return ExceptionCode::ServerDeviceFailure;
  }
  return ExceptionCode::None;
}

// --- the request path ----------------------------------------------------------------------------

ExceptionCode SimulatorStore::checkCells(std::uint32_t start, std::uint32_t end, bool write,
                                         bool typed) const noexcept {
  if (start > end || end > cells_.size()) return ExceptionCode::IllegalDataAddress;
  for (std::uint32_t i = start; i < end; ++i) {
    const Cell& c = cells_[i];
    if (c.access == Access::Invalid) return ExceptionCode::IllegalDataAddress;
    if (c.fault != ExceptionCode::None) return c.fault;
    if (write && c.access != Access::Writable) return ExceptionCode::IllegalDataAddress;
    if (typed && typeException_) {
      if (i == start && !c.first) return ExceptionCode::IllegalDataAddress;
      if (c.first && std::uint64_t{i} + registerWidth(c.type) > end) return ExceptionCode::IllegalDataAddress;
    }
  }
  return ExceptionCode::None;
}

ExceptionCode SimulatorStore::checkRegisters(std::uint32_t start, std::uint32_t count, bool write) const noexcept {
  if (count > cells_.size() || start > cells_.size() - count) return ExceptionCode::IllegalDataAddress;
  return checkCells(start, start + count, write, /*typed=*/true);
}

ExceptionCode SimulatorStore::readRegisters(std::uint32_t start, std::uint16_t count, std::uint8_t* out) {
  ExceptionCode code = checkRegisters(start, count, false);
  if (code != ExceptionCode::None) return code;
  code = runActions(start, start + count);
  if (code != ExceptionCode::None) return code;
  const Cell* src = cells_.data() + start;
  for (std::size_t i = 0; i < count; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(src[i].value >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(src[i].value & 0xFF);
  }
  return ExceptionCode::None;
}

ExceptionCode SimulatorStore::writeRegisters(std::uint32_t start, std::uint16_t count, const std::uint8_t* in) {
  const ExceptionCode code = checkRegisters(start, count, true);
  if (code != ExceptionCode::None) return code;
  Cell* dst = cells_.data() + start;
  for (std::size_t i = 0; i < count; ++i) {
    dst[i].value = static_cast<std::uint16_t>((in[2 * i] << 8) | in[2 * i + 1]);
  }
  return ExceptionCode::None;
}

ExceptionCode SimulatorStore::checkBits(std::uint32_t baseCell, std::uint32_t bit, std::uint32_t count,
                                        bool write) const noexcept {
  if (count == 0) return baseCell + bit / 16 <= cells_.size() ? ExceptionCode::None : ExceptionCode::IllegalDataAddress;
  const std::uint64_t first = std::uint64_t{baseCell} + bit / 16;
  const std::uint64_t last = std::uint64_t{baseCell} + (std::uint64_t{bit} + count - 1) / 16;
  if (last >= cells_.size()) return ExceptionCode::IllegalDataAddress;
  return checkCells(static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(last + 1), write, /*typed=*/false);
}

ExceptionCode SimulatorStore::readBits(std::uint32_t baseCell, std::uint32_t bit, std::uint16_t count,
                                       std::uint8_t* outPacked) {
  ExceptionCode code = checkBits(baseCell, bit, count, false);
  if (code != ExceptionCode::None || count == 0) return code;
  const std::uint32_t first = baseCell + bit / 16;
  const std::uint32_t last = baseCell + (bit + count - 1) / 16;
  code = runActions(first, last + 1);
  if (code != ExceptionCode::None) return code;
  std::fill(outPacked, outPacked + (count + 7) / 8, std::uint8_t{0});
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t b = bit + i;
    if ((cells_[baseCell + b / 16].value >> (b % 16)) & 1U) {
      outPacked[i / 8] = static_cast<std::uint8_t>(outPacked[i / 8] | (1U << (i % 8)));
    }
  }
  return ExceptionCode::None;
}

ExceptionCode SimulatorStore::writeBits(std::uint32_t baseCell, std::uint32_t bit, std::uint16_t count,
                                        const std::uint8_t* inPacked) {
  const ExceptionCode code = checkBits(baseCell, bit, count, true);
  if (code != ExceptionCode::None) return code;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t b = bit + i;
    std::uint16_t& value = cells_[baseCell + b / 16].value;
    const auto mask = static_cast<std::uint16_t>(1U << (b % 16));
    value = ((inPacked[i / 8] >> (i % 8)) & 1U) ? static_cast<std::uint16_t>(value | mask)
                                                 : static_cast<std::uint16_t>(value & ~mask);
  }
  return ExceptionCode::None;
}

}  // namespace modbus::simulator
