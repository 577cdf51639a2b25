// Test doubles for the simulator store: a random source that replays a fixed sequence, and a
// store factory with a manual clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "datastore/simulator/simulator_store.h"

namespace modbus::simulator::testing {

/// Returns the given numbers in turn, then starts over.
class SequenceRandom final : public RandomSource {
 public:
  explicit SequenceRandom(std::vector<double> values) : values_(std::move(values)) {}
  double uniform() override { return values_[next_++ % values_.size()]; }

 private:
  std::vector<double> values_;
  std::size_t next_ = 0;
};

struct StoreFixture {
  std::shared_ptr<ManualSimulatorClock> clock = std::make_shared<ManualSimulatorClock>();
  std::shared_ptr<SequenceRandom> random = std::make_shared<SequenceRandom>(std::vector<double>{0.5});
  std::shared_ptr<SimulatorStore> store;

  explicit StoreFixture(std::uint32_t cells, std::vector<double> randoms = {0.5}) {
    random = std::make_shared<SequenceRandom>(std::move(randoms));
    store = std::make_shared<SimulatorStore>(cells, clock, random);
  }

  /// Reads `count` registers from the store directly; empty on an exception.
  std::vector<std::uint16_t> read(std::uint32_t start, std::uint16_t count, ExceptionCode* code = nullptr) {
    std::vector<std::uint8_t> bytes(2 * count);
    const ExceptionCode c = store->readRegisters(start, count, bytes.data());
    if (code) *code = c;
    if (c != ExceptionCode::None) return {};
    std::vector<std::uint16_t> out(count);
    for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<std::uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
    return out;
  }
  ExceptionCode readCode(std::uint32_t start, std::uint16_t count) {
    ExceptionCode code = ExceptionCode::None;
    read(start, count, &code);
    return code;
  }
  ExceptionCode write(std::uint32_t start, std::vector<std::uint16_t> values) {
    std::vector<std::uint8_t> bytes;
    for (std::uint16_t v : values) {
      bytes.push_back(static_cast<std::uint8_t>(v >> 8));
      bytes.push_back(static_cast<std::uint8_t>(v & 0xFF));
    }
    return store->writeRegisters(start, static_cast<std::uint16_t>(values.size()), bytes.data());
  }
};

}  // namespace modbus::simulator::testing
