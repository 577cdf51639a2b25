// Tests for protocols/devices/async_device.h: DelayedDevice, the model asynchronous datastore, on a
// ManualClock; and an asynchronous unit behind a TCP connection answered in request order.
#include "protocols/devices/async_device.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "reactor/delayed_call.h"

namespace modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::shared_ptr<DeviceContext> makeDevice() {
  return std::make_shared<DeviceContext>(
      DeviceTables{.holdingRegisters = SequentialRegisterBlock::create(0, 10, 0x0102)});
}

/// Records each completion's PDU.
struct Answers {
  std::vector<Bytes> got;
  Completion completion() {
    return [this](std::span<const std::uint8_t> pdu) { got.emplace_back(pdu.begin(), pdu.end()); };
  }
};

TEST_CASE("DelayedDevice answers from its device once the delay has passed, not before") {
  reactor::ManualClock clock;
  DelayedDevice device(clock, makeDevice(), 0.5);
  Answers answers;
  const Bytes read{0x03, 0x00, 0x00, 0x00, 0x01};
  device.submit(1, read, answers.completion());
  CHECK(device.submitted() == 1);
  clock.advance(0.49);
  CHECK(answers.got.empty());
  clock.advance(0.01);
  CHECK(answers.got == std::vector<Bytes>{{0x03, 0x02, 0x01, 0x02}});
}

TEST_CASE("DelayedDevice answers requests in the order they were submitted, exceptions included") {
  reactor::ManualClock clock;
  auto backing = makeDevice();
  DelayedDevice device(clock, backing, 0.1);
  Answers answers;
  device.submit(1, Bytes{0x06, 0x00, 0x01, 0xBE, 0xEF}, answers.completion());
  device.submit(1, Bytes{0x03, 0x00, 0x01, 0x00, 0x01}, answers.completion());
  device.submit(1, Bytes{0x03, 0x00, 0x09, 0x00, 0x02}, answers.completion());
  clock.advance(0.1);
  CHECK(answers.got == std::vector<Bytes>{{0x06, 0x00, 0x01, 0xBE, 0xEF}, {0x03, 0x02, 0xBE, 0xEF}, {0x83, 0x02}});
  CHECK(backing->holdingRegisters()->getValues(1, 1) == std::vector<std::uint16_t>{0xBEEF});
}

TEST_CASE("DelayedDevice counts in its device's diagnostics like a synchronous unit") {
  reactor::ManualClock clock;
  auto backing = makeDevice();
  DelayedDevice device(clock, backing, 0.0);
  Answers answers;
  device.submit(7, Bytes{0x08, 0x00, 0x0B, 0x00, 0x00}, answers.completion());
  clock.advance(0);
  CHECK(answers.got == std::vector<Bytes>{{0x08, 0x00, 0x0B, 0x00, 0x01}});
  CHECK(backing->control().counter(DiagnosticCounter::ServerMessage) == 1);
}

TEST_CASE("DelayedDevice setDelay applies to requests submitted afterwards") {
  reactor::ManualClock clock;
  DelayedDevice device(clock, makeDevice(), 1.0);
  Answers answers;
  device.submit(1, Bytes{0x03, 0x00, 0x00, 0x00, 0x01}, answers.completion());
  device.setDelay(0.2);
  CHECK(device.delay() == doctest::Approx(0.2));
  device.submit(1, Bytes{0x03, 0x00, 0x09, 0x00, 0x02}, answers.completion());
  clock.advance(0.2);
  CHECK(answers.got == std::vector<Bytes>{{0x83, 0x02}});
  clock.advance(0.8);
  CHECK(answers.got.size() == 2);
}

TEST_CASE("destroying a DelayedDevice answers the requests still waiting 0x0A at their time") {
  reactor::ManualClock clock;
  Answers answers;
  {
    DelayedDevice device(clock, makeDevice(), 0.5);
    device.submit(1, Bytes{0x03, 0x00, 0x00, 0x00, 0x01}, answers.completion());
  }
  clock.advance(0.4);
  CHECK(answers.got.empty());
  clock.advance(0.1);
  CHECK(answers.got == std::vector<Bytes>{{0x83, 0x0A}});
}

}  // namespace
}  // namespace modbus
