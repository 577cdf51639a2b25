// Tests for the "store" and "persistence" keys (protocols/config/detail/store_json.h) and for
// PersistentStore (protocols/config/store_config.h): which units persist, every error naming its
// JSON path, first start versus restore in the log, --reset-state, and the periodic flush timer.
#include "protocols/config/store_config.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "datastore/persistent/persistent_blocks.h"
#include "protocols/config/server_config.h"
#include "reactor/delayed_call.h"
#include "reactor/reactor.h"
#include "tests/protocols/config/config_test_support.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/temp_dir.h"

using modbus::ConfigError;
using modbus::parseServerConfig;
using modbus::StoreKind;
using modbus::SyncPolicy;
using modbus::testing::errorOf;
using modbus::testing::unit;
using modbus::testing::withUnits;
using reactor::testing::LogCapture;
using testsupport::TempDir;

namespace {

const char* kUnits = R"({"1": {"holding_registers": {"count": 4, "values": [1, 2]}},
                         "2": {"store": "memory", "coils": {"count": 8}},
                         "3": {"store": "persistent", "input_registers": {"count": 2}}})";

std::string persistence(const TempDir& dir, const std::string& more = "") {
  return R"("persistence": {"dir": ")" + dir.path() + "\"" + (more.empty() ? "" : ", " + more) + "}";
}

}  // namespace

TEST_CASE("store config: memory is the default, and no unit persists") {
  auto c = parseServerConfig(withUnits(R"({"1": {"coils": {"count": 1}}, "2": {"store": "memory"}})"));
  CHECK(c.persistentUnits.empty());
  CHECK_FALSE(c.persistence.has_value());
}

TEST_CASE("store config: only the units whose store is persistent persist") {
  TempDir dir;
  auto c = parseServerConfig(withUnits(kUnits, persistence(dir)));
  REQUIRE(c.persistentUnits.size() == 1);
  CHECK(c.persistentUnits[0].jsonPath == "units.3");
  CHECK(c.persistentUnits[0].fileName == "unit-3.state");
}

TEST_CASE("store config: a persistent store needs \"persistence\", named with the unit that asked") {
  CHECK(errorOf(withUnits(R"({"1": {"store": "persistent", "coils": {"count": 1}}})")) ==
        "configuration: missing \"persistence\" (units.1 has a persistent store: give {\"dir\": PATH} for its "
        "state file)");
}

TEST_CASE("store config: the top-level store is every unit's default, and a unit overrides it") {
  TempDir dir;
  auto c = parseServerConfig(withUnits(kUnits, R"("store": "persistent", )" + persistence(dir)));
  REQUIRE(c.persistentUnits.size() == 2);
  CHECK(c.persistentUnits[0].jsonPath == "units.1");
  CHECK(c.persistentUnits[0].fileName == "unit-1.state");
  CHECK(c.persistentUnits[0].device.get() == &unit(c, 1));
  CHECK(c.persistentUnits[1].jsonPath == "units.3");
  REQUIRE(c.persistence.has_value());
  CHECK(c.persistence->dir == dir.path());
  CHECK(c.persistence->sync == SyncPolicy::Periodic);
  CHECK(c.persistence->interval == 1.0);
}

TEST_CASE("store config: a single device's state file is single.state") {
  TempDir dir;
  auto c = parseServerConfig(withUnits(R"({"1": {"coils": {"count": 1}}})",
                                       R"("single": true, "store": "persistent", )" + persistence(dir)));
  REQUIRE(c.persistentUnits.size() == 1);
  CHECK(c.persistentUnits[0].fileName == "single.state");
}

