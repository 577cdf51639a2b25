// Tests for reactor/looping_call.cc (names from Twisted's test_task.py LoopTests where they exist).
#include "reactor/looping_call.h"

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/log.h"

using reactor::DelayedCall;
using reactor::LoopingCall;
using reactor::ManualClock;

namespace {

struct LogCapture {
  std::vector<std::string> lines;
  LogCapture() {
    reactor::log::setSink([this](reactor::log::Level, std::string_view m) { lines.emplace_back(m); });
  }
  ~LogCapture() { reactor::log::setSink(nullptr); }
};

/// An IReactorTime whose passes are driven one by one, like reactor iterations.
class PassClock final : public reactor::IReactorTime {
 public:
  double seconds() const override { return now_; }
  using IReactorTime::callLater;
  DelayedCall callLater(double delay, std::function<void()> f) override {
    return queue_.schedule(delay, std::move(f));
  }
  std::vector<DelayedCall> getDelayedCalls() const override { return queue_.activeCalls(); }
  std::size_t pass() { return queue_.runDue(); }

 private:
  double now_ = 0.0;
  reactor::TimerQueue queue_{[this] { return now_; }, nullptr};
};

}  // namespace

TEST_CASE("test_basicFunction: start(now=true) calls at once, then every interval") {
  ManualClock clock;
  std::vector<double> at;
  LoopingCall lc(clock, [&] { at.push_back(clock.seconds()); });
  lc.start(1.0);
  CHECK(lc.running());
  CHECK(lc.interval() == doctest::Approx(1.0));
  REQUIRE(at.size() == 1);
  CHECK(at[0] == 0.0);
  clock.pump({0.5, 0.5, 1.0, 1.0});
  REQUIRE(at.size() == 4);
  CHECK(at[1] == doctest::Approx(1));
  CHECK(at[2] == doctest::Approx(2));
  CHECK(at[3] == doctest::Approx(3));
}

TEST_CASE("test_notNow: start(now=false) waits one interval") {
  ManualClock clock;
  int calls = 0;
  LoopingCall lc(clock, [&] { ++calls; });
  lc.start(2.0, false);
  CHECK(calls == 0);
  REQUIRE(clock.getDelayedCalls().size() == 1);
  CHECK(clock.getDelayedCalls()[0].getTime() == doctest::Approx(2.0));
  clock.advance(1.9);
  CHECK(calls == 0);
  clock.advance(0.1);
  CHECK(calls == 1);
}

TEST_CASE("test_badDelay: start rejects a negative interval, and a second start") {
  ManualClock clock;
  LoopingCall lc(clock, [] {});
  CHECK_THROWS_AS(lc.start(-1), std::invalid_argument);
  CHECK_FALSE(lc.running());
  lc.start(1);
  CHECK_THROWS_AS(lc.start(1), std::logic_error);
}

TEST_CASE("a late call keeps the grid: the next call is at the next grid point") {
  ManualClock clock;
  std::vector<double> at;
  LoopingCall lc(clock, [&] { at.push_back(clock.seconds()); });
  lc.start(1.0);
  clock.advance(1.3);  // the 1.0 beat runs late, at 1.3
  REQUIRE(at.size() == 2);
  CHECK(at[1] == doctest::Approx(1.3));
  auto pending = clock.getDelayedCalls();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].getTime() == doctest::Approx(2.0));  // not 2.3
  clock.advance(0.7);
  REQUIRE(at.size() == 3);
  CHECK(at[2] == doctest::Approx(2.0));
}

TEST_CASE("missed beats are skipped, not queued") {
  ManualClock clock;
  int calls = 0;
  LoopingCall lc(clock, [&] { ++calls; });
  lc.start(1.0);
  clock.advance(3.5);  // beats at 1, 2, 3 missed: one call
  CHECK(calls == 2);
  REQUIRE(clock.getDelayedCalls().size() == 1);
  CHECK(clock.getDelayedCalls()[0].getTime() == doctest::Approx(4.0));
}

TEST_CASE("test_withCount: counts report skipped intervals (1, 1, 3, 1)") {
  ManualClock clock;
  std::vector<int> counts;
  LoopingCall lc = LoopingCall::withCount(clock, [&](int n) { counts.push_back(n); });
  lc.start(1.0);
  clock.advance(1.0);
  clock.advance(3.0);
  clock.advance(1.0);
  CHECK(counts == std::vector<int>{1, 1, 3, 1});
}

TEST_CASE("withCount with now=false counts the first interval as 1") {
  ManualClock clock;
  std::vector<int> counts;
  LoopingCall lc = LoopingCall::withCount(clock, [&](int n) { counts.push_back(n); });
  lc.start(0.5, false);
  clock.advance(0.5);
  clock.advance(1.7);  // t = 2.2: intervals 2, 3, 4 passed
  CHECK(counts == std::vector<int>{1, 3});
}

TEST_CASE("test_withCountIntervalZero: interval 0 reports 1 every time") {
  ManualClock clock;
  std::vector<int> counts;
  std::optional<LoopingCall> lc;
  lc.emplace(LoopingCall::withCount(clock, [&](int n) {
    counts.push_back(n);
    if (counts.size() == 4) lc->stop();
  }));
  lc->start(0);
  clock.advance(0);
  CHECK(counts == std::vector<int>{1, 1, 1, 1});
  CHECK_FALSE(lc->running());
}

