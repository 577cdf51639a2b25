// Tests for datastore/sparse_data_block.h.
#include "datastore/sparse_data_block.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <map>
#include <vector>

namespace modbus {

TEST_CASE("sparse register block reads a run of defined addresses") {
  SparseRegisterBlock block({{10, 0x0A0B}, {11, 0x0C0D}, {12, 0x0E0F}, {40, 1}});
  std::array<std::uint8_t, 6> out{};
  CHECK(block.readRegisters(10, 3, out.data()) == ExceptionCode::None);
  CHECK(out == std::array<std::uint8_t, 6>{0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F});
  CHECK(block.getValues(40, 1) == std::vector<std::uint16_t>{1});
}

TEST_CASE("sparse register block answers IllegalDataAddress when any address of the range is undefined") {
  SparseRegisterBlock block({{10, 1}, {11, 2}, {13, 4}});
  std::array<std::uint8_t, 8> out{};
  CHECK(block.readRegisters(10, 4, out.data()) == ExceptionCode::IllegalDataAddress);  // hole at 12
  CHECK(block.readRegisters(9, 2, out.data()) == ExceptionCode::IllegalDataAddress);   // 9 undefined
  CHECK(block.readRegisters(13, 2, out.data()) == ExceptionCode::IllegalDataAddress);  // runs off the end
  CHECK_FALSE(block.validate(10, 4));
  CHECK(block.validate(10, 2));
  CHECK(block.validate(13, 1));
}

TEST_CASE("sparse register block is not mutable by default: writes to undefined addresses change nothing") {
  SparseRegisterBlock block({{0, 1}, {1, 2}});
  CHECK_FALSE(block.isMutable());
  CHECK(block.setValues(1, {7, 8}) == ExceptionCode::IllegalDataAddress);
  CHECK(block.getValues(0, 2) == std::vector<std::uint16_t>{1, 2});
  CHECK_FALSE(block.isDefined(2));
  CHECK(block.size() == 2);
  CHECK(block.setValues(0, {5, 6}) == ExceptionCode::None);
  CHECK(block.getValues(0, 2) == std::vector<std::uint16_t>{5, 6});
}

TEST_CASE("mutable sparse register block defines the addresses a write touches") {
  SparseRegisterBlock block({{5, 1}}, true);
  CHECK(block.validateWrite(3, 4));
  CHECK_FALSE(block.validate(3, 4));
  CHECK(block.setValues(3, {0x10, 0x20, 0x30, 0x40}) == ExceptionCode::None);
  CHECK(block.getValues(3, 4) == std::vector<std::uint16_t>{0x10, 0x20, 0x30, 0x40});
  CHECK(block.size() == 4);
  CHECK(block.setValues(65535, {1, 2}) == ExceptionCode::IllegalDataAddress);
  CHECK_FALSE(block.isDefined(65535));
}

TEST_CASE("sparse register block define() adds addresses whatever the mutable option") {
  SparseRegisterBlock block;
  CHECK(block.size() == 0);
  block.define(65535, 0xFFFF);
  CHECK(block.isDefined(65535));
  CHECK(block.getValues(65535, 1) == std::vector<std::uint16_t>{0xFFFF});
  block.define(65535, 1);
  CHECK(block.getValues(65535, 1) == std::vector<std::uint16_t>{1});
}

TEST_CASE("sparse bit block packs defined bits LSB first and rejects holes") {
  SparseBitBlock block({{0, true}, {1, false}, {2, true}, {3, true}, {4, false}, {5, false}, {6, false}, {7, false},
                        {8, true}, {20, true}});
  std::array<std::uint8_t, 2> out{0xFF, 0xFF};
  CHECK(block.readBits(0, 9, out.data()) == ExceptionCode::None);
  CHECK(out[0] == 0x0D);
  CHECK(out[1] == 0x01);
  CHECK(block.readBits(8, 2, out.data()) == ExceptionCode::IllegalDataAddress);
  CHECK(block.validate(20, 1));
  CHECK_FALSE(block.validate(19, 2));
}

TEST_CASE("sparse bit block writes are all-or-nothing unless mutable") {
  SparseBitBlock fixed({{0, false}, {1, false}});
  const std::uint8_t ones = 0x07;
  CHECK(fixed.writeBits(0, 3, &ones) == ExceptionCode::IllegalDataAddress);
  CHECK(fixed.getValues(0, 2) == std::vector<bool>{false, false});
  CHECK(fixed.writeBits(0, 2, &ones) == ExceptionCode::None);
  CHECK(fixed.getValues(0, 2) == std::vector<bool>{true, true});

  SparseBitBlock open({}, true);
  const std::uint8_t pattern = 0x05;
  CHECK(open.writeBits(100, 3, &pattern) == ExceptionCode::None);
  CHECK(open.getValues(100, 3) == std::vector<bool>{true, false, true});
  open.define(103, true);
  CHECK(open.getValues(100, 4) == std::vector<bool>{true, false, true, true});
}

}  // namespace modbus
