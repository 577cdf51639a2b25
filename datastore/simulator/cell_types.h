// The simulator's value types (pymodbus's CellType plus int16/int32/int64/uint64/float64) and how a
// typed value becomes registers and back, in either word and byte order. Pure functions, no state.
// Rules: encoding and decoding never allocate (they run inside read actions on the request path);
// numbers travel as long double, which holds every int64/uint64 exactly on x86-64 (64-bit mantissa).
// Tests: tests/datastore/simulator/cell_types_test.cc
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace modbus::simulator {

/// What a cell holds. A value of 2 or 4 registers (or a string of n) starts on a "first" cell; the
/// cells after it carry the same type and belong to it (pymodbus's "next" cells).
enum class CellType : std::uint8_t {
  Invalid,  ///< not defined, or listed in "invalid": every access answers 02
  Bits,     ///< 16 coils / discrete inputs, bit 0 = the lowest bit address
  Uint16,
  Int16,
  Uint32,
  Int32,
  Float32,
  Uint64,
  Int64,
  Float64,
  String,  ///< two characters a register, first character in the high byte, space padded
};

/// The JSON section name of `type` ("bits", "uint16", ..., "string"; "invalid").
std::string_view cellTypeName(CellType type) noexcept;
/// The type of a JSON section name, or nullopt.
std::optional<CellType> cellTypeFromName(std::string_view name) noexcept;

/// Registers one value of `type` takes: 1, 2 or 4; 1 for Bits, Invalid and String (a string's
/// length is its entry's).
constexpr unsigned registerWidth(CellType type) noexcept {
  switch (type) {
    case CellType::Uint32:
    case CellType::Int32:
    case CellType::Float32: return 2;
    case CellType::Uint64:
    case CellType::Int64:
    case CellType::Float64: return 4;
    default: return 1;
  }
}

constexpr bool isFloatType(CellType type) noexcept { return type == CellType::Float32 || type == CellType::Float64; }
constexpr bool isNumericType(CellType type) noexcept { return type != CellType::Invalid && type != CellType::String; }

/// The smallest and largest value of a numeric type (floats: ±FLT_MAX / ±DBL_MAX; Bits: 0..65535).
long double typeMin(CellType type) noexcept;
long double typeMax(CellType type) noexcept;

/// Word and byte order of multi-register values. pymodbus's only layout is big/big: the high word
/// first, each register's high byte first on the wire.
struct ValueOrder {
  bool wordLittle = false;  ///< true: the lowest word first ("word_order": "little")
  bool byteLittle = false;  ///< true: each register's two bytes swapped ("byte_order": "little")
  friend bool operator==(const ValueOrder&, const ValueOrder&) = default;
};

/// Writes `value` as registerWidth(type) registers into `out`. Integers are rounded toward zero
/// and must already lie in [typeMin, typeMax] (the caller clamps or checks); floats are narrowed
/// to the type's precision.
void encodeNumber(CellType type, ValueOrder order, long double value, std::uint16_t* out) noexcept;
/// The value held by registerWidth(type) registers at `in`.
long double decodeNumber(CellType type, ValueOrder order, const std::uint16_t* in) noexcept;

}  // namespace modbus::simulator
