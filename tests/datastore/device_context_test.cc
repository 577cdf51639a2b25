// Tests for datastore/device_context.h.
#include "datastore/device_context.h"

#include <doctest/doctest.h>

#include "datastore/sequential_data_block.h"

namespace modbus {

TEST_CASE("device context returns its tables and nullptr for the ones left out") {
  auto co = SequentialBitBlock::create(0, 8);
  auto hr = SequentialRegisterBlock::create(0, 8);
  DeviceContext device(DeviceTables{.coils = co, .holdingRegisters = hr});
  CHECK(device.coils() == co.get());
  CHECK(device.holdingRegisters() == hr.get());
  CHECK(device.discreteInputs() == nullptr);
  CHECK(device.inputRegisters() == nullptr);
  CHECK(device.addressOffset() == 0);

  DeviceContext empty;
  CHECK(empty.coils() == nullptr);
  empty.setInputRegisters(hr);
  empty.setDiscreteInputs(co);
  CHECK(empty.inputRegisters() == hr.get());
  CHECK(empty.discreteInputs() == co.get());
}

TEST_CASE("device context maps wire addresses to block addresses unchanged by default") {
  DeviceContext device;
  CHECK(device.blockAddress(0, 1) == std::optional<std::uint16_t>(0));
  CHECK(device.blockAddress(65535, 1) == std::optional<std::uint16_t>(65535));
  CHECK_FALSE(device.blockAddress(65535, 2).has_value());
}

TEST_CASE("device context address offset shifts the range and refuses to wrap") {
  DeviceContext pymodbusStyle({}, 1);
  CHECK(pymodbusStyle.blockAddress(0, 3) == std::optional<std::uint16_t>(1));
  CHECK(pymodbusStyle.blockAddress(65534, 1) == std::optional<std::uint16_t>(65535));
  CHECK_FALSE(pymodbusStyle.blockAddress(65535, 1).has_value());

  DeviceContext negative;
  negative.setAddressOffset(-100);
  CHECK(negative.addressOffset() == -100);
  CHECK(negative.blockAddress(100, 1) == std::optional<std::uint16_t>(0));
  CHECK_FALSE(negative.blockAddress(99, 1).has_value());
}

}  // namespace modbus
