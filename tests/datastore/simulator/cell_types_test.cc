// Tests for datastore/simulator/cell_types.h: every type's registers, both word and byte orders.
#include "datastore/simulator/cell_types.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

namespace modbus::simulator {
namespace {

std::array<std::uint16_t, 4> encoded(CellType type, long double value, ValueOrder order = {}) {
  std::array<std::uint16_t, 4> out{};
  encodeNumber(type, order, value, out.data());
  return out;
}

TEST_CASE("cell type names round-trip and unknown names are refused") {
  CHECK(cellTypeName(CellType::Float64) == "float64");
  CHECK(cellTypeFromName("int16") == CellType::Int16);
  CHECK(cellTypeFromName("string") == CellType::String);
  CHECK_FALSE(cellTypeFromName("invalid").has_value());
  CHECK_FALSE(cellTypeFromName("float").has_value());
}

TEST_CASE("register widths: 1 for 16-bit types and strings, 2 for 32-bit, 4 for 64-bit") {
  CHECK(registerWidth(CellType::Bits) == 1);
  CHECK(registerWidth(CellType::Int16) == 1);
  CHECK(registerWidth(CellType::Uint32) == 2);
  CHECK(registerWidth(CellType::Float32) == 2);
  CHECK(registerWidth(CellType::Int64) == 4);
  CHECK(registerWidth(CellType::Float64) == 4);
  CHECK(registerWidth(CellType::String) == 1);
}

TEST_CASE("uint32 and float32 go high word first, as pymodbus writes them") {
  CHECK(encoded(CellType::Uint32, 617001) == std::array<std::uint16_t, 4>{0x0009, 0x6A29, 0, 0});
  CHECK(encoded(CellType::Float32, 404.17L) == std::array<std::uint16_t, 4>{0x43CA, 0x15C3, 0, 0});
  CHECK(encoded(CellType::Float64, -505.78L) == std::array<std::uint16_t, 4>{0xC07F, 0x9C7A, 0xE147, 0xAE14});
}

TEST_CASE("signed types use two's complement") {
  CHECK(encoded(CellType::Int16, -2)[0] == 0xFFFE);
  CHECK(encoded(CellType::Int32, -1) == std::array<std::uint16_t, 4>{0xFFFF, 0xFFFF, 0, 0});
  CHECK(encoded(CellType::Int64, -2) == std::array<std::uint16_t, 4>{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE});
  const std::array<std::uint16_t, 4> minus2{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE};
  CHECK(decodeNumber(CellType::Int64, {}, minus2.data()) == -2);
}

TEST_CASE("uint64 keeps every bit of its largest value") {
  const auto regs = encoded(CellType::Uint64, 18446744073709551615.0L);
  CHECK(regs == std::array<std::uint16_t, 4>{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF});
  CHECK(decodeNumber(CellType::Uint64, {}, regs.data()) == 18446744073709551615.0L);
  const auto big = encoded(CellType::Uint64, 0x0123456789ABCDEFULL);
  CHECK(big == std::array<std::uint16_t, 4>{0x0123, 0x4567, 0x89AB, 0xCDEF});
}

TEST_CASE("word order little puts the low word first, byte order little swaps each register") {
  CHECK(encoded(CellType::Uint32, 617001, {.wordLittle = true}) == std::array<std::uint16_t, 4>{0x6A29, 0x0009, 0, 0});
  CHECK(encoded(CellType::Uint32, 617001, {.byteLittle = true}) == std::array<std::uint16_t, 4>{0x0900, 0x296A, 0, 0});
  CHECK(encoded(CellType::Uint64, 0x0123456789ABCDEFULL, {.wordLittle = true, .byteLittle = true}) ==
        std::array<std::uint16_t, 4>{0xEFCD, 0xAB89, 0x6745, 0x2301});
  CHECK(encoded(CellType::Uint16, 0x1234, {.byteLittle = true})[0] == 0x3412);
  const auto regs = encoded(CellType::Float32, 404.17L, {.wordLittle = true});
  CHECK(static_cast<float>(decodeNumber(CellType::Float32, {.wordLittle = true}, regs.data())) == 404.17f);
}

TEST_CASE("type ranges") {
  CHECK(typeMin(CellType::Int16) == -32768);
  CHECK(typeMax(CellType::Uint16) == 65535);
  CHECK(typeMax(CellType::Uint32) == 4294967295.0L);
  CHECK(typeMin(CellType::Uint64) == 0);
}

}  // namespace
}  // namespace modbus::simulator
