// Tests for reactor/delayed_call.cc: TimerQueue, DelayedCall and ManualClock (names from Twisted's
// test_base.py / test_task.py where they exist).
#include "reactor/delayed_call.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/log.h"

using reactor::AlreadyCalled;
using reactor::AlreadyCancelled;
using reactor::DelayedCall;
using reactor::ManualClock;
using reactor::TimerQueue;

namespace {

/// Captures log lines for the duration of a test, then restores stderr.
struct LogCapture {
  std::vector<std::string> lines;
  LogCapture() {
    reactor::log::setSink([this](reactor::log::Level, std::string_view m) { lines.emplace_back(m); });
  }
  ~LogCapture() { reactor::log::setSink(nullptr); }
};

}  // namespace

TEST_CASE("test_callLater: calls run in deadline order") {
  ManualClock clock;
  std::vector<int> order;
  clock.callLater(3.0, [&] { order.push_back(3); });
  clock.callLater(1.0, [&] { order.push_back(1); });
  clock.callLater(2.0, [&] { order.push_back(2); });
  clock.advance(0.5);
  CHECK(order.empty());
  clock.advance(1.0);
  CHECK(order == std::vector<int>{1});
  clock.advance(5.0);
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("callLater accepts a std::chrono duration") {
  ManualClock clock;
  int ran = 0;
  auto call = clock.callLater(std::chrono::milliseconds(250), [&] { ++ran; });
  CHECK(call.getTime() == doctest::Approx(0.25));
  clock.advance(0.25);
  CHECK(ran == 1);
}

TEST_CASE("calls with equal deadlines run in the order they were scheduled (FIFO)") {
  ManualClock clock;
  std::vector<int> order;
  for (int i = 0; i < 50; ++i) clock.callLater(1.0, [&order, i] { order.push_back(i); });
  clock.callLater(0.5, [&] { order.push_back(-1); });
  clock.advance(1.0);
  REQUIRE(order.size() == 51);
  CHECK(order[0] == -1);
  for (int i = 0; i < 50; ++i) CHECK(order[static_cast<std::size_t>(i) + 1] == i);
}

TEST_CASE("a call scheduled from a timed call for 0 s runs on the next pass, not this one") {
  double now = 0.0;
  TimerQueue queue([&] { return now; }, nullptr);
  std::vector<std::string> order;
  queue.schedule(0, [&] {
    order.push_back("a");
    queue.schedule(0, [&] { order.push_back("inner"); });
  });
  queue.schedule(0, [&] { order.push_back("b"); });
  CHECK(queue.runDue() == 2);
  CHECK(order == std::vector<std::string>{"a", "b"});
  CHECK(queue.activeCount() == 1);
  CHECK(queue.runDue() == 1);
  CHECK(order == std::vector<std::string>{"a", "b", "inner"});
  CHECK(queue.runDue() == 0);
}

TEST_CASE("a call reset from a timed call to now runs on the next pass") {
  double now = 5.0;
  TimerQueue queue([&] { return now; }, nullptr);
  std::vector<int> order;
  DelayedCall later = queue.schedule(10, [&] { order.push_back(2); });
  queue.schedule(0, [&] {
    order.push_back(1);
    later.reset(0);
  });
  CHECK(queue.runDue() == 1);
  CHECK(order == std::vector<int>{1});
  CHECK(later.active());
  CHECK(queue.runDue() == 1);
  CHECK(order == std::vector<int>{1, 2});
}

TEST_CASE("ManualClock.advance runs calls that due calls schedule for the present") {
  ManualClock clock;
  std::vector<int> order;
  clock.callLater(1.0, [&] {
    order.push_back(1);
    clock.callLater(0, [&] {
      order.push_back(2);
      clock.callLater(0.5, [&] { order.push_back(3); });
    });
  });
  clock.advance(1.0);
  CHECK(order == std::vector<int>{1, 2});
  CHECK(clock.getDelayedCalls().size() == 1);
  clock.pump({0.25, 0.25});
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(clock.seconds() == doctest::Approx(1.5));
}

TEST_CASE("test_cancelCalledDelayedCall: cancelling a call that ran throws AlreadyCalled") {
  ManualClock clock;
  int ran = 0;
  DelayedCall call = clock.callLater(0, [&] { ++ran; });
  clock.advance(0);
  CHECK(ran == 1);
  CHECK(call.called());
  CHECK_FALSE(call.active());
  CHECK_FALSE(call.cancelled());
  CHECK_THROWS_AS(call.cancel(), AlreadyCalled);
  CHECK_THROWS_AS(call.reset(1), AlreadyCalled);
  CHECK_THROWS_AS(call.delay(1), AlreadyCalled);
}

TEST_CASE("a call sees itself as called (not active) while it runs") {
  ManualClock clock;
  DelayedCall call;
  bool activeInside = true;
  bool threw = false;
  call = clock.callLater(1, [&] {
    activeInside = call.active();
    try {
      call.cancel();
    } catch (const AlreadyCalled&) {
      threw = true;
    }
  });
  clock.advance(1);
  CHECK_FALSE(activeInside);
  CHECK(threw);
}

TEST_CASE("test_cancelCancelledDelayedCall: cancelling twice throws AlreadyCancelled") {
  ManualClock clock;
  int ran = 0;
  DelayedCall call = clock.callLater(1, [&] { ++ran; });
  call.cancel();
  CHECK(call.cancelled());
  CHECK_FALSE(call.active());
  CHECK_THROWS_AS(call.cancel(), AlreadyCancelled);
  CHECK_THROWS_AS(call.reset(2), AlreadyCancelled);
  CHECK_THROWS_AS(call.delay(2), AlreadyCancelled);
  clock.advance(5);
  CHECK(ran == 0);
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("cancel releases the callable at once") {
  ManualClock clock;
  auto token = std::make_shared<int>(7);
  DelayedCall call = clock.callLater(1, [token] { (void)token; });
  CHECK(token.use_count() == 2);
  call.cancel();
  CHECK(token.use_count() == 1);
}

TEST_CASE("reset to an earlier time runs the call sooner") {
  ManualClock clock;
  std::vector<double> ranAt;
  DelayedCall call = clock.callLater(10, [&] { ranAt.push_back(clock.seconds()); });
  clock.advance(1);
  call.reset(2);
  CHECK(call.getTime() == doctest::Approx(3));
  clock.advance(1.5);
  CHECK(ranAt.empty());
  clock.advance(0.5);
  REQUIRE(ranAt.size() == 1);
  CHECK(ranAt[0] == doctest::Approx(3));
  clock.advance(20);
  CHECK(ranAt.size() == 1);
}

TEST_CASE("reset to a later time runs the call later, once") {
  ManualClock clock;
  std::vector<double> ranAt;
  DelayedCall call = clock.callLater(2, [&] { ranAt.push_back(clock.seconds()); });
  call.reset(5);
  CHECK(call.getTime() == doctest::Approx(5));
  clock.advance(2);
  CHECK(ranAt.empty());
  CHECK(call.active());
  clock.advance(2.5);
  CHECK(ranAt.empty());
  clock.advance(0.5);
  REQUIRE(ranAt.size() == 1);
  CHECK(ranAt[0] == doctest::Approx(5));
  clock.advance(10);
  CHECK(ranAt.size() == 1);
}

TEST_CASE("delay pushes the deadline further, repeatedly") {
  ManualClock clock;
  int ran = 0;
  DelayedCall call = clock.callLater(1, [&] { ++ran; });
  call.delay(1);
  call.delay(0.5);
  CHECK(call.getTime() == doctest::Approx(2.5));
  clock.advance(2.4);
  CHECK(ran == 0);
  clock.advance(0.1);
  CHECK(ran == 1);
}

TEST_CASE("getTime reports the deadline on the clock's scale") {
  ManualClock clock;
  clock.advance(10);
  DelayedCall call = clock.callLater(1.5, [] {});
  CHECK(call.getTime() == doctest::Approx(11.5));
  CHECK(std::isnan(DelayedCall().getTime()));
}

TEST_CASE("active is true until the call runs or is cancelled") {
  ManualClock clock;
  DelayedCall a = clock.callLater(1, [] {});
  DelayedCall b = clock.callLater(1, [] {});
  CHECK(a.active());
  CHECK(b.active());
  CHECK(static_cast<bool>(a));
  b.cancel();
  CHECK_FALSE(b.active());
  clock.advance(1);
  CHECK_FALSE(a.active());
  CHECK(a.called());
  DelayedCall empty;
  CHECK_FALSE(empty.active());
  CHECK_FALSE(static_cast<bool>(empty));
  CHECK_THROWS_AS(empty.cancel(), std::logic_error);
}

TEST_CASE("an exception in a call is logged and does not stop the others") {
  LogCapture log;
  ManualClock clock;
  std::vector<int> order;
  clock.callLater(1, [&] { order.push_back(1); });
  clock.callLater(1, [&] { throw std::runtime_error("boom"); });
  clock.callLater(1, [&] { throw 42; });
  clock.callLater(1, [&] { order.push_back(2); });
  clock.advance(1);
  CHECK(order == std::vector<int>{1, 2});
  REQUIRE(log.lines.size() == 2);
  CHECK(log.lines[0].find("boom") != std::string::npos);
  CHECK(log.lines[1].find("unknown") != std::string::npos);
}

TEST_CASE("schedule rejects a negative or NaN delay") {
  ManualClock clock;
  CHECK_THROWS_AS(clock.callLater(-0.001, [] {}), std::invalid_argument);
  CHECK_THROWS_AS(clock.callLater(std::numeric_limits<double>::quiet_NaN(), [] {}), std::invalid_argument);
  CHECK(clock.getDelayedCalls().empty());
  DelayedCall call = clock.callLater(1, [] {});
  CHECK_THROWS_AS(call.reset(-1), std::invalid_argument);
  CHECK(call.getTime() == doctest::Approx(1));
}

TEST_CASE("a DelayedCall handle outlives its queue") {
  auto token = std::make_shared<int>(1);
  DelayedCall pending;
  DelayedCall done;
  {
    ManualClock clock;
    done = clock.callLater(0, [] {});
    clock.advance(0);
    pending = clock.callLater(5, [token] { (void)token; });
    CHECK(token.use_count() == 2);
  }
  CHECK(token.use_count() == 1);  // the queue's death released the callable
  CHECK_FALSE(pending.active());
  CHECK(pending.cancelled());
  CHECK_THROWS_AS(pending.cancel(), AlreadyCancelled);
  CHECK_THROWS_AS(pending.reset(1), AlreadyCancelled);
  CHECK(pending.getTime() == doctest::Approx(5));
  CHECK(done.called());
  CHECK_THROWS_AS(done.cancel(), AlreadyCalled);
}

TEST_CASE("a callable destroyed with its queue may cancel other handles safely") {
  auto other = std::make_shared<DelayedCall>();
  {
    ManualClock clock;
    *other = clock.callLater(3, [] {});
    struct CancelOnDestroy {
      std::shared_ptr<DelayedCall> call;
      ~CancelOnDestroy() {
        if (call && call->active()) call->cancel();
      }
    };
    auto guard = std::shared_ptr<CancelOnDestroy>(new CancelOnDestroy{other});
    clock.callLater(1, [guard] { (void)guard; });
    guard.reset();
    CHECK(other->active());
  }
  CHECK_FALSE(other->active());
  CHECK(other->cancelled());
}

TEST_CASE("getDelayedCalls lists the active calls, soonest first") {
  ManualClock clock;
  DelayedCall c3 = clock.callLater(3, [] {});
  DelayedCall c1 = clock.callLater(1, [] {});
  DelayedCall c2 = clock.callLater(2, [] {});
  DelayedCall c1b = clock.callLater(1, [] {});
  c2.cancel();
  auto calls = clock.getDelayedCalls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].getTime() == doctest::Approx(1));
  CHECK(calls[1].getTime() == doctest::Approx(1));
  CHECK(calls[2].getTime() == doctest::Approx(3));
  // The handles share state with the originals.
  calls[0].cancel();
  CHECK(c1.cancelled());
  CHECK(c1b.active());
}

