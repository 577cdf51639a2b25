// Typed values ⇄ registers: the numeric bits are built big-endian (high word first), then the word
// and byte order are applied to the registers, so every type shares one ordering step.
#include "datastore/simulator/cell_types.h"

#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace modbus::simulator {
namespace {

constexpr std::array<std::string_view, 11> kNames = {"invalid", "bits",  "uint16", "int16", "uint32", "int32",
                                                     "float32", "uint64", "int64", "float64", "string"};

constexpr std::uint16_t swapBytes(std::uint16_t r) noexcept {
  return static_cast<std::uint16_t>((r << 8) | (r >> 8));
}

/// Big-endian words of the low `width` × 16 bits of `raw` → `out` in `order`.
void putRaw(std::uint64_t raw, unsigned width, ValueOrder order, std::uint16_t* out) noexcept {
  for (unsigned i = 0; i < width; ++i) {
    const unsigned shift = 16 * (width - 1 - i);  // word i of the big-endian layout
    std::uint16_t word = static_cast<std::uint16_t>(raw >> shift);
    if (order.byteLittle) word = swapBytes(word);
    out[order.wordLittle ? width - 1 - i : i] = word;
  }
}

std::uint64_t getRaw(unsigned width, ValueOrder order, const std::uint16_t* in) noexcept {
  std::uint64_t raw = 0;
  for (unsigned i = 0; i < width; ++i) {
    std::uint16_t word = in[order.wordLittle ? width - 1 - i : i];
    if (order.byteLittle) word = swapBytes(word);
    raw = (raw << 16) | word;
  }
  return raw;
}

}  // namespace

std::string_view cellTypeName(CellType type) noexcept {
  const auto index = static_cast<std::size_t>(type);
  return index < kNames.size() ? kNames[index] : std::string_view("?");
}

std::optional<CellType> cellTypeFromName(std::string_view name) noexcept {
  for (std::size_t i = 1; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<CellType>(i);
  }
  return std::nullopt;
}

long double typeMin(CellType type) noexcept {
  switch (type) {
    case CellType::Int16: return std::numeric_limits<std::int16_t>::min();
    case CellType::Int32: return std::numeric_limits<std::int32_t>::min();
    case CellType::Int64: return static_cast<long double>(std::numeric_limits<std::int64_t>::min());
    case CellType::Float32: return -std::numeric_limits<float>::max();
    case CellType::Float64: return -std::numeric_limits<double>::max();
    default: return 0;
  }
}

long double typeMax(CellType type) noexcept {
  switch (type) {
    case CellType::Int16: return std::numeric_limits<std::int16_t>::max();
    case CellType::Uint32: return std::numeric_limits<std::uint32_t>::max();
    case CellType::Int32: return std::numeric_limits<std::int32_t>::max();
    case CellType::Uint64: return static_cast<long double>(std::numeric_limits<std::uint64_t>::max());
    case CellType::Int64: return static_cast<long double>(std::numeric_limits<std::int64_t>::max());
    case CellType::Float32: return std::numeric_limits<float>::max();
    case CellType::Float64: return std::numeric_limits<double>::max();
    default: return 65535;
  }
}

void encodeNumber(CellType type, ValueOrder order, long double value, std::uint16_t* out) noexcept {
  std::uint64_t raw = 0;
  switch (type) {
    case CellType::Float32: raw = std::bit_cast<std::uint32_t>(static_cast<float>(value)); break;
    case CellType::Float64: raw = std::bit_cast<std::uint64_t>(static_cast<double>(value)); break;
    case CellType::Int16:
    case CellType::Int32:
    case CellType::Int64: raw = static_cast<std::uint64_t>(static_cast<std::int64_t>(value)); break;
    default: raw = static_cast<std::uint64_t>(value); break;
  }
  const unsigned width = registerWidth(type);
  // A one-register value has no word order; its byte order applies all the same.
  putRaw(raw, width, order, out);
}

long double decodeNumber(CellType type, ValueOrder order, const std::uint16_t* in) noexcept {
  const unsigned width = registerWidth(type);
  const std::uint64_t raw = getRaw(width, order, in);
  switch (type) {
    case CellType::Float32: return std::bit_cast<float>(static_cast<std::uint32_t>(raw));
    case CellType::Float64: return std::bit_cast<double>(raw);
    case CellType::Int16: return static_cast<std::int16_t>(raw);
    case CellType::Int32: return static_cast<std::int32_t>(raw);
    case CellType::Int64: return static_cast<std::int64_t>(raw);
    default: return static_cast<long double>(raw);
  }
}

}  // namespace modbus::simulator
