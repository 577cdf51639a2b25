// Custom function codes: decode / execute / encode, sub-function dispatch, and the RTU length rule.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "framers/crc16.h"
#include "framers/rtu_framer.h"
#include "protocols/application/custom_function.h"
#include "protocols/application/pdu.h"
#include "protocols/application/request_processor.h"

namespace {

using namespace modbus;
using Bytes = std::vector<std::uint8_t>;

/// FC 0x41 sub 0x01: "sum of N holding registers from address A" → fc, sub, sum (16 bits).
/// Request: fc, sub, address (2), count (1) — a fixed 5-byte PDU.
class SumRegisters final : public CustomFunction {
 public:
  std::uint8_t functionCode() const override { return 0x41; }
  std::optional<std::uint16_t> subFunctionCode() const override { return 0x01; }
  LengthRule requestLength() const override { return LengthRule::fixedPdu(5); }
  ExceptionCode decode(std::span<const std::uint8_t> data) override {
    if (data.size() != 4) return ExceptionCode::IllegalDataValue;
    address_ = readU16BE(&data[1]);
    count_ = data[3];
    return count_ == 0 ? ExceptionCode::IllegalDataValue : ExceptionCode::None;
  }
  ExceptionCode execute(DeviceContext& device) override {
    if (device.holdingRegisters() == nullptr) return ExceptionCode::IllegalDataAddress;
    std::vector<std::uint16_t> values(count_);
    ExceptionCode code = device.holdingRegisters()->getValues(address_, values);
    sum_ = 0;
    for (auto v : values) sum_ = static_cast<std::uint16_t>(sum_ + v);
    return code;
  }
  std::size_t encode(std::span<std::uint8_t> out) override {
    out[0] = 0x01;
    writeU16BE(&out[1], sum_);
    return 3;
  }

 private:
  std::uint16_t address_ = 0;
  std::uint8_t count_ = 0;
  std::uint16_t sum_ = 0;
};

/// FC 0x41 sub 0x02: "clear N registers from address A" → fc, sub, A. Same 5-byte request shape
/// as sub 0x01 (the sub-functions of one code share its RTU length rule).
class ClearRegister final : public CustomFunction {
 public:
  std::uint8_t functionCode() const override { return 0x41; }
  std::optional<std::uint16_t> subFunctionCode() const override { return 0x02; }
  LengthRule requestLength() const override { return LengthRule::fixedPdu(5); }
  ExceptionCode decode(std::span<const std::uint8_t> data) override {
    if (data.size() != 4 || data[3] == 0) return ExceptionCode::IllegalDataValue;
    address_ = readU16BE(&data[1]);
    count_ = data[3];
    return ExceptionCode::None;
  }
  ExceptionCode execute(DeviceContext& device) override {
    return device.holdingRegisters()->setValues(address_, std::vector<std::uint16_t>(count_, 0));
  }
  std::size_t encode(std::span<std::uint8_t> out) override {
    out[0] = 0x02;
    writeU16BE(&out[1], address_);
    return 3;
  }

 private:
  std::uint16_t address_ = 0;
  std::uint8_t count_ = 0;
};

struct Fixture {
  std::shared_ptr<SequentialDataBlock<std::uint16_t>> hr = SequentialDataBlock<std::uint16_t>::create(0, 100, 10);
  RequestProcessor processor{ServerContext::single(std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = hr}))};
  std::array<std::uint8_t, 253> response{};

  Bytes run(const Bytes& request) {
    std::size_t n = processor.process(1, request, response);
    return Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "a custom function decodes its request, executes it on the device and encodes its answer") {
  processor.registerCustomFunction(std::make_shared<SumRegisters>());
  CHECK(run({0x41, 0x01, 0x00, 0x02, 0x03}) == Bytes{0x41, 0x01, 0x00, 30});
}