TEST_CASE("nextDeadline and activeCount track cancels, resets and delays") {
  double now = 0.0;
  TimerQueue queue([&] { return now; }, nullptr);
  CHECK_FALSE(queue.nextDeadline().has_value());
  DelayedCall a = queue.schedule(1, [] {});
  DelayedCall b = queue.schedule(4, [] {});
  CHECK(queue.activeCount() == 2);
  CHECK(*queue.nextDeadline() == doctest::Approx(1));
  a.delay(5);  // now at 6: b is next
  CHECK(*queue.nextDeadline() == doctest::Approx(4));
  b.cancel();
  CHECK(queue.activeCount() == 1);
  CHECK(*queue.nextDeadline() == doctest::Approx(6));
  a.reset(0.5);
  CHECK(*queue.nextDeadline() == doctest::Approx(0.5));
  now = 0.5;
  CHECK(queue.runDue() == 1);
  CHECK(queue.activeCount() == 0);
  CHECK_FALSE(queue.nextDeadline().has_value());
  CHECK(queue.now() == doctest::Approx(0.5));
}

TEST_CASE("wakeup is called when the earliest deadline moves earlier") {
  double now = 0.0;
  int wakeups = 0;
  TimerQueue queue([&] { return now; }, [&] { ++wakeups; });
  DelayedCall a = queue.schedule(5, [] {});
  CHECK(wakeups == 1);  // first deadline
  queue.schedule(7, [] {});
  CHECK(wakeups == 1);  // later than the earliest
  DelayedCall c = queue.schedule(2, [] {});
  CHECK(wakeups == 2);
  a.reset(1);
  CHECK(wakeups == 3);
  c.delay(10);
  CHECK(wakeups == 3);  // moving later never needs a wakeup
  a.cancel();
  CHECK(wakeups == 3);
}

