// Tests for the read actions of datastore/simulator/simulator_store.h, with a manual clock and a
// replayed random sequence so that every value is exact.
#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "datastore/simulator/simulator_store.h"
#include "tests/datastore/simulator/simulator_test_support.h"
#include "tests/support/scoped_time_zone.h"

namespace modbus::simulator {
namespace {

using testing::StoreFixture;
using Regs = std::vector<std::uint16_t>;

ActionParameters range(long double minval, long double maxval) {
  ActionParameters p;
  p.minval = minval;
  p.maxval = maxval;
  return p;
}

TEST_CASE("increment adds one on every read and wraps from maxval to minval") {
  StoreFixture f(2);
  f.store->defineValue(0, CellType::Uint16, {}, {50}, f.store->addAction(ActionKind::Increment, range(45, 155)));
  CHECK(f.read(0, 1) == Regs{51});
  CHECK(f.read(0, 1) == Regs{52});
  f.store->setRegister(0, 155);
  CHECK(f.read(0, 1) == Regs{45});
}

TEST_CASE("increment without parameters wraps at the type's range") {
  StoreFixture f(3);
  f.store->defineValue(0, CellType::Uint16, {}, {65535}, f.store->addAction(ActionKind::Increment));
  f.store->defineValue(1, CellType::Uint32, {}, {0x0000, 0xFFFF}, f.store->addAction(ActionKind::Increment));
  CHECK(f.read(0, 1) == Regs{0});
  CHECK(f.read(1, 2) == Regs{0x0001, 0x0000});
}

TEST_CASE("increment on float32 adds 1.0") {
  StoreFixture f(2);
  Regs regs(2);
  encodeNumber(CellType::Float32, {}, 115.7L, regs.data());
  f.store->defineValue(0, CellType::Float32, {}, regs, f.store->addAction(ActionKind::Increment));
  f.read(0, 2);
  CHECK(static_cast<float>(f.store->number(0)) == static_cast<float>(115.7f + 1.0L));
}

TEST_CASE("random draws uniformly in [minval, maxval]") {
  StoreFixture f(3, {0.5, 0.0, 0.999, 0.25});
  f.store->defineValue(0, CellType::Uint16, {}, {50}, f.store->addAction(ActionKind::Random, range(45, 55)));
  Regs f32(2);
  f.store->defineValue(1, CellType::Float32, {}, f32, f.store->addAction(ActionKind::Random, range(15.0, 25.0)));
  CHECK(f.read(0, 1) == Regs{50});  // 45 + floor(0.5 * 11)
  CHECK(f.read(0, 1) == Regs{45});
  CHECK(f.read(0, 1) == Regs{55});
  CHECK(f.read(1, 2) == Regs{0x418C, 0x0000});  // 15 + 0.25 * 10 = 17.5
}


TEST_CASE("timestamp writes year, month-1, day, weekday+1, hour, minute, second") {
  testsupport::ScopedTimeZone utc("UTC0");
  StoreFixture f(8);
  f.store->defineValue(0, CellType::Uint16, {}, {0}, f.store->addAction(ActionKind::Timestamp));
  for (std::uint32_t i = 1; i < 7; ++i) f.store->defineValue(i, CellType::Uint16, {}, {0});
  f.clock->setUnix(1700000000);  // Tuesday 2023-11-14 22:13:20 UTC
  CHECK(f.read(0, 7) == Regs{2023, 10, 14, 2, 22, 13, 20});
}

TEST_CASE("timestamp is local time, as pymodbus's datetime.now()") {
  testsupport::ScopedTimeZone tokyo("JST-9");  // UTC+9, no daylight saving
  StoreFixture f(8);
  f.store->defineValue(0, CellType::Uint16, {}, {0}, f.store->addAction(ActionKind::Timestamp));
  for (std::uint32_t i = 1; i < 7; ++i) f.store->defineValue(i, CellType::Uint16, {}, {0});
  f.clock->setUnix(1700000000);  // 22:13:20 UTC on Tuesday is 07:13:20 on Wednesday the 15th in Tokyo
  CHECK(f.read(0, 7) == Regs{2023, 10, 15, 3, 7, 13, 20});
}

TEST_CASE("uptime is whole seconds since the store was created, plus one") {
  StoreFixture f(1);
  f.clock->setMonotonic(1000);  // the store was created at 0
  f.store->defineValue(0, CellType::Uint16, {}, {0}, f.store->addAction(ActionKind::Uptime));
  f.clock->setMonotonic(41.5);
  CHECK(f.read(0, 1) == Regs{42});
}

TEST_CASE("reset restores every configured value (pymodbus answers 04 instead)") {
  StoreFixture f(3);
  f.store->defineValue(0, CellType::Uint16, {}, {10});
  f.store->defineValue(1, CellType::Uint16, {}, {20});
  f.store->defineValue(2, CellType::Uint16, {}, {0}, f.store->addAction(ActionKind::Reset));
  f.store->setWritable(0, true);
  f.store->commitConfiguredValues();
  CHECK(f.write(0, {99}) == ExceptionCode::None);
  CHECK(f.read(0, 1) == Regs{99});
  CHECK(f.read(0, 3) == Regs{10, 20, 0});
}

TEST_CASE("sine, ramp and square follow the clock") {
  StoreFixture f(6);
  ActionParameters p;
  p.period = 4;
  p.amplitude = 10;
  p.offset = 100;
  f.store->defineValue(0, CellType::Int16, {}, {0}, f.store->addAction(ActionKind::Sine, p));
  f.store->defineValue(1, CellType::Uint16, {}, {0}, f.store->addAction(ActionKind::Square, p));
  Regs f32(2);
  f.store->defineValue(2, CellType::Float32, {}, f32, f.store->addAction(ActionKind::Ramp, p));
  f.store->defineValue(4, CellType::Float32, {}, f32, f.store->addAction(ActionKind::Sine, p));
  f.clock->setMonotonic(1);
  CHECK(f.read(0, 2) == Regs{110, 110});
  f.read(2, 2);
  CHECK(static_cast<float>(f.store->number(2)) == 95.0f);  // 90 + 20 * 1/4
  f.clock->setMonotonic(3);
  CHECK(f.read(0, 2) == Regs{90, 90});
  f.clock->setMonotonic(0.5);
  f.read(4, 2);
  CHECK(static_cast<float>(f.store->number(4)) == doctest::Approx(107.0710678f));
}

TEST_CASE("generators are clamped to minval and maxval") {
  StoreFixture f(1);
  ActionParameters p = range(0, 105);
  p.period = 4;
  p.amplitude = 10;
  p.offset = 100;
  f.store->defineValue(0, CellType::Uint16, {}, {0}, f.store->addAction(ActionKind::Sine, p));
  f.clock->setMonotonic(1);
  CHECK(f.read(0, 1) == Regs{105});
}

TEST_CASE("random_walk steps by at most amplitude and stays in [minval, maxval]") {
  StoreFixture f(1, {0.75});
  ActionParameters p = range(0, 51);
  p.amplitude = 2;
  f.store->defineValue(0, CellType::Uint16, {}, {50}, f.store->addAction(ActionKind::RandomWalk, p));
  CHECK(f.read(0, 1) == Regs{51});
  CHECK(f.read(0, 1) == Regs{51});
}

TEST_CASE("writes do not run actions, a read from a value's middle does") {
  StoreFixture f(2);
  f.store->defineValue(0, CellType::Uint32, {}, {0, 5}, f.store->addAction(ActionKind::Increment));
  f.store->setWritable(0, true);
  f.store->setWritable(1, true);
  CHECK(f.write(0, {0, 7}) == ExceptionCode::None);
  CHECK(f.store->number(0) == 7);
  CHECK(f.read(1, 1) == Regs{8});  // type exception off
}

TEST_CASE("a custom action may change values, one that throws answers 04") {
  StoreFixture f(2);
  const auto twice = f.store->addCustomAction([](SimulatorStore& s, std::uint32_t first, const ActionParameters&) {
    s.setNumber(first, s.number(first) * 2);
  });
  const auto broken = f.store->addCustomAction(
      [](SimulatorStore&, std::uint32_t, const ActionParameters&) { throw std::runtime_error("boom"); });
  f.store->defineValue(0, CellType::Uint16, {}, {3}, twice);
  f.store->defineValue(1, CellType::Uint16, {}, {3}, broken);
  CHECK(f.read(0, 1) == Regs{6});
  CHECK(f.readCode(0, 2) == ExceptionCode::ServerDeviceFailure);
}

TEST_CASE("action names") {
  CHECK(actionFromName("increment") == ActionKind::Increment);
  CHECK(actionFromName("random_walk") == ActionKind::RandomWalk);
  CHECK_FALSE(actionFromName("register").has_value());
  CHECK_FALSE(actionFromName("").has_value());
  CHECK(actionName(ActionKind::Timestamp) == "timestamp");
}

}  // namespace
}  // namespace modbus::simulator
