// Tests for framers/bytes_be.h: explicit big- and little-endian byte assembly.
#include "framers/bytes_be.h"

#include <doctest/doctest.h>

#include <array>

namespace modbus {

TEST_CASE("readU16BE takes the high byte first") {
  const std::array<std::uint8_t, 2> bytes{0x12, 0xAB};
  CHECK(readU16BE(bytes.data()) == 0x12AB);
  static_assert(readU16BE(std::array<std::uint8_t, 2>{0xFF, 0x00}.data()) == 0xFF00);
}

TEST_CASE("writeU16BE then readU16BE round-trips every value") {
  std::array<std::uint8_t, 2> bytes{};
  for (unsigned v = 0; v <= 0xFFFF; v += 257) {
    writeU16BE(bytes.data(), static_cast<std::uint16_t>(v));
    CHECK(bytes[0] == (v >> 8));
    CHECK(bytes[1] == (v & 0xFF));
    CHECK(readU16BE(bytes.data()) == v);
  }
}

TEST_CASE("writeU16LE puts the low byte first, as the RTU CRC goes on the wire") {
  std::array<std::uint8_t, 2> bytes{};
  writeU16LE(bytes.data(), 0x1774);
  CHECK(bytes[0] == 0x74);
  CHECK(bytes[1] == 0x17);
  CHECK(readU16LE(bytes.data()) == 0x1774);
}

TEST_CASE("reads work at odd, unaligned addresses") {
  const std::array<std::uint8_t, 5> bytes{0x00, 0xDE, 0xAD, 0xBE, 0xEF};
  CHECK(readU16BE(bytes.data() + 1) == 0xDEAD);
  CHECK(readU16BE(bytes.data() + 3) == 0xBEEF);
  CHECK(readU16LE(bytes.data() + 1) == 0xADDE);
}

}  // namespace modbus