TEST_CASE("many resets of one call keep the heap small and the deadline exact") {
  double now = 0.0;
  TimerQueue queue([&] { return now; }, nullptr);
  int ran = 0;
  DelayedCall idle = queue.schedule(30, [&] { ++ran; });
  for (int i = 0; i < 10000; ++i) {
    now += 0.001;
    idle.reset(i % 2 == 0 ? 30 : 29);  // alternately earlier and later
  }
  CHECK(queue.activeCount() == 1);
  CHECK(queue.activeCalls().size() == 1);
  CHECK(*queue.nextDeadline() == doctest::Approx(now + 29));
  now += 29;
  CHECK(queue.runDue() == 1);
  CHECK(ran == 1);
  CHECK(queue.runDue() == 0);
}

TEST_CASE("many scheduled-then-cancelled calls leave no active call") {
  double now = 0.0;
  TimerQueue queue([&] { return now; }, nullptr);
  int ran = 0;
  for (int i = 0; i < 5000; ++i) queue.schedule(10 + i, [&] { ++ran; }).cancel();
  DelayedCall keep = queue.schedule(20, [&] { ++ran; });
  CHECK(queue.activeCount() == 1);
  CHECK(*queue.nextDeadline() == doctest::Approx(20));
  now = 10000;
  CHECK(queue.runDue() == 1);
  CHECK(ran == 1);
}

