// Tests for datastore/data_block.h: the typed API on top of the hot interface, and range helpers.
#include "datastore/data_block.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <stdexcept>
#include <vector>

namespace modbus {
namespace {

// A register block that records each hot call and can be told what to answer.
class RecordingRegisterBlock final : public RegisterBlock {
 public:
  std::vector<std::uint16_t> store = std::vector<std::uint16_t>(kAddressSpace, 0);
  ExceptionCode answer = ExceptionCode::None;
  bool writable = true;
  int reads = 0;
  int writes = 0;
  std::vector<std::pair<std::uint16_t, std::uint16_t>> calls;

  ExceptionCode readRegisters(std::uint16_t address, std::uint16_t count, std::uint8_t* out) override {
    ++reads;
    calls.emplace_back(address, count);
    if (answer != ExceptionCode::None) return answer;
    for (std::size_t i = 0; i < count; ++i) {
      out[2 * i] = static_cast<std::uint8_t>(store[address + i] >> 8);
      out[2 * i + 1] = static_cast<std::uint8_t>(store[address + i]);
    }
    return ExceptionCode::None;
  }
  ExceptionCode writeRegisters(std::uint16_t address, std::uint16_t count, const std::uint8_t* in) override {
    ++writes;
    calls.emplace_back(address, count);
    if (answer != ExceptionCode::None) return answer;
    for (std::size_t i = 0; i < count; ++i) {
      store[address + i] = static_cast<std::uint16_t>((in[2 * i] << 8) | in[2 * i + 1]);
    }
    return ExceptionCode::None;
  }
  bool validate(std::uint16_t address, std::uint16_t count) const override {
    return fitsAddressSpace(address, count);
  }
  bool validateWrite(std::uint16_t address, std::uint16_t count) const override {
    return writable && validate(address, count);
  }
};

class RecordingBitBlock final : public BitBlock {
 public:
  std::vector<std::uint8_t> store = std::vector<std::uint8_t>(kAddressSpace, 0);
  ExceptionCode answer = ExceptionCode::None;
  int writes = 0;

  ExceptionCode readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* out) override {
    if (answer != ExceptionCode::None) return answer;
    for (std::size_t i = 0; i < (count + 7u) / 8u; ++i) out[i] = 0;
    for (std::size_t i = 0; i < count; ++i) {
      out[i / 8] = static_cast<std::uint8_t>(out[i / 8] | (store[address + i] << (i % 8)));
    }
    return ExceptionCode::None;
  }
  ExceptionCode writeBits(std::uint16_t address, std::uint16_t count, const std::uint8_t* in) override {
    ++writes;
    if (answer != ExceptionCode::None) return answer;
    for (std::size_t i = 0; i < count; ++i) store[address + i] = (in[i / 8] >> (i % 8)) & 1;
    return ExceptionCode::None;
  }
  bool validate(std::uint16_t address, std::uint16_t count) const override {
    return fitsAddressSpace(address, count);
  }
};

}  // namespace

TEST_CASE("fitsAddressSpace accepts ranges ending at 65536 and rejects any wrap-around") {
  CHECK(fitsAddressSpace(0, 65536));
  CHECK(fitsAddressSpace(65535, 1));
  CHECK(fitsAddressSpace(65535, 0));
  CHECK_FALSE(fitsAddressSpace(65535, 2));
  CHECK_FALSE(fitsAddressSpace(1, 65536));
  CHECK_FALSE(fitsAddressSpace(65536, 0));
}

TEST_CASE("register getValues converts the big-endian hot read into host values in one call") {
  RecordingRegisterBlock block;
  block.store[10] = 0x1234;
  block.store[11] = 0xABCD;
  CHECK(block.getValues(10, 2) == std::vector<std::uint16_t>{0x1234, 0xABCD});
  CHECK(block.reads == 1);
}

TEST_CASE("register setValues writes host values through one big-endian hot write") {
  RecordingRegisterBlock block;
  CHECK(block.setValues(7, {0x0102, 0xFFFE, 3}) == ExceptionCode::None);
  CHECK(block.store[7] == 0x0102);
  CHECK(block.store[8] == 0xFFFE);
  CHECK(block.store[9] == 3);
  CHECK(block.writes == 1);
}

TEST_CASE("register getValues throws out_of_range for IllegalDataAddress and runtime_error otherwise") {
  RecordingRegisterBlock block;
  block.answer = ExceptionCode::IllegalDataAddress;
  CHECK_THROWS_AS(block.getValues(0, 1), std::out_of_range);
  block.answer = ExceptionCode::ServerDeviceBusy;
  CHECK_THROWS_AS(block.getValues(0, 1), std::runtime_error);
  std::array<std::uint16_t, 2> out{};
  CHECK(block.getValues(0, std::span<std::uint16_t>(out)) == ExceptionCode::ServerDeviceBusy);
}

