// RequestProcessor options of issue 3: broadcast_enable and the missing-unit answer.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/application/request_processor.h"

namespace {

using namespace modbus;
using Bytes = std::vector<std::uint8_t>;

std::shared_ptr<DeviceContext> device() {
  return std::make_shared<DeviceContext>(DeviceTables{.coils = SequentialDataBlock<bool>::create(0, 10),
                                                      .holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 10)});
}

Bytes run(RequestProcessor& p, std::uint8_t unit, const Bytes& request) {
  std::array<std::uint8_t, 253> response{};
  std::size_t n = p.process(unit, request, response);
  return Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace

TEST_CASE("with broadcastEnable a unit 0 write runs on every device and gets no answer") {
  auto d1 = device();
  auto d2 = device();
  RequestProcessor p(ServerContext::multiple({{1, d1}, {2, d2}}), ProcessorOptions{.broadcastEnable = true});
  int observed = 0;
  p.writeObservers().subscribe(std::nullopt, ModbusTable::HoldingRegisters, {0, 9},
                               [&](const WriteEvent&) { ++observed; });
  CHECK(run(p, 0, {0x06, 0, 3, 0x12, 0x34}).empty());
  CHECK(d1->holdingRegisters()->getValues(3, 1) == std::vector<std::uint16_t>{0x1234});
  CHECK(d2->holdingRegisters()->getValues(3, 1) == std::vector<std::uint16_t>{0x1234});
  CHECK(observed == 2);
  CHECK(run(p, 0, {0x0F, 0, 0, 0, 2, 1, 3}).empty());
  CHECK(d2->coils()->getValues(0, 2) == std::vector<bool>{true, true});
}

TEST_CASE("with broadcastEnable a unit 0 read is ignored") {
  RequestProcessor p(ServerContext::multiple({{1, device()}}), ProcessorOptions{.broadcastEnable = true});
  CHECK(run(p, 0, {0x03, 0, 0, 0, 1}).empty());
}

TEST_CASE("a device shared by several unit ids is written once by a broadcast") {
  auto d = device();
  RequestProcessor p(ServerContext::multiple({{1, d}, {2, d}}), ProcessorOptions{.broadcastEnable = true});
  // FC22 applied twice would differ: AND 0, OR +1 bits on a changing value stays equal, so count writes.
  int writes = 0;
  p.writeObservers().subscribe(std::nullopt, ModbusTable::HoldingRegisters, {0, 9}, [&](const WriteEvent&) { ++writes; });
  run(p, 0, {0x06, 0, 0, 0, 9});
  CHECK(writes == 1);
}

TEST_CASE("without broadcastEnable unit 0 is an ordinary unit id") {
  RequestProcessor single(ServerContext::single(device()));
  CHECK(run(single, 0, {0x03, 0, 0, 0, 1}) == Bytes{0x03, 2, 0, 0});
  RequestProcessor multiple(ServerContext::multiple({{1, device()}}));
  CHECK(run(multiple, 0, {0x03, 0, 0, 0, 1}) == Bytes{0x83, 0x0B});
}

TEST_CASE("a missing unit is answered 0x0B, 0x0A or nothing as missingUnit says, and ignoreMissingSlaves wins") {
  auto context = ServerContext::multiple({{1, device()}});
  RequestProcessor b(context);
  CHECK(run(b, 9, {0x03, 0, 0, 0, 1}) == Bytes{0x83, 0x0B});
  RequestProcessor a(context, ProcessorOptions{.missingUnit = MissingUnit::Exception0A});
  CHECK(run(a, 9, {0x03, 0, 0, 0, 1}) == Bytes{0x83, 0x0A});
  RequestProcessor silent(context, ProcessorOptions{.missingUnit = MissingUnit::Silent});
  CHECK(run(silent, 9, {0x03, 0, 0, 0, 1}).empty());
  RequestProcessor alias(context, ProcessorOptions{.ignoreMissingSlaves = true, .missingUnit = MissingUnit::Exception0A});
  CHECK(run(alias, 9, {0x03, 0, 0, 0, 1}).empty());
}

TEST_CASE("missing_unit names parse as the configuration spells them") {
  CHECK(missingUnitFromName("silent") == MissingUnit::Silent);
  CHECK(missingUnitFromName("exception_0A") == MissingUnit::Exception0A);
  CHECK(missingUnitFromName("exception_0B") == MissingUnit::Exception0B);
  CHECK_FALSE(missingUnitFromName("0x0B").has_value());
}

TEST_CASE("process() answers an asynchronous unit 0x0A: that transport cannot wait for it") {
  struct Never final : AsyncDevice {
    void submit(std::uint8_t, std::span<const std::uint8_t>, Completion) override {}
  };
  RequestProcessor p(ServerContext::multiple({{1, device()}}));
  p.setAsyncDevice(5, std::make_shared<Never>());
  CHECK(p.asyncDeviceFor(5) != nullptr);
  CHECK(p.asyncDeviceFor(1) == nullptr);
  CHECK(run(p, 5, {0x03, 0, 0, 0, 1}) == Bytes{0x83, 0x0A});
  p.setAsyncDevice(5, nullptr);
  CHECK(p.asyncDeviceFor(5) == nullptr);
}
