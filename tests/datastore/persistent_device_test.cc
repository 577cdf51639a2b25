// Tests for datastore/persistent/persistent_device.h and persistent_blocks.h: a device's tables and
// files of records moved into a state file, written through the request path's interfaces, and
// restored by a later open.
#include "datastore/persistent/persistent_device.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "datastore/persistent/persistent_blocks.h"
#include "datastore/sequential_data_block.h"
#include "datastore/sparse_data_block.h"
#include "tests/support/temp_dir.h"

namespace modbus {
namespace {

using Registers = std::vector<std::uint16_t>;
using testsupport::TempDir;

/// The configured device: coils 0..15 (1, 0, 1), discrete inputs 0..7, holding registers 10..19
/// (1, 2, 3), input registers 0..3, file 4 of 5 records (7, 8).
std::shared_ptr<DeviceContext> configuredDevice() {
  auto device = std::make_shared<DeviceContext>(DeviceTables{
      .coils = std::make_shared<SequentialBitBlock>(0, std::vector<bool>{true, false, true, false, false, false, false,
                                                                          false, false, false, false, false, false,
                                                                          false, false, false}),
      .discreteInputs = SequentialBitBlock::create(0, 8, true),
      .holdingRegisters = std::make_shared<SequentialRegisterBlock>(10, Registers{1, 2, 3, 0, 0, 0, 0, 0, 0, 0}),
      .inputRegisters = SequentialRegisterBlock::create(0, 4, 9),
  });
  device->files().addFile(4, Registers{7, 8, 0, 0, 0});
  return device;
}

TEST_CASE("persistent device: the layout lists the tables and files as configured") {
  auto device = configuredDevice();
  StateLayout layout = persistentLayout(*device);
  REQUIRE(layout.size() == 5);
  CHECK(layout[0] == StateTable{StateTableKind::Coils, 0, 0, 16});
  CHECK(layout[1] == StateTable{StateTableKind::DiscreteInputs, 0, 0, 8});
  CHECK(layout[2] == StateTable{StateTableKind::HoldingRegisters, 0, 10, 10});
  CHECK(layout[3] == StateTable{StateTableKind::InputRegisters, 0, 0, 4});
  CHECK(layout[4] == StateTable{StateTableKind::FileRecords, 4, 0, 5});
}

TEST_CASE("persistent device: a sparse table cannot be persistent, and the error names it") {
  DeviceContext device(DeviceTables{.holdingRegisters = std::make_shared<SparseRegisterBlock>(
                                        std::map<std::uint16_t, std::uint16_t>{{1, 1}, {5, 5}})});
  try {
    persistentLayout(device);
    FAIL("a sparse table was accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("holding_registers: only a table of one range") == 0);
  }
}

TEST_CASE("persistent device: the first start serves the configured values") {
  TempDir dir;
  auto device = configuredDevice();
  auto file = makeDevicePersistent(*device, dir.file("unit-1.state"), SyncPolicy::None);
  CHECK(file->created());
  CHECK(dynamic_cast<PersistentRegisterBlock*>(device->holdingRegisters()) != nullptr);
  CHECK(dynamic_cast<PersistentBitBlock*>(device->coils()) != nullptr);
  CHECK(device->holdingRegisters()->getValues(10, 4) == Registers{1, 2, 3, 0});
  CHECK(device->inputRegisters()->getValues(0, 4) == Registers{9, 9, 9, 9});
  CHECK(device->coils()->getValues(0, 3) == std::vector<bool>{true, false, true});
  CHECK(device->discreteInputs()->getValues(7, 1) == std::vector<bool>{true});
  CHECK(device->files().getRecords(4, 0, 3) == Registers{7, 8, 0});
}

TEST_CASE("persistent device: writes through the request interfaces are restored by a later start") {
  TempDir dir;
  const std::string path = dir.file("unit-1.state");
  {
    auto device = configuredDevice();
    auto file = makeDevicePersistent(*device, path, SyncPolicy::None);
    const std::uint8_t regs[] = {0x12, 0x34, 0xAB, 0xCD};
    CHECK(device->holdingRegisters()->writeRegisters(18, 2, regs) == ExceptionCode::None);
    const std::uint8_t bits[] = {0b00000110, 0b1};
    CHECK(device->coils()->writeBits(7, 9, bits) == ExceptionCode::None);
    const std::uint8_t records[] = {0xFF, 0xFE};
    CHECK(device->files().writeRecords(4, 4, 1, records) == ExceptionCode::None);
    CHECK(device->inputRegisters()->setValues(3, {44}) == ExceptionCode::None);
  }
  auto device = configuredDevice();  // configured values again: the stored ones must win
  auto file = makeDevicePersistent(*device, path, SyncPolicy::None);
  CHECK_FALSE(file->created());
  CHECK(device->holdingRegisters()->getValues(10, 10) == Registers{1, 2, 3, 0, 0, 0, 0, 0, 0x1234, 0xABCD});
  CHECK(device->coils()->getValues(0, 16) ==
        std::vector<bool>{true, false, true, false, false, false, false, false, true, true, false, false, false,
                          false, false, true});
  CHECK(device->files().getRecords(4, 0, 5) == Registers{7, 8, 0, 0, 0xFFFE});
  CHECK(device->inputRegisters()->getValues(0, 4) == Registers{9, 9, 9, 44});
}

TEST_CASE("persistent device: ranges outside a table are refused and change nothing") {
  TempDir dir;
  auto device = configuredDevice();
  auto file = makeDevicePersistent(*device, dir.file("unit-1.state"), SyncPolicy::Always);
  std::uint8_t out[40] = {};
  const std::uint8_t in[4] = {0, 1, 0, 2};
  RegisterBlock& hr = *device->holdingRegisters();
  CHECK(hr.readRegisters(9, 1, out) == ExceptionCode::IllegalDataAddress);
  CHECK(hr.readRegisters(19, 2, out) == ExceptionCode::IllegalDataAddress);
  CHECK(hr.writeRegisters(19, 2, in) == ExceptionCode::IllegalDataAddress);
  CHECK(hr.validate(10, 10));
  CHECK_FALSE(hr.validate(10, 11));
  CHECK(hr.getValues(19, 1) == Registers{0});
  CHECK(device->coils()->writeBits(15, 2, in) == ExceptionCode::IllegalDataAddress);
  CHECK(device->files().writeRecords(4, 4, 2, in) == ExceptionCode::IllegalDataAddress);
  CHECK(hr.writeRegisters(10, 2, in) == ExceptionCode::None);  // with Always: synced, then answered
  CHECK(hr.getValues(10, 2) == Registers{1, 2});
}

TEST_CASE("persistent device: a device whose tables changed is refused and left in memory") {
  TempDir dir;
  const std::string path = dir.file("unit-1.state");
  { makeDevicePersistent(*configuredDevice(), path, SyncPolicy::None); }
  auto device = configuredDevice();
  device->setHoldingRegisters(SequentialRegisterBlock::create(10, 11));
  CHECK_THROWS_AS(makeDevicePersistent(*device, path, SyncPolicy::None), StateFileError);
  CHECK(dynamic_cast<SequentialRegisterBlock*>(device->holdingRegisters()) != nullptr);
  auto reset = makeDevicePersistent(*device, path, SyncPolicy::None, /*reset=*/true);
  CHECK(reset->created());
  CHECK(device->holdingRegisters()->getValues(10, 11) == Registers(11, 0));
}

TEST_CASE("persistent device: a whole 65536-address table round-trips") {
  TempDir dir;
  const std::string path = dir.file("big.state");
  {
    DeviceContext device(DeviceTables{.coils = SequentialBitBlock::create(0, kAddressSpace, true),
                                      .holdingRegisters = SequentialRegisterBlock::create(0, kAddressSpace, 3)});
    makeDevicePersistent(device, path, SyncPolicy::None);
    CHECK(device.holdingRegisters()->setValues(65535, {65535}) == ExceptionCode::None);
  }
  DeviceContext device(DeviceTables{.coils = SequentialBitBlock::create(0, kAddressSpace, true),
                                    .holdingRegisters = SequentialRegisterBlock::create(0, kAddressSpace, 3)});
  makeDevicePersistent(device, path, SyncPolicy::None);
  CHECK(device.holdingRegisters()->getValues(65534, 2) == Registers{3, 65535});
  CHECK(device.coils()->getValues(65535, 1) == std::vector<bool>{true});
}

}  // namespace
}  // namespace modbus