TEST_CASE("store config: sync and interval are read") {
  TempDir dir;
  auto none = parseServerConfig(withUnits(kUnits, persistence(dir, R"("sync": "none")")));
  CHECK(none.persistence->sync == SyncPolicy::None);
  auto always = parseServerConfig(withUnits(kUnits, persistence(dir, R"("sync": "always")")));
  CHECK(always.persistence->sync == SyncPolicy::Always);
  auto periodic = parseServerConfig(withUnits(kUnits, persistence(dir, R"("sync": "periodic", "interval": 0.25)")));
  CHECK(periodic.persistence->interval == 0.25);
}

TEST_CASE("store config: an unknown store is an error naming its path and the accepted values") {
  CHECK(errorOf(withUnits(kUnits, R"("store": "disk")")) ==
        "store: \"disk\" is not a store (use \"memory\", \"persistent\" or \"redis\")");
  CHECK(errorOf(withUnits(R"({"4": {"store": "sql", "coils": {"count": 1}}})")) ==
        "units.4.store: \"sql\" is not a store (use \"memory\", \"persistent\" or \"redis\")");
  CHECK(errorOf(withUnits(kUnits, R"("store": 1)")) == "store: expected a string, got a number");
}

TEST_CASE("store config: bad persistence values are errors naming their path") {
  TempDir dir;
  CHECK(errorOf(withUnits(kUnits, R"("persistence": {})")) ==
        "persistence: missing \"dir\" (the directory that keeps the state files)");
  CHECK(errorOf(withUnits(kUnits, R"("persistence": "/tmp")")).find("persistence: expected an object") == 0);
  CHECK(errorOf(withUnits(kUnits, R"("persistence": {"dir": ""})")) ==
        "persistence.dir: is empty (give the directory that keeps the state files)");
  CHECK(errorOf(withUnits(kUnits, R"("persistence": {"dir": "/no/such/uvmodbus/dir"})")) ==
        "persistence.dir: \"/no/such/uvmodbus/dir\": No such file or directory (create the directory first)");
  CHECK(errorOf(withUnits(kUnits, R"("persistence": {"dir": "/etc/hostname"})")) ==
        "persistence.dir: \"/etc/hostname\" is not a directory");
  CHECK(errorOf(withUnits(kUnits, persistence(dir, R"("sync": "sometimes")"))) ==
        "persistence.sync: \"sometimes\" is not a sync policy (use \"none\", \"periodic\" or \"always\")");
  CHECK(errorOf(withUnits(kUnits, persistence(dir, R"("interval": 0)"))) ==
        "persistence.interval: a flush interval must be more than 0 seconds");
  CHECK(errorOf(withUnits(kUnits, persistence(dir, R"("sync": "always", "interval": 2)"))) ==
        "persistence.interval: applies only to \"sync\": \"periodic\"");
  CHECK(errorOf(withUnits(kUnits, persistence(dir, R"("sink": "always")"))).find("persistence.sink: unknown key") ==
        0);
}

TEST_CASE("store config: an unwritable directory is an error naming persistence.dir") {
  if (::geteuid() == 0) {
    // root writes anywhere; /proc is refused to root too
    CHECK(errorOf(withUnits(kUnits, R"("persistence": {"dir": "/proc/self"})"))
              .find("persistence.dir: \"/proc/self\" is not writable by this user: ") == 0);
    return;
  }
  TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0500) == 0);
  CHECK(errorOf(withUnits(kUnits, persistence(dir))).find("is not writable by this user") != std::string::npos);
  ::chmod(dir.path().c_str(), 0700);
}

TEST_CASE("store config: a sparse table in a persistent unit is an error naming the table") {
  TempDir dir;
  CHECK(errorOf(withUnits(R"({"1": {"store": "persistent", "holding_registers": {"sparse": {"3": 1}}}})",
                          persistence(dir))) ==
        "units.1.holding_registers: only a table of one range (start, count) can be persistent, not a sparse one");
}

