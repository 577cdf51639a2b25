// Port of pymodbus's custom message example (examples/custom_msg.py): a function code of our own,
// 55, that pymodbus registers with custom_pdu=[CustomRequest]. pymodbus's custom PDUs cannot have
// sub-functions (its open PR #2753); here FC 55 has two, each a CustomFunction class:
//   55 01 ADDRESS(2) COUNT(1) → 55 01 BYTE_COUNT REGISTERS...   read COUNT holding registers
//   55 02 ADDRESS(2) COUNT(1) → 55 02 SUM(2)                    their sum, modulo 65536
// Any other sub-function is exception 01; a count of 0 or over 125 is 03; past the table is 02.
// Usage: 07_custom_function [ENDPOINT] (default "tcp:5020:interface=127.0.0.1").
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "framers/bytes_be.h"
#include "protocols/application/custom_function.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/application/pdu.h"
#include "reactor/reactor.h"

namespace {

constexpr std::uint8_t kCustomFunction = 55;

/// What both sub-functions share: the request "sub, address, count", a 5-byte PDU (so that the
/// RTU framer can cut it, pymodbus's rtu_frame_size), decoded and the registers fetched.
class RegisterFunction : public modbus::CustomFunction {
 public:
  std::uint8_t functionCode() const override { return kCustomFunction; }
  modbus::LengthRule requestLength() const override { return modbus::LengthRule::fixedPdu(5); }

  modbus::ExceptionCode decode(std::span<const std::uint8_t> data) override {
    if (data.size() != 4) return modbus::ExceptionCode::IllegalDataValue;
    address_ = modbus::readU16BE(&data[1]);
    count_ = data[3];
    if (count_ == 0 || count_ > modbus::pdu::kMaxReadRegisters) return modbus::ExceptionCode::IllegalDataValue;
    return modbus::ExceptionCode::None;
  }
  modbus::ExceptionCode execute(modbus::DeviceContext& device) override {
    if (device.holdingRegisters() == nullptr) return modbus::ExceptionCode::IllegalDataAddress;
    values_.resize(count_);
    return device.holdingRegisters()->getValues(address_, values_);
  }

 protected:
  std::uint16_t address_ = 0;
  std::uint8_t count_ = 0;
  std::vector<std::uint16_t> values_;
};

/// 55 / 01: the registers themselves (pymodbus's CustomModbusResponse: byte count, then values).
class ReadRegisters final : public RegisterFunction {
 public:
  std::optional<std::uint16_t> subFunctionCode() const override { return 0x01; }
  std::size_t encode(std::span<std::uint8_t> out) override {
    out[0] = 0x01;
    out[1] = static_cast<std::uint8_t>(2 * values_.size());
    for (std::size_t i = 0; i < values_.size(); ++i) modbus::writeU16BE(&out[2 + 2 * i], values_[i]);
    return 2 + 2 * values_.size();
  }
};

/// 55 / 02: their sum.
class SumRegisters final : public RegisterFunction {
 public:
  std::optional<std::uint16_t> subFunctionCode() const override { return 0x02; }
  std::size_t encode(std::span<std::uint8_t> out) override {
    std::uint16_t sum = 0;
    for (std::uint16_t v : values_) sum = static_cast<std::uint16_t>(sum + v);
    out[0] = 0x02;
    modbus::writeU16BE(&out[1], sum);
    return 3;
  }
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string endpoint = argc > 1 ? argv[1] : "tcp:5020:interface=127.0.0.1";
    // Holding registers 0..99 = 0, 1, 2, ... so that answers are easy to check by eye.
    auto holding = modbus::SequentialRegisterBlock::create(0, 100);
    for (std::uint16_t i = 0; i < 100; ++i) holding->setValues(i, {i});
    auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{.holdingRegisters = holding});

    reactor::Reactor reactor;
    modbus::ModbusTcpServer server(reactor, modbus::ServerContext::single(device));
    server.factory().registerCustomFunction(std::make_shared<ReadRegisters>());
    server.factory().registerCustomFunction(std::make_shared<SumRegisters>());
    server.listen(endpoint);
    reactor.run();  // until Ctrl-C / SIGTERM
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "07_custom_function: %s\nusage: 07_custom_function [ENDPOINT]\n", e.what());
    return 1;
  }
}