TEST_CASE("test_stopAtOnce / stop cancels the pending call") {
  ManualClock clock;
  int calls = 0;
  LoopingCall lc(clock, [&] { ++calls; });
  lc.start(1.0);
  lc.stop();
  CHECK_FALSE(lc.running());
  CHECK(clock.getDelayedCalls().empty());
  clock.advance(5);
  CHECK(calls == 1);
  CHECK_THROWS_AS(lc.stop(), std::logic_error);
  lc.start(2.0, false);  // restartable
  clock.advance(2);
  CHECK(calls == 2);
}

TEST_CASE("test_stopFromCall: stop() from inside f ends the loop") {
  ManualClock clock;
  int calls = 0;
  std::optional<LoopingCall> lc;
  lc.emplace(clock, [&] {
    if (++calls == 3) lc->stop();
  });
  lc->start(1.0);
  clock.pump({1, 1, 1, 1, 1});
  CHECK(calls == 3);
  CHECK_FALSE(lc->running());
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("stop and start again from inside f schedules exactly one call") {
  ManualClock clock;
  int calls = 0;
  std::optional<LoopingCall> lc;
  lc.emplace(clock, [&] {
    if (++calls == 2) {
      lc->stop();
      lc->start(5.0, false);
    }
  });
  lc->start(1.0);
  clock.advance(1);
  CHECK(calls == 2);
  REQUIRE(clock.getDelayedCalls().size() == 1);
  CHECK(clock.getDelayedCalls()[0].getTime() == doctest::Approx(6));
  CHECK(lc->interval() == doctest::Approx(5));
}

TEST_CASE("test_reset: reset restarts the grid from now") {
  ManualClock clock;
  std::vector<double> at;
  LoopingCall lc(clock, [&] { at.push_back(clock.seconds()); });
  lc.start(2.0, false);
  clock.advance(1.0);
  lc.reset();
  clock.advance(1.0);  // t = 2: the old beat is gone
  CHECK(at.empty());
  clock.advance(1.0);  // t = 3: first beat of the new grid
  REQUIRE(at.size() == 1);
  CHECK(at[0] == doctest::Approx(3.0));
  clock.advance(2.0);
  REQUIRE(at.size() == 2);
  CHECK(at[1] == doctest::Approx(5.0));
  lc.stop();
  CHECK_THROWS_AS(lc.reset(), std::logic_error);
}

TEST_CASE("an exception from f stops the loop and reaches onError") {
  ManualClock clock;
  int calls = 0;
  std::string error;
  LoopingCall lc(clock, [&] {
    if (++calls == 2) throw std::runtime_error("sensor gone");
  });
  lc.onError = [&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      error = ex.what();
    }
  };
  lc.start(1.0);
  clock.pump({1, 1, 1});
  CHECK(calls == 2);
  CHECK(error == "sensor gone");
  CHECK_FALSE(lc.running());
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("an exception from f with no onError is logged") {
  LogCapture log;
  ManualClock clock;
  LoopingCall lc(clock, [] { throw std::runtime_error("first call fails"); });
  lc.start(1.0);  // now=true: the error is reported, start() itself does not throw
  CHECK_FALSE(lc.running());
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find("first call fails") != std::string::npos);
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("interval 0 calls once per pass (callLater(0) each time)") {
  PassClock clock;
  int calls = 0;
  LoopingCall lc(clock, [&] { ++calls; });
  lc.start(0);
  CHECK(calls == 1);
  for (int i = 0; i < 5; ++i) CHECK(clock.pass() == 1);
  CHECK(calls == 6);
  lc.stop();
  CHECK(clock.pass() == 0);
}

TEST_CASE("destroying a running LoopingCall cancels its pending call") {
  ManualClock clock;
  int calls = 0;
  {
    LoopingCall lc(clock, [&] { ++calls; });
    lc.start(1.0);
    CHECK(clock.getDelayedCalls().size() == 1);
  }
  CHECK(clock.getDelayedCalls().empty());
  clock.advance(3);
  CHECK(calls == 1);
}

TEST_CASE("a LoopingCall destroyed from inside its own f stops cleanly") {
  ManualClock clock;
  int calls = 0;
  std::unique_ptr<LoopingCall> lc;
  lc = std::make_unique<LoopingCall>(clock, [&] {
    if (++calls == 2) lc.reset();
  });
  lc->start(1.0);
  clock.pump({1, 1, 1});
  CHECK(calls == 2);
  CHECK(lc == nullptr);
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("a moved LoopingCall keeps running, and its onError follows it") {
  ManualClock clock;
  int calls = 0;
  int errors = 0;
  LoopingCall a(clock, [&] {
    if (++calls == 3) throw std::runtime_error("x");
  });
  a.onError = [&](std::exception_ptr) { ++errors; };
  a.start(1.0);
  LoopingCall b(std::move(a));
  CHECK_FALSE(a.running());
  CHECK(b.running());
  clock.advance(1);
  CHECK(calls == 2);
  clock.advance(1);
  CHECK(calls == 3);
  CHECK(errors == 1);
  CHECK_FALSE(b.running());
}

TEST_CASE("a LoopingCall outliving its clock is harmless") {
  int calls = 0;
  std::optional<ManualClock> clock;
  clock.emplace();
  LoopingCall lc(*clock, [&] { ++calls; });
  lc.start(1.0);
  clock.reset();
  CHECK(calls == 1);
  lc.stop();
  CHECK_FALSE(lc.running());
}
