// Shared fixture of the device function tests (device_functions_test.cc, device_data_functions_test.cc):
// two units with ten holding registers each behind one RequestProcessor, and request builders.
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "datastore/sequential_data_block.h"
#include "protocols/application/pdu.h"
#include "protocols/application/request_processor.h"

namespace modbus::devicetest {

using Bytes = std::vector<std::uint8_t>;

inline std::shared_ptr<DeviceContext> makeDevice() {
  return std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = SequentialRegisterBlock::create(0, 10)});
}

// Units 1 and 2, each with ten holding registers.
struct Fixture {
  std::shared_ptr<DeviceContext> d1 = makeDevice();
  std::shared_ptr<DeviceContext> d2 = makeDevice();
  RequestProcessor processor{ServerContext::multiple({{1, d1}, {2, d2}})};

  Bytes run(const Bytes& request, std::uint8_t unit = 1) {
    std::array<std::uint8_t, kMaxPduSize> response{};
    const std::size_t n = processor.process(unit, request, response);
    REQUIRE(n <= response.size());
    return Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
  }
  ControlBlock& c1() { return d1->control(); }
  std::uint16_t counter(DiagnosticCounter which, const std::shared_ptr<DeviceContext>& d) const {
    return d->control().counter(which);
  }
};

// fc, then each 16-bit field big-endian.
inline Bytes request(std::uint8_t functionCode, std::initializer_list<std::uint16_t> fields) {
  Bytes out{functionCode};
  for (std::uint16_t f : fields) {
    out.push_back(static_cast<std::uint8_t>(f >> 8));
    out.push_back(static_cast<std::uint8_t>(f & 0xFF));
  }
  return out;
}

inline Bytes diag(std::uint16_t sub, std::uint16_t data = 0) { return request(0x08, {sub, data}); }

inline Bytes exception(std::uint8_t functionCode, std::uint8_t code) {
  return {static_cast<std::uint8_t>(functionCode | 0x80), code};
}

// The value an FC 8 counter sub-function returns (checked to be a well-formed echo).
inline std::uint16_t diagValue(const Bytes& answer, std::uint16_t sub) {
  REQUIRE(answer.size() == 5);
  REQUIRE(answer[0] == 0x08);
  REQUIRE(readU16BE(&answer[1]) == sub);
  return readU16BE(&answer[3]);
}

inline const Bytes kReadOne = request(0x03, {0, 1});
inline const Bytes kReadBad = request(0x03, {0, 0});  // quantity 0 → exception 03

// All eight counters of a device, in CPT order.
inline std::array<std::uint16_t, 8> counters(const DeviceContext& d) {
  std::array<std::uint16_t, 8> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = d.control().counter(static_cast<DiagnosticCounter>(i));
  return out;
}

using Counters = std::array<std::uint16_t, 8>;

}  // namespace modbus::devicetest
