// Tests for framers/crc16.h: CRC-16/MODBUS against the catalogue check value and spec frames.
#include "framers/crc16.h"

#include <doctest/doctest.h>

#include "framers/bytes_be.h"
#include "tests/framers/decode_loop.h"

namespace modbus {
namespace {

using test::Bytes;
using test::hexBytes;

/// Bit-by-bit reference, to cross-check the table.
std::uint16_t slowCrc16(std::span<const std::uint8_t> data) {
  std::uint16_t crc = 0xFFFF;
  for (std::uint8_t byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : static_cast<std::uint16_t>(crc >> 1);
    }
  }
  return crc;
}

}  // namespace

TEST_CASE("crc16 of the catalogue check string 123456789 is 0x4B37") {
  CHECK(crc16(test::textBytes("123456789")) == 0x4B37);
}

TEST_CASE("crc16 of nothing is the initial value 0xFFFF") { CHECK(crc16({}) == 0xFFFF); }

TEST_CASE("crc16 matches the spec's read holding registers request 01 03 00 6B 00 03 -> 74 17") {
  const std::uint16_t crc = crc16(hexBytes("01 03 00 6B 00 03"));
  CHECK(crc == 0x1774);
  std::uint8_t wire[2];
  writeU16LE(wire, crc);
  CHECK(wire[0] == 0x74);  // low byte first on the wire
  CHECK(wire[1] == 0x17);
}

TEST_CASE("crc16 matches known frames for function codes 6, 15 and 16") {
  CHECK(crc16(hexBytes("11 06 00 01 00 03")) == 0x9B9A);
  CHECK(crc16(hexBytes("01 0F 00 13 00 0A 02 CD 01")) == 0xCB72);
  CHECK(crc16(hexBytes("01 10 00 01 00 02 04 00 0A 01 02")) == 0x3092);
}

TEST_CASE("crc16 over a frame including its CRC is zero") {
  CHECK(crc16(hexBytes("01 03 00 6B 00 03 74 17")) == 0);
}

TEST_CASE("crc16 continues across pieces") {
  const Bytes data = hexBytes("01 10 00 01 00 02 04 00 0A 01 02");
  const std::span<const std::uint8_t> all(data);
  for (std::size_t cut = 0; cut <= data.size(); ++cut) {
    CHECK(crc16(all.subspan(cut), crc16(all.first(cut))) == crc16(all));
  }
}

TEST_CASE("crc16 table agrees with the bitwise definition for every single byte and for long runs") {
  for (unsigned b = 0; b < 256; ++b) {
    const std::uint8_t byte = static_cast<std::uint8_t>(b);
    CHECK(crc16(std::span<const std::uint8_t>(&byte, 1)) == slowCrc16(std::span<const std::uint8_t>(&byte, 1)));
  }
  Bytes run(300);
  for (std::size_t i = 0; i < run.size(); ++i) run[i] = static_cast<std::uint8_t>(i * 37 + 11);
  CHECK(crc16(run) == slowCrc16(run));
}

}  // namespace modbus

namespace modbus {

TEST_CASE("crcMatches checks the trailing CRC of an RTU frame, low byte first") {
  Bytes frame = test::hexBytes("01 03 00 6B 00 03 74 17");  // the spec example read, with its CRC
  CHECK(crcMatches(frame));
  frame[6] ^= 0x01;
  CHECK_FALSE(crcMatches(frame));
  CHECK_FALSE(crcMatches(std::span<const std::uint8_t>(frame).first(1)));  // no room for a CRC
}

}  // namespace modbus
