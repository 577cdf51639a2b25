// Tests for the coroutine side of reactor/defer.h (inlineCallbacks / ensureDeferred in Twisted's
// test_defer.py and test_inlinecb.py), and for LoopingCall.start's Deferred (test_task.py).
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/defer.h"
#include "reactor/looping_call.h"
#include "tests/support/reactor_harness.h"

using reactor::CancelledError;
using reactor::Deferred;
using reactor::Failure;
using reactor::LoopingCall;
using reactor::ManualClock;
using reactor::testing::LogCapture;

namespace {

struct BoomError : std::runtime_error {
  BoomError() : std::runtime_error("boom") {}
};

Deferred<int> addOne(Deferred<int> d) {
  int x = co_await d;
  co_return x + 1;
}

Deferred<int> sumOf(Deferred<int> a, Deferred<int> b, std::vector<std::string>& trace) {
  trace.push_back("start");
  int x = co_await a;
  trace.push_back("a=" + std::to_string(x));
  int y = co_await b;
  trace.push_back("b=" + std::to_string(y));
  co_return x + y;
}

Deferred<void> throwsAfter(Deferred<void> d) {
  co_await d;
  throw BoomError();
}

Deferred<std::string> catches(Deferred<int> d) {
  try {
    co_await d;
  } catch (const BoomError& e) {
    co_return std::string("caught ") + e.what();
  }
  co_return std::string("no error");
}

Deferred<void> awaitsForever(Deferred<int> d, bool& sawCancel) {
  try {
    co_await d;
  } catch (const CancelledError&) {
    sawCancel = true;
    throw;
  }
}

}  // namespace

TEST_CASE("test_awaitFired: awaiting a fired Deferred continues at once") {
  auto d = addOne(reactor::succeed(1));
  int got = 0;
  d.addCallback([&](int x) { got = x; });
  CHECK(got == 2);
}

TEST_CASE("test_awaitUnfired: the coroutine resumes when the awaited Deferred fires") {
  Deferred<int> a, b;
  std::vector<std::string> trace;
  auto d = sumOf(a, b, trace);
  CHECK(trace == std::vector<std::string>{"start"});
  CHECK_FALSE(d.called());
  a.callback(2);
  CHECK(trace == std::vector<std::string>{"start", "a=2"});
  b.callback(5);
  int got = 0;
  d.addCallback([&](int x) { got = x; });
  CHECK(got == 7);
}

TEST_CASE("test_exceptionBecomesErrback: an exception thrown in a coroutine errbacks its Deferred") {
  Deferred<void> gate;
  auto d = throwsAfter(gate);
  bool boom = false;
  d.addErrback([&](Failure f) { boom = f.check<BoomError>(); });
  CHECK_FALSE(boom);
  gate.callback();
  CHECK(boom);
}

TEST_CASE("test_awaitedFailureThrows: a failed awaited Deferred throws its exception at co_await") {
  Deferred<int> d;
  auto r = catches(d);
  d.errback(BoomError());
  std::string got;
  r.addCallback([&](std::string s) { got = s; });
  CHECK(got == "caught boom");
}

TEST_CASE("test_awaitedConnectionFailureThrowsFailure: a Failure without exception is thrown as the Failure") {
  Deferred<int> d;
  auto r = addOne(d);
  reactor::FailureType type = reactor::FailureType::Other;
  r.addErrback([&](Failure f) {
    type = f.type();
    return 0;
  });
  d.errback(Failure(reactor::FailureType::ConnectionLost));
  CHECK((type == reactor::FailureType::ConnectionLost));
}

TEST_CASE("test_cancelPropagates: cancelling the coroutine's Deferred cancels the awaited one") {
  bool innerCancelled = false;
  Deferred<int> inner([&](Deferred<int>&) { innerCancelled = true; });
  bool sawCancel = false;
  auto outer = awaitsForever(inner, sawCancel);
  bool outerCancelled = false;
  outer.addErrback([&](Failure f) { outerCancelled = f.check<CancelledError>(); });
  outer.cancel();
  CHECK(innerCancelled);
  CHECK(sawCancel);
  CHECK(outerCancelled);
}

TEST_CASE("test_coroutineWithDeferLater: a coroutine waits on the clock") {
  ManualClock clock;
  auto chain = [&clock]() -> Deferred<int> {
    int a = co_await reactor::deferLater(clock, 1.0, [] { return 20; });
    int b = co_await reactor::deferLater(clock, 1.0, [] { return 22; });
    co_return a + b;
  };
  auto d = chain();
  int got = 0;
  d.addCallback([&](int x) { got = x; });
  clock.advance(1.0);
  CHECK(got == 0);
  clock.advance(1.0);
  CHECK(got == 42);
}

TEST_CASE("test_awaitChainedDeferred: awaiting a Deferred paused on another waits for both") {
  Deferred<int> outer;
  Deferred<int> inner;
  outer.addCallback([&](int) { return inner; });
  auto r = addOne(outer);
  outer.callback(0);
  CHECK_FALSE(r.called());
  inner.callback(9);
  int got = 0;
  r.addCallback([&](int x) { got = x; });
  CHECK(got == 10);
}

TEST_CASE("test_loopingCallDeferredFiresOnStop: start's Deferred fires when stop() is called") {
  ManualClock clock;
  int calls = 0;
  LoopingCall lc(clock, [&] { ++calls; });
  bool stopped = false;
  lc.start(1.0).addCallback([&] { stopped = true; });
  clock.pump({1.0, 1.0});
  CHECK(calls == 3);
  CHECK_FALSE(stopped);
  lc.stop();
  CHECK(stopped);
}

TEST_CASE("test_loopingCallDeferredErrback: start's Deferred errbacks when f throws, and is not logged if handled") {
  LogCapture log;
  ManualClock clock;
  int calls = 0;
  LoopingCall lc(clock, [&] {
    if (++calls == 2) throw BoomError();
  });
  bool failed = false;
  lc.start(1.0).addErrback([&](Failure f) { failed = f.check<BoomError>(); });
  clock.advance(1.0);
  CHECK(failed);
  CHECK_FALSE(lc.running());
  CHECK(log.count("Unhandled error") == 0);
}

TEST_CASE("test_loopingCallAwaited: a coroutine awaits a LoopingCall until it stops") {
  ManualClock clock;
  int calls = 0;
  LoopingCall* self = nullptr;
  LoopingCall lc(clock, [&] {
    if (++calls == 3) self->stop();
  });
  self = &lc;
  auto run = [&]() -> Deferred<int> {
    co_await lc.start(0.5);
    co_return calls;
  };
  auto d = run();
  int got = 0;
  d.addCallback([&](int x) { got = x; });
  clock.pump({0.5, 0.5});
  CHECK(got == 3);
}