TEST_CASE("typed register access past address 65535 is IllegalDataAddress without calling the block") {
  RecordingRegisterBlock block;
  std::vector<std::uint16_t> two(2, 1);
  CHECK(block.setValues(65535, two) == ExceptionCode::IllegalDataAddress);
  std::array<std::uint16_t, 2> out{};
  CHECK(block.getValues(65535, std::span<std::uint16_t>(out)) == ExceptionCode::IllegalDataAddress);
  CHECK(block.reads == 0);
  CHECK(block.writes == 0);
}

TEST_CASE("typed zero-length register access succeeds and touches nothing") {
  RecordingRegisterBlock block;
  CHECK(block.getValues(100, 0).empty());
  CHECK(block.setValues(100, {}) == ExceptionCode::None);
  CHECK(block.reads == 0);
  CHECK(block.writes == 0);
}

TEST_CASE("a 65536-register typed write is split in two halves after validating both") {
  RecordingRegisterBlock block;
  std::vector<std::uint16_t> all(kAddressSpace);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i ^ 0x5A5A);
  CHECK(block.setValues(0, all) == ExceptionCode::None);
  CHECK(block.writes == 2);
  CHECK(block.store == all);

  std::vector<std::uint16_t> back(kAddressSpace);
  CHECK(block.getValues(0, std::span<std::uint16_t>(back)) == ExceptionCode::None);
  CHECK(back == all);
}

TEST_CASE("a 65536-register typed write rejected by validateWrite changes nothing") {
  RecordingRegisterBlock block;
  block.writable = false;
  std::vector<std::uint16_t> all(kAddressSpace, 9);
  CHECK(block.setValues(0, all) == ExceptionCode::IllegalDataAddress);
  CHECK(block.writes == 0);
  CHECK(block.store[0] == 0);
}

TEST_CASE("bit getValues and setValues pack LSB first through the hot interface") {
  RecordingBitBlock block;
  CHECK(block.setValues(3, {true, false, true, true, false, false, false, false, true}) == ExceptionCode::None);
  CHECK(block.writes == 1);
  CHECK(block.store[3] == 1);
  CHECK(block.store[4] == 0);
  CHECK(block.store[5] == 1);
  CHECK(block.store[6] == 1);
  CHECK(block.store[11] == 1);
  CHECK(block.getValues(3, 9) == std::vector<bool>{true, false, true, true, false, false, false, false, true});
}

TEST_CASE("bit setValues accepts a span of bool") {
  RecordingBitBlock block;
  const std::array<bool, 3> values{false, true, true};
  CHECK(block.setValues(65533, std::span<const bool>(values)) == ExceptionCode::None);
  std::array<bool, 3> out{};
  CHECK(block.getValues(65533, std::span<bool>(out)) == ExceptionCode::None);
  CHECK(out == values);
}

TEST_CASE("bit typed access reports the block's exception code") {
  RecordingBitBlock block;
  block.answer = ExceptionCode::ServerDeviceFailure;
  CHECK(block.setValues(0, {true}) == ExceptionCode::ServerDeviceFailure);
  CHECK_THROWS_AS(block.getValues(0, 1), std::runtime_error);
  block.answer = ExceptionCode::IllegalDataAddress;
  CHECK_THROWS_AS(block.getValues(0, 1), std::out_of_range);
  CHECK(block.setValues(65535, {true, true}) == ExceptionCode::IllegalDataAddress);
}

TEST_CASE("a 65536-bit typed write and read round-trip through two halves") {
  RecordingBitBlock block;
  std::vector<bool> all(kAddressSpace);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = (i % 3) == 0;
  CHECK(block.setValues(0, all) == ExceptionCode::None);
  CHECK(block.writes == 2);
  std::unique_ptr<bool[]> back(new bool[kAddressSpace]);
  CHECK(block.getValues(0, std::span<bool>(back.get(), kAddressSpace)) == ExceptionCode::None);
  bool same = true;
  for (std::size_t i = 0; i < all.size(); ++i) same = same && back[i] == all[i];
  CHECK(same);
}

TEST_CASE("exceptionCodeName names every exception code") {
  CHECK(std::string(exceptionCodeName(ExceptionCode::IllegalDataAddress)) == "IllegalDataAddress");
  CHECK(std::string(exceptionCodeName(ExceptionCode::GatewayTargetDeviceFailedToRespond)) ==
        "GatewayTargetDeviceFailedToRespond");
  CHECK(std::string(exceptionCodeName(static_cast<ExceptionCode>(0x55))) == "Unknown");
}

}  // namespace modbus