TEST_CASE("a call may cancel a later call of the same pass") {
  ManualClock clock;
  std::vector<int> order;
  DelayedCall second;
  clock.callLater(1, [&] {
    order.push_back(1);
    second.cancel();
  });
  second = clock.callLater(1, [&] { order.push_back(2); });
  clock.callLater(1, [&] { order.push_back(3); });
  clock.advance(1);
  CHECK(order == std::vector<int>{1, 3});
}

TEST_CASE("ManualClock starts at 0 and refuses to go back") {
  ManualClock clock;
  CHECK(clock.seconds() == 0.0);
  clock.advance(2.5);
  CHECK(clock.seconds() == doctest::Approx(2.5));
  CHECK_THROWS_AS(clock.advance(-1), std::invalid_argument);
  CHECK(clock.seconds() == doctest::Approx(2.5));
}

TEST_CASE("a call scheduled by a callable's destructor while the queue dies never runs") {
  DelayedCall scheduledLate;
  {
    ManualClock clock;
    struct ScheduleOnDestroy {
      ManualClock* clock;
      DelayedCall* out;
      ~ScheduleOnDestroy() { *out = clock->callLater(1, [] {}); }
    };
    auto guard = std::shared_ptr<ScheduleOnDestroy>(new ScheduleOnDestroy{&clock, &scheduledLate});
    clock.callLater(1, [guard] { (void)guard; });
    guard.reset();
    CHECK_FALSE(static_cast<bool>(scheduledLate));
  }
  REQUIRE(static_cast<bool>(scheduledLate));
  CHECK_FALSE(scheduledLate.active());
  CHECK_THROWS_AS(scheduledLate.cancel(), AlreadyCancelled);
}