TEST_CASE_FIXTURE(Fixture, "custom sub-functions of one function code are dispatched on the sub-function byte") {
  processor.registerCustomFunction(std::make_shared<SumRegisters>());
  processor.registerCustomFunction(std::make_shared<ClearRegister>());
  CHECK(run({0x41, 0x02, 0x00, 0x05, 0x01}) == Bytes{0x41, 0x02, 0x00, 0x05});
  CHECK(hr->getValues(5, 1) == std::vector<std::uint16_t>{0});
  CHECK(run({0x41, 0x01, 0x00, 0x04, 0x02}) == Bytes{0x41, 0x01, 0x00, 10});
}

TEST_CASE_FIXTURE(Fixture, "an unregistered custom sub-function is exception 01 and a bad request is the class's code") {
  processor.registerCustomFunction(std::make_shared<SumRegisters>());
  CHECK(run({0x41, 0x07, 0x00, 0x00, 0x01}) == Bytes{0xC1, 0x01});
  CHECK(run({0x41}) == Bytes{0xC1, 0x03});                    // too short for a sub-function
  CHECK(run({0x41, 0x01, 0x00, 0x00, 0x00}) == Bytes{0xC1, 0x03});  // count 0: decode says 03
  CHECK(run({0x41, 0x01, 0x00, 99, 0x05}) == Bytes{0xC1, 0x02});    // past the block: execute says 02
}

TEST_CASE_FIXTURE(Fixture, "a custom function that throws is answered exception 04") {
  struct Throws final : CustomFunction {
    std::uint8_t functionCode() const override { return 0x42; }
    ExceptionCode decode(std::span<const std::uint8_t>) override { return ExceptionCode::None; }
    ExceptionCode execute(DeviceContext&) override { throw std::runtime_error("boom"); }
    std::size_t encode(std::span<std::uint8_t>) override { return 0; }
  };
  processor.registerCustomFunction(std::make_shared<Throws>());
  CHECK(run({0x42, 1, 2}) == Bytes{0xC2, 0x04});
}

TEST_CASE_FIXTURE(Fixture, "custom functions of one code must agree, and a sub-function cannot be registered twice") {
  processor.registerCustomFunction(std::make_shared<SumRegisters>());
  CHECK_THROWS_AS(processor.registerCustomFunction(std::make_shared<SumRegisters>()), std::invalid_argument);
  struct Whole final : CustomFunction {
    std::uint8_t functionCode() const override { return 0x41; }
    ExceptionCode decode(std::span<const std::uint8_t>) override { return ExceptionCode::None; }
    ExceptionCode execute(DeviceContext&) override { return ExceptionCode::None; }
    std::size_t encode(std::span<std::uint8_t>) override { return 0; }
  };
  CHECK_THROWS_AS(processor.registerCustomFunction(std::make_shared<Whole>()), std::invalid_argument);
  CHECK_THROWS_AS(processor.registerCustomFunction(nullptr), std::invalid_argument);
  // The registered one still works.
  CHECK(run({0x41, 0x01, 0x00, 0x00, 0x01}) == Bytes{0x41, 0x01, 0x00, 10});
}

TEST_CASE_FIXTURE(Fixture, "a custom function tells the RTU framer its request length") {
  processor.registerCustomFunction(std::make_shared<SumRegisters>());
  RtuFramer framer;
  CHECK(framer.lengthRule(0x41) == LengthRule::untilGap());
  processor.configureFramer(framer);
  CHECK(framer.lengthRule(0x41) == LengthRule::fixedPdu(5));
  // Two custom frames back to back, no gap: both are cut by the rule.
  Bytes adu{0x01, 0x41, 0x01, 0x00, 0x02, 0x03};
  std::uint16_t crc = crc16(adu);
  adu.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  adu.push_back(static_cast<std::uint8_t>(crc >> 8));
  Bytes two = adu;
  two.insert(two.end(), adu.begin(), adu.end());
  DecodeResult r = framer.decode(two);
  REQUIRE(r.status == DecodeStatus::Frame);
  CHECK(r.consumed == 8);
  CHECK(Bytes(r.pdu.begin(), r.pdu.end()) == Bytes{0x41, 0x01, 0x00, 0x02, 0x03});
}
