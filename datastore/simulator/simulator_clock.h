// Where the simulator's actions get time and chance: an injectable clock (uptime, the waveform
// generators, timestamp) and random source (random, random_walk), so that tests are exact.
// Rules: the defaults read the system clocks and a std::mt19937_64; neither allocates per call.
// Tests: tests/datastore/simulator/simulator_store_test.cc (ManualSimulatorClock, SequenceRandom)
#pragma once

#include <cstdint>
#include <memory>

namespace modbus::simulator {

/// Time as the actions need it.
class SimulatorClock {
 public:
  virtual ~SimulatorClock() = default;
  /// Seconds on a monotonic scale (uptime, sine/ramp/square phase).
  virtual double monotonicSeconds() = 0;
  /// Seconds since 1970-01-01 UTC (timestamp).
  virtual std::int64_t unixSeconds() = 0;
};

/// Chance as the actions need it.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  /// A number uniform in [0, 1).
  virtual double uniform() = 0;
};

/// steady_clock and system_clock.
std::shared_ptr<SimulatorClock> systemSimulatorClock();
/// A std::mt19937_64 seeded from std::random_device.
std::shared_ptr<RandomSource> defaultRandomSource();

/// A clock the caller sets (tests, replays).
class ManualSimulatorClock final : public SimulatorClock {
 public:
  double monotonicSeconds() override { return monotonic_; }
  std::int64_t unixSeconds() override { return unix_; }
  void setMonotonic(double seconds) { monotonic_ = seconds; }
  void advance(double seconds) { monotonic_ += seconds; }
  void setUnix(std::int64_t seconds) { unix_ = seconds; }

 private:
  double monotonic_ = 0;
  std::int64_t unix_ = 0;
};

}  // namespace modbus::simulator
