// The default clock and random source of the simulator's actions.
#include "datastore/simulator/simulator_clock.h"

#include <chrono>
#include <random>

namespace modbus::simulator {
namespace {

class SystemClock final : public SimulatorClock {
 public:
  double monotonicSeconds() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  std::int64_t unixSeconds() override {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class MersenneRandom final : public RandomSource {
 public:
  MersenneRandom() : engine_(std::random_device{}()) {}
  double uniform() override { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace

std::shared_ptr<SimulatorClock> systemSimulatorClock() { return std::make_shared<SystemClock>(); }
std::shared_ptr<RandomSource> defaultRandomSource() { return std::make_shared<MersenneRandom>(); }

}  // namespace modbus::simulator
