// Tests for datastore/simulator/simulator_blocks.h: the four tables over one store, shared or not,
// and the request path's allocation count.
#include "datastore/simulator/simulator_blocks.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "tests/datastore/simulator/simulator_test_support.h"

long countedAllocations();  // tests/datastore/simulator/allocation_counter.cc

namespace modbus::simulator {
namespace {

using testing::StoreFixture;

TEST_CASE("shared blocks: all four tables address the same cells") {
  SimulatorLayout layout{.coils = 10, .discreteInputs = 20, .holdingRegisters = 30, .inputRegisters = 5, .shared = true};
  StoreFixture f(layout.cellCount());
  CHECK(layout.cellCount() == 30);
  f.store->defineValue(2, CellType::Bits, {}, {7});
  f.store->defineValue(3, CellType::Uint16, {}, {1234});
  DeviceTables t = simulatorTables(f.store, layout);
  CHECK(t.holdingRegisters->getValues(2, 2) == std::vector<std::uint16_t>{7, 1234});
  CHECK(t.inputRegisters->getValues(3, 1) == std::vector<std::uint16_t>{1234});
  CHECK(t.coils->getValues(32, 3) == std::vector<bool>{true, true, true});
  CHECK(t.discreteInputs->getValues(34, 2) == std::vector<bool>{true, false});
  std::array<std::uint16_t, 1> one{};
  CHECK(t.holdingRegisters->getValues(30, one) == ExceptionCode::IllegalDataAddress);
}

TEST_CASE("separate blocks: co, di, ir, hr one after another, each from address 0") {
  SimulatorLayout layout{.coils = 10, .discreteInputs = 10, .holdingRegisters = 10, .inputRegisters = 10,
                         .shared = false};
  StoreFixture f(layout.cellCount());
  CHECK(layout.cellCount() == 40);
  f.store->defineValue(0, CellType::Bits, {}, {0x0001});   // coil cell 0
  f.store->defineValue(10, CellType::Bits, {}, {0x0002});  // discrete input cell 0
  f.store->defineValue(20, CellType::Uint16, {}, {20});    // input register 0
  f.store->defineValue(30, CellType::Uint16, {}, {30});    // holding register 0
  f.store->defineValue(39, CellType::Uint16, {}, {39});    // holding register 9
  DeviceTables t = simulatorTables(f.store, layout);
  CHECK(t.coils->getValues(0, 2) == std::vector<bool>{true, false});
  CHECK(t.discreteInputs->getValues(0, 2) == std::vector<bool>{false, true});
  CHECK(t.inputRegisters->getValues(0, 1) == std::vector<std::uint16_t>{20});
  CHECK(t.holdingRegisters->getValues(0, 1) == std::vector<std::uint16_t>{30});
  CHECK(t.holdingRegisters->getValues(9, 1) == std::vector<std::uint16_t>{39});
  std::array<std::uint16_t, 1> one{};
  CHECK(t.holdingRegisters->getValues(10, one) == ExceptionCode::IllegalDataAddress);  // past hr size
  CHECK(t.inputRegisters->validate(9, 2) == false);  // would run into hr: refused, unlike pymodbus
  std::array<bool, 1> bit{};
  CHECK(t.coils->getValues(160, bit) == ExceptionCode::IllegalDataAddress);  // 10 cells = 160 bits
}

TEST_CASE("validate and validateWrite follow the store's rules") {
  SimulatorLayout layout{.coils = 4, .discreteInputs = 4, .holdingRegisters = 4, .inputRegisters = 4};
  StoreFixture f(layout.cellCount());
  f.store->defineValue(0, CellType::Uint16, {}, {1});
  f.store->defineValue(1, CellType::Uint16, {}, {2});
  f.store->setWritable(1, true);
  DeviceTables t = simulatorTables(f.store, layout);
  CHECK(t.holdingRegisters->validate(0, 2));
  CHECK_FALSE(t.holdingRegisters->validateWrite(0, 2));
  CHECK(t.holdingRegisters->validateWrite(1, 1));
  CHECK(t.holdingRegisters->setValues(1, {5}) == ExceptionCode::None);
  CHECK(t.holdingRegisters->setValues(0, {5}) == ExceptionCode::IllegalDataAddress);
  CHECK_FALSE(t.coils->validateWrite(0, 1));
  CHECK(t.coils->validateWrite(16, 16));
}

TEST_CASE("reading 125 registers of float32 values with actions allocates nothing") {
  SimulatorLayout layout{.holdingRegisters = 126};
  StoreFixture f(layout.cellCount());
  const auto action = f.store->addAction(ActionKind::Increment);
  for (std::uint32_t i = 0; i + 1 < 126; i += 2) f.store->defineValue(i, CellType::Float32, {}, {0x3F80, 0}, action);
  DeviceTables t = simulatorTables(f.store, layout);
  std::array<std::uint8_t, 250> out{};
  REQUIRE(t.holdingRegisters->readRegisters(0, 125, out.data()) == ExceptionCode::None);
  const long before = countedAllocations();
  for (int i = 0; i < 100; ++i) {
    REQUIRE(t.holdingRegisters->readRegisters(0, 125, out.data()) == ExceptionCode::None);
  }
  CHECK(countedAllocations() - before == 0);
  CHECK(out[0] == 0x42);  // 1 + 101 = 102.0f = 0x42CC0000
  CHECK(out[1] == 0xCC);
}

}  // namespace
}  // namespace modbus::simulator
