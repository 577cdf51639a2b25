// Tests for datastore/sequential_data_block.h.
#include "datastore/sequential_data_block.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace modbus {

TEST_CASE("sequential register block reads big-endian wire bytes from its start address") {
  SequentialRegisterBlock block(100, {0x0102, 0x0304, 0xA0B0});
  std::array<std::uint8_t, 6> out{};
  CHECK(block.readRegisters(100, 3, out.data()) == ExceptionCode::None);
  CHECK(out == std::array<std::uint8_t, 6>{0x01, 0x02, 0x03, 0x04, 0xA0, 0xB0});
  CHECK(block.readRegisters(101, 1, out.data()) == ExceptionCode::None);
  CHECK(out[0] == 0x03);
  CHECK(out[1] == 0x04);
}

TEST_CASE("sequential register block address 0 is element 0 (no hidden +1)") {
  SequentialRegisterBlock block(0, {10, 20, 30});
  CHECK(block.getValues(0, 1) == std::vector<std::uint16_t>{10});
}

TEST_CASE("sequential register block rejects ranges outside its storage with IllegalDataAddress") {
  SequentialRegisterBlock block(100, {1, 2, 3});
  std::array<std::uint8_t, 8> out{};
  CHECK(block.readRegisters(99, 1, out.data()) == ExceptionCode::IllegalDataAddress);
  CHECK(block.readRegisters(101, 3, out.data()) == ExceptionCode::IllegalDataAddress);
  CHECK(block.readRegisters(103, 1, out.data()) == ExceptionCode::IllegalDataAddress);
  CHECK_FALSE(block.validate(99, 2));
  CHECK(block.validate(100, 3));
  CHECK(block.validate(102, 1));
  CHECK_FALSE(block.validate(102, 2));
}

TEST_CASE("sequential register block write is all-or-nothing") {
  SequentialRegisterBlock block(0, {1, 2, 3});
  const std::array<std::uint8_t, 4> in{0xFF, 0xFF, 0xEE, 0xEE};
  CHECK(block.writeRegisters(2, 2, in.data()) == ExceptionCode::IllegalDataAddress);
  CHECK(block.getValues(0, 3) == std::vector<std::uint16_t>{1, 2, 3});
  CHECK(block.writeRegisters(1, 2, in.data()) == ExceptionCode::None);
  CHECK(block.getValues(0, 3) == std::vector<std::uint16_t>{1, 0xFFFF, 0xEEEE});
}

TEST_CASE("sequential register block create() covers the whole table, address 65535 included") {
  auto block = SequentialRegisterBlock::create();
  CHECK(block->size() == kAddressSpace);
  CHECK(block->validate(0, 0xFFFF));
  CHECK(block->setValues(65535, {0xBEEF}) == ExceptionCode::None);
  CHECK(block->getValues(65535, 1) == std::vector<std::uint16_t>{0xBEEF});
  std::array<std::uint8_t, 4> out{};
  CHECK(block->readRegisters(65535, 2, out.data()) == ExceptionCode::IllegalDataAddress);
}

TEST_CASE("sequential register block create() fills with the given value and reset() refills") {
  auto block = SequentialRegisterBlock::create(10, 4, 7);
  CHECK(block->address() == 10);
  CHECK(block->getValues(10, 4) == std::vector<std::uint16_t>{7, 7, 7, 7});
  block->reset(2);
  CHECK(block->getValues(12, 2) == std::vector<std::uint16_t>{2, 2});
}

TEST_CASE("sequential blocks that would pass address 65535 are refused at construction") {
  CHECK_THROWS_AS(SequentialRegisterBlock(65535, {1, 2}), std::invalid_argument);
  CHECK_THROWS_AS(SequentialRegisterBlock::create(1, kAddressSpace), std::invalid_argument);
  CHECK_THROWS_AS(SequentialBitBlock(65535, {true, false}), std::invalid_argument);
  CHECK_THROWS_AS(SequentialBitBlock::create(2, 65535), std::invalid_argument);
  CHECK_NOTHROW(SequentialRegisterBlock(65535, {1}));
}

TEST_CASE("an empty sequential block has no addresses") {
  SequentialRegisterBlock block(0, {});
  std::array<std::uint8_t, 2> out{};
  CHECK(block.readRegisters(0, 1, out.data()) == ExceptionCode::IllegalDataAddress);
}

TEST_CASE("sequential bit block packs bits LSB first at any offset and zeroes the padding") {
  // bits 0..10 = 1 0 1 1 0 0 1 1 | 1 0 1
  SequentialBitBlock block(0, {true, false, true, true, false, false, true, true, true, false, true});
  std::array<std::uint8_t, 2> out{0xFF, 0xFF};
  CHECK(block.readBits(0, 11, out.data()) == ExceptionCode::None);
  CHECK(out[0] == 0xCD);
  CHECK(out[1] == 0x05);
  out = {0xFF, 0xFF};
  CHECK(block.readBits(2, 9, out.data()) == ExceptionCode::None);  // 1 1 0 0 1 1 1 0 | 1
  CHECK(out[0] == 0x73);
  CHECK(out[1] == 0x01);
}

TEST_CASE("sequential bit block writes from packed bits and ignores padding bits") {
  auto block = SequentialBitBlock::create(20, 16);
  const std::array<std::uint8_t, 2> in{0xA5, 0xFE};  // only bit 0 of the second byte counts
  CHECK(block->writeBits(21, 9, in.data()) == ExceptionCode::None);
  CHECK(block->getValues(20, 12) ==
        std::vector<bool>{false, true, false, true, false, false, true, false, true, false, false, false});
}

TEST_CASE("sequential bit block rejects out-of-range reads and writes without a change") {
  SequentialBitBlock block(5, {false, false, false});
  const std::uint8_t all = 0xFF;
  std::uint8_t out = 0;
  CHECK(block.writeBits(6, 3, &all) == ExceptionCode::IllegalDataAddress);
  CHECK(block.readBits(4, 1, &out) == ExceptionCode::IllegalDataAddress);
  CHECK(block.getValues(5, 3) == std::vector<bool>{false, false, false});
  block.reset(true);
  CHECK(block.getValues(5, 3) == std::vector<bool>{true, true, true});
}

TEST_CASE("sequential bit block reads 2000 bits into exactly 250 bytes") {
  auto block = SequentialBitBlock::create(0, 2000, true);
  std::vector<std::uint8_t> out(251, 0x11);
  CHECK(block->readBits(0, 2000, out.data()) == ExceptionCode::None);
  CHECK(out[0] == 0xFF);
  CHECK(out[249] == 0xFF);
  CHECK(out[250] == 0x11);
}

}  // namespace modbus