TEST_CASE("persistent store: the first start says it created the files, a later one that it restored them") {
  TempDir dir;
  const std::string text = withUnits(kUnits, R"("store": "persistent", )" + persistence(dir, R"("sync": "none")"));
  reactor::Reactor reactor;
  {
    auto c = parseServerConfig(text);
    LogCapture log;
    modbus::PersistentStore store(reactor, *c.persistence, c.persistentUnits, false);
    CHECK(store.files().size() == 2);
    CHECK(log.count("units.1: first start: created " + dir.file("unit-1.state") + " from the configured values") == 1);
    CHECK(log.count("units.3: first start: created") == 1);
    CHECK(dynamic_cast<modbus::PersistentRegisterBlock*>(unit(c, 1).holdingRegisters()) != nullptr);
    CHECK(dynamic_cast<modbus::PersistentRegisterBlock*>(unit(c, 2).holdingRegisters()) == nullptr);
    CHECK(unit(c, 1).holdingRegisters()->setValues(3, {33}) == modbus::ExceptionCode::None);
  }
  {
    auto c = parseServerConfig(text);
    LogCapture log;
    modbus::PersistentStore store(reactor, *c.persistence, c.persistentUnits, false);
    CHECK(log.count("units.1: restored the stored values from " + dir.file("unit-1.state")) == 1);
    CHECK(unit(c, 1).holdingRegisters()->getValues(0, 4) == std::vector<std::uint16_t>{1, 2, 0, 33});
  }
  auto c = parseServerConfig(text);
  LogCapture log;
  modbus::PersistentStore store(reactor, *c.persistence, c.persistentUnits, /*resetState=*/true);
  CHECK(log.count("units.1: --reset-state: created") == 1);
  CHECK(unit(c, 1).holdingRegisters()->getValues(0, 4) == std::vector<std::uint16_t>{1, 2, 0, 0});
}

TEST_CASE("persistent store: changed tables are a ConfigError naming the unit, the difference and --reset-state") {
  TempDir dir;
  reactor::Reactor reactor;
  {
    auto c = parseServerConfig(withUnits(kUnits, R"("store": "persistent", )" + persistence(dir)));
    modbus::PersistentStore store(reactor, *c.persistence, c.persistentUnits, false);
  }
  auto c = parseServerConfig(withUnits(R"({"1": {"holding_registers": {"count": 5}}})",
                                       R"("store": "persistent", )" + persistence(dir)));
  try {
    modbus::PersistentStore store(reactor, *c.persistence, c.persistentUnits, false);
    FAIL("a changed layout was accepted");
  } catch (const ConfigError& e) {
    std::string what = e.what();
    CHECK(what.find("units.1: " + dir.file("unit-1.state") + ": the stored state was written for other tables: "
                    "holding_registers: stored 4 from 0, configured 5 from 0") == 0);
    CHECK(what.find("--reset-state") != std::string::npos);
  }
}

TEST_CASE("persistent store: with sync periodic a timer flushes the files every interval") {
  TempDir dir;
  reactor::ManualClock clock;
  {
    auto c = parseServerConfig(withUnits(kUnits, persistence(dir, R"("sync": "periodic", "interval": 2)")));
    modbus::PersistentStore store(clock, *c.persistence, c.persistentUnits, false);
    // The flusher is a LoopingCall on the clock: one pending call, one interval ahead, every interval.
    REQUIRE(clock.getDelayedCalls().size() == 1);
    CHECK(clock.getDelayedCalls().front().getTime() == doctest::Approx(2.0));
    clock.advance(2.0);
    REQUIRE(clock.getDelayedCalls().size() == 1);
    CHECK(clock.getDelayedCalls().front().getTime() == doctest::Approx(4.0));
    CHECK(store.flush());
  }
  CHECK(clock.getDelayedCalls().empty());  // the store stops its timer when it closes
  // (and the files close with the last device that holds them: the configuration above)

  auto none = parseServerConfig(withUnits(kUnits, persistence(dir, R"("sync": "none")")));
  modbus::PersistentStore store(clock, *none.persistence, none.persistentUnits, false);
  CHECK(clock.getDelayedCalls().empty());
}
