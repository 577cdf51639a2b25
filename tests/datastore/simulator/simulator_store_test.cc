// Tests for datastore/simulator/simulator_store.h: definition, access rules, type exception, bits.
#include "datastore/simulator/simulator_store.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "tests/datastore/simulator/simulator_test_support.h"

namespace modbus::simulator {
namespace {

using testing::StoreFixture;
using Regs = std::vector<std::uint16_t>;

TEST_CASE("an undefined cell answers IllegalDataAddress, a defined one its value") {
  StoreFixture f(10);
  f.store->defineValue(3, CellType::Uint16, {}, {1234});
  CHECK(f.read(3, 1) == Regs{1234});
  CHECK(f.readCode(2, 1) == ExceptionCode::IllegalDataAddress);
  CHECK(f.readCode(3, 2) == ExceptionCode::IllegalDataAddress);
  CHECK(f.readCode(9, 2) == ExceptionCode::IllegalDataAddress);  // past the last cell
}

TEST_CASE("an invalid cell answers IllegalDataAddress for reads and writes") {
  StoreFixture f(4);
  f.store->defineValue(0, CellType::Uint16, {}, {1});
  f.store->defineValue(1, CellType::Uint16, {}, {2});
  f.store->setWritable(0, true);
  f.store->markInvalid(1);
  CHECK(f.readCode(0, 2) == ExceptionCode::IllegalDataAddress);
  CHECK(f.write(0, {5, 6}) == ExceptionCode::IllegalDataAddress);
  CHECK(f.read(0, 1) == Regs{1});  // the refused write changed nothing
}

TEST_CASE("writes reach only writable cells, all or nothing") {
  StoreFixture f(4);
  f.store->defineValue(0, CellType::Uint16, {}, {1});
  f.store->defineValue(1, CellType::Uint16, {}, {2});
  f.store->setWritable(0, true);
  CHECK(f.write(0, {7}) == ExceptionCode::None);
  CHECK(f.write(0, {8, 9}) == ExceptionCode::IllegalDataAddress);
  CHECK(f.write(1, {9}) == ExceptionCode::IllegalDataAddress);
  CHECK(f.read(0, 2) == Regs{7, 2});
  CHECK_THROWS_AS(f.store->setWritable(3, true), std::logic_error);
}

TEST_CASE("defining a cell twice is refused") {
  StoreFixture f(4);
  f.store->defineValue(0, CellType::Uint32, {}, {0, 1});
  CHECK_THROWS_AS(f.store->defineValue(1, CellType::Uint16, {}, {1}), std::logic_error);
  CHECK_THROWS_AS(f.store->defineValue(3, CellType::Uint32, {}, {1, 2}), std::out_of_range);
}

TEST_CASE("type exception: a request must start on a value and cover it whole") {
  StoreFixture f(8);
  f.store->setTypeException(true);
  f.store->defineValue(0, CellType::Uint32, {}, {0x0009, 0x6A29});
  f.store->defineValue(2, CellType::Float64, {}, {0xC07F, 0x9C7A, 0xE147, 0xAE14});
  f.store->defineValue(6, CellType::String, {}, {0x415F, 0x425F});
  CHECK(f.read(0, 2) == Regs{0x0009, 0x6A29});
  CHECK(f.readCode(1, 1) == ExceptionCode::IllegalDataAddress);  // second half
  CHECK(f.readCode(0, 1) == ExceptionCode::IllegalDataAddress);  // first half only
  CHECK(f.readCode(0, 5) == ExceptionCode::IllegalDataAddress);  // float64 cut
  CHECK(f.read(0, 6).size() == 6);
  CHECK(f.read(6, 1) == Regs{0x415F});                            // a string from its start, partly
  CHECK(f.readCode(7, 1) == ExceptionCode::IllegalDataAddress);  // ... but not from its middle
  f.store->setTypeException(false);
  CHECK(f.read(1, 1) == Regs{0x6A29});
}

TEST_CASE("type exception applies to writes too") {
  StoreFixture f(2);
  f.store->setTypeException(true);
  f.store->defineValue(0, CellType::Float32, {}, {0, 0});
  f.store->setWritable(0, true);
  f.store->setWritable(1, true);
  CHECK(f.write(1, {5}) == ExceptionCode::IllegalDataAddress);
  CHECK(f.write(0, {0x43CA, 0x15C3}) == ExceptionCode::None);
  CHECK(static_cast<float>(f.store->number(0)) == 404.17f);
}

TEST_CASE("a cell fault answers its exception code for reads and writes") {
  StoreFixture f(3);
  f.store->defineValue(0, CellType::Uint16, {}, {1});
  f.store->defineValue(1, CellType::Uint16, {}, {2});
  f.store->setWritable(1, true);
  f.store->setFault(1, ExceptionCode::ServerDeviceFailure);
  CHECK(f.readCode(0, 2) == ExceptionCode::ServerDeviceFailure);
  CHECK(f.write(1, {3}) == ExceptionCode::ServerDeviceFailure);
  CHECK(f.read(0, 1) == Regs{1});
  f.store->setFault(1, ExceptionCode::None);
  CHECK(f.read(0, 2) == Regs{1, 2});
}

TEST_CASE("bits: address register*16+bit, least significant first") {
  StoreFixture f(4);
  f.store->defineValue(2, CellType::Bits, {}, {0x0007});
  f.store->defineValue(3, CellType::Bits, {}, {0x8001});
  std::uint8_t out[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  REQUIRE(f.store->readBits(0, 32, 3, out) == ExceptionCode::None);
  CHECK(out[0] == 0x07);
  REQUIRE(f.store->readBits(0, 40, 16, out) == ExceptionCode::None);  // bits 8..15 of cell 2, 0..7 of cell 3
  CHECK(out[0] == 0x00);
  CHECK(out[1] == 0x01);
  REQUIRE(f.store->readBits(0, 47, 2, out) == ExceptionCode::None);  // bit 15 of cell 2, bit 0 of cell 3
  CHECK(out[0] == 0x02);
  CHECK(f.store->readBits(0, 16, 1, out) == ExceptionCode::IllegalDataAddress);  // cell 1 undefined
  CHECK(f.store->readBits(0, 63, 2, out) == ExceptionCode::IllegalDataAddress);  // past the last cell
}

TEST_CASE("bit writes need writable cells and change only their bits") {
  StoreFixture f(2);
  f.store->defineValue(0, CellType::Bits, {}, {0xF0F0});
  f.store->defineValue(1, CellType::Bits, {}, {0});
  f.store->setWritable(0, true);
  const std::uint8_t on[1] = {0x03};
  CHECK(f.store->writeBits(0, 0, 2, on) == ExceptionCode::None);
  CHECK(f.store->registerValue(0) == 0xF0F3);
  const std::uint8_t off[1] = {0x00};
  CHECK(f.store->writeBits(0, 4, 1, off) == ExceptionCode::None);
  CHECK(f.store->registerValue(0) == 0xF0E3);
  CHECK(f.store->writeBits(0, 15, 2, on) == ExceptionCode::IllegalDataAddress);  // cell 1 read-only
  CHECK(f.store->registerValue(0) == 0xF0E3);
}

TEST_CASE("typed access: number, setNumber clamps, text") {
  StoreFixture f(6);
  f.store->defineValue(0, CellType::Int16, {}, {0xFFFE});
  f.store->defineValue(1, CellType::Uint32, {.wordLittle = true}, {0x6A29, 0x0009});
  f.store->defineValue(3, CellType::String, {}, {0x415F, 0x425F, 0x2020});
  CHECK(f.store->number(0) == -2);
  CHECK(f.store->number(1) == 617001);
  f.store->setNumber(0, 100000);
  CHECK(f.store->number(0) == 32767);
  CHECK(f.store->text(3) == "A_B_  ");
}

}  // namespace
}  // namespace modbus::simulator
