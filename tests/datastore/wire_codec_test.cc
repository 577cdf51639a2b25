// The shared loops of datastore/wire_codec.h, byte by byte.
#include "datastore/wire_codec.h"

#include <array>
#include <cstdint>

#include <doctest/doctest.h>

namespace modbus::wire {

TEST_CASE("wire::covers accepts ranges inside the table and refuses any overhang") {
  CHECK(covers(10, 5, 10, 5));
  CHECK(covers(10, 5, 12, 0));
  CHECK_FALSE(covers(10, 5, 9, 1));
  CHECK_FALSE(covers(10, 5, 14, 2));
  CHECK(covers(0, 65536, 0xFFFF, 1));
  CHECK_FALSE(covers(0xFFFF, 1, 0xFFFF, 2));
}

TEST_CASE("wire::storeRegisters and loadRegisters are big-endian and inverse") {
  const std::array<std::uint16_t, 3> values{0x1234, 0x00FF, 0xFF00};
  std::array<std::uint8_t, 6> bytes{};
  storeRegisters(values.data(), values.size(), bytes.data());
  CHECK(bytes == std::array<std::uint8_t, 6>{0x12, 0x34, 0x00, 0xFF, 0xFF, 0x00});
  std::array<std::uint16_t, 3> back{};
  loadRegisters(bytes.data(), back.size(), back.data());
  CHECK(back == values);
}

TEST_CASE("wire::packBits puts the first bit low, leaves unused high bits 0 and reads any non-zero as 1") {
  const std::array<std::uint8_t, 10> bits{1, 0, 1, 1, 0, 0, 0, 7, 1, 0};
  std::array<std::uint8_t, 2> packed{0xAA, 0xAA};
  packBits(bits.data(), bits.size(), packed.data());
  CHECK(packed[0] == 0x8D);
  CHECK(packed[1] == 0x01);
  const std::array<bool, 3> flags{true, false, true};
  std::uint8_t one = 0xFF;
  packBits(flags.data(), flags.size(), &one);
  CHECK(one == 0x05);
}

TEST_CASE("wire::unpackBits yields 0 or 1 per bit and stops at count") {
  const std::array<std::uint8_t, 2> packed{0x8D, 0xFF};
  std::array<std::uint8_t, 11> bits{};
  bits.fill(9);
  unpackBits(packed.data(), 10, bits.data());
  CHECK(bits == std::array<std::uint8_t, 11>{1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 9});
  std::array<bool, 2> flags{};
  unpackBits(packed.data(), flags.size(), flags.data());
  CHECK(flags == std::array<bool, 2>{true, false});
}

}  // namespace modbus::wire
