// Helpers for the simulator's protocol tests: fixture files, a fixed clock and random source,
// and requests run as real PDUs through modbus::RequestProcessor.
#pragma once

#include <array>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "datastore/server_context.h"
#include "protocols/application/pdu.h"
#include "protocols/application/request_processor.h"
#include "protocols/simulator/simulator_setup.h"
#include "tests/datastore/simulator/simulator_test_support.h"
#include "tests/support/subprocess.h"

namespace modbus::simulator::testing {

using Bytes = std::vector<std::uint8_t>;

/// The text of tests/protocols/simulator/data/NAME.
inline std::string fixture(const std::string& name) {
  std::ifstream in(testsupport::sourceDir() + "/tests/protocols/simulator/data/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A loaded device served through a RequestProcessor, with a manual clock and replayed randoms.
struct ServedDevice {
  std::shared_ptr<ManualSimulatorClock> clock = std::make_shared<ManualSimulatorClock>();
  std::shared_ptr<SequenceRandom> random;
  SimulatorDevice device;
  std::unique_ptr<RequestProcessor> processor;

  ServedDevice(const std::string& setupJson, const std::string& name, std::vector<double> randoms = {0.5},
               std::map<std::string, CustomAction> customActions = {})
      : random(std::make_shared<SequenceRandom>(std::move(randoms))) {
    SimulatorSetupOptions options;
    options.clock = clock;
    options.random = random;
    options.customActions = std::move(customActions);
    device = loadSimulatorDevice(setupJson, name, options);
    processor = std::make_unique<RequestProcessor>(ServerContext::single(device.makeContext()));
  }

  Bytes run(const Bytes& request) {
    std::array<std::uint8_t, kMaxPduSize> response{};
    const std::size_t n = processor->process(1, request, response);
    return Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
  }
};

/// fc, then each 16-bit field big-endian.
inline Bytes pdu(std::uint8_t functionCode, std::initializer_list<std::uint16_t> fields) {
  Bytes out{functionCode};
  for (std::uint16_t f : fields) {
    out.push_back(static_cast<std::uint8_t>(f >> 8));
    out.push_back(static_cast<std::uint8_t>(f & 0xFF));
  }
  return out;
}

/// The response to FC 3 / FC 4 carrying `registers`.
inline Bytes registersReply(std::uint8_t functionCode, std::initializer_list<std::uint16_t> registers) {
  Bytes out{functionCode, static_cast<std::uint8_t>(2 * registers.size())};
  for (std::uint16_t r : registers) {
    out.push_back(static_cast<std::uint8_t>(r >> 8));
    out.push_back(static_cast<std::uint8_t>(r & 0xFF));
  }
  return out;
}

inline Bytes exceptionReply(std::uint8_t functionCode, std::uint8_t code) {
  return {static_cast<std::uint8_t>(functionCode | 0x80), code};
}

}  // namespace modbus::simulator::testing
