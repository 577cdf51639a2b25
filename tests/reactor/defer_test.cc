// Tests for reactor/defer.h, after twisted/test/test_defer.py (DeferredTests, DeferredListTests,
// cancellation tests) and test_task.py's deferLater tests; cases written for this port.
#include "reactor/defer.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/delayed_call.h"
#include "tests/support/reactor_harness.h"

using reactor::AlreadyCalledError;
using reactor::CancelledError;
using reactor::Deferred;
using reactor::DeferredListResult;
using reactor::Failure;
using reactor::FailureType;
using reactor::FirstError;
using reactor::ManualClock;
using reactor::testing::LogCapture;

namespace {
struct BoomError : std::runtime_error {
  BoomError() : std::runtime_error("boom") {}
};
struct OtherError : std::runtime_error {
  OtherError() : std::runtime_error("other") {}
};
}  // namespace

TEST_CASE("test_callbackWithoutArgs: callbacks run in the order added, each on the previous result") {
  Deferred<int> d;
  std::vector<std::string> order;
  d.addCallback([&](int x) {
    order.push_back("a" + std::to_string(x));
    return x + 1;
  });
  d.addCallback([&](int x) {
    order.push_back("b" + std::to_string(x));
    return x * 10;
  });
  int last = 0;
  d.addCallback([&](int x) {
    last = x;
    return x;
  });
  CHECK(order.empty());
  d.callback(1);
  CHECK(order == std::vector<std::string>{"a1", "b2"});
  CHECK(last == 20);
}

TEST_CASE("test_callbackAfterFired: a callback added to a fired Deferred runs at once") {
  Deferred<int> d;
  d.callback(5);
  int seen = 0;
  d.addCallback([&](int x) {
    seen = x;
    return x;
  });
  CHECK(seen == 5);
}

TEST_CASE("test_errbackSwitching: a throwing callback goes to the next errback, a recovering errback back") {
  Deferred<int> d;
  std::vector<std::string> order;
  d.addCallback([&](int) -> int {
    order.push_back("cb1");
    throw BoomError();
  });
  d.addCallback([&](int x) {
    order.push_back("skipped");
    return x;
  });
  d.addErrback([&](Failure f) {
    order.push_back("eb:" + f.getErrorMessage());
    CHECK(f.check<BoomError>());
    return 7;
  });
  int result = 0;
  d.addCallbacks(
      [&](int x) {
        result = x;
        return x;
      },
      [&](Failure) {
        order.push_back("not-an-error");
        return 0;
      });
  d.callback(1);
  CHECK(order == std::vector<std::string>{"cb1", "eb:UserError: boom"});
  CHECK(result == 7);
}

TEST_CASE("test_addBoth: the same function sees a value or a failure") {
  int values = 0;
  int failures = 0;
  auto both = [&](auto&&... arg) {
    if constexpr (sizeof...(arg) == 0) ++values; else ++failures;
  };
  Deferred<void> ok;
  ok.addBoth(both);
  ok.callback();
  Deferred<void> bad;
  bad.addBoth(both);
  bad.errback(BoomError());
  CHECK(values == 1);
  CHECK(failures == 1);
}

TEST_CASE("test_trap: trap passes an unmatched failure on unchanged and stops a matched one") {
  Deferred<int> d;
  d.addErrback([](Failure f) -> int {
    f.trap<OtherError>();
    return 1;
  });
  bool sawBoom = false;
  d.addErrback([&](Failure f) {
    f.trap<BoomError>();
    sawBoom = f.check<BoomError>() && !f.check<OtherError>();
    return 2;
  });
  int result = 0;
  d.addCallback([&](int x) {
    result = x;
    return x;
  });
  d.errback(BoomError());
  CHECK(sawBoom);
  CHECK(result == 2);
}

TEST_CASE("Failure::trap on connection outcomes keeps the Failure's type") {
  Deferred<void> d;
  FailureType seen = FailureType::Other;
  d.addErrback([](Failure f) { f.trap(FailureType::ConnectionDone); });
  d.addErrback([&](Failure f) { seen = f.type(); });
  d.errback(Failure(FailureType::ConnectionLost));
  CHECK((seen == FailureType::ConnectionLost));
}

TEST_CASE("test_alreadyCalled: firing twice throws AlreadyCalledError") {
  Deferred<int> d;
  d.callback(1);
  CHECK_THROWS_AS(d.callback(2), AlreadyCalledError);
  CHECK_THROWS_AS(d.errback(BoomError()), AlreadyCalledError);
  Deferred<void> e;
  e.errback(BoomError());
  e.addErrback([](Failure) {});
  CHECK_THROWS_AS(e.callback(), AlreadyCalledError);
}

TEST_CASE("test_chainedPaused: a callback returning a Deferred pauses the chain until it fires") {
  Deferred<int> outer;
  Deferred<int> inner;
  std::vector<int> seen;
  outer.addCallback([&](int x) {
    seen.push_back(x);
    return inner;
  });
  outer.addCallback([&](int x) {
    seen.push_back(x);
    return x;
  });
  outer.callback(1);
  CHECK(seen == std::vector<int>{1});
  CHECK(outer.paused());
  inner.callback(42);
  CHECK(seen == std::vector<int>{1, 42});
  CHECK_FALSE(outer.paused());
}

TEST_CASE("test_chainedFailure: a failing inner Deferred's failure goes to the outer errbacks, not logged") {
  LogCapture log;
  {
    Deferred<int> outer;
    Deferred<int> inner;
    outer.addCallback([&](int) { return inner; });
    std::string message;
    outer.addErrback([&](Failure f) {
      message = f.getErrorMessage();
      return 0;
    });
    outer.callback(1);
    inner.errback(BoomError());
    CHECK(message == "UserError: boom");
  }
  CHECK(log.count("Unhandled error") == 0);
}

TEST_CASE("a callback may change the result type: the continuation is a new Deferred") {
  Deferred<int> d;
  Deferred<std::string> s = d.addCallback([](int x) { return std::to_string(x * 2); });
  std::string got;
  s.addCallback([&](std::string v) { got = v; });
  CHECK_THROWS_AS(d.addCallback([](int x) { return x; }), std::logic_error);
  d.callback(21);
  CHECK(got == "42");
}

TEST_CASE("a type-changing callback returning a Deferred of the new type pauses the continuation") {
  Deferred<int> d;
  Deferred<std::string> later;
  auto s = d.addCallback([&](int) { return later; });
  std::string got;
  s.addCallback([&](std::string v) { got = v; });
  d.callback(1);
  CHECK(got.empty());
  later.callback("done");
  CHECK(got == "done");
}

TEST_CASE("test_cancelWithoutCanceller: CancelledError, and the late callback is ignored") {
  Deferred<int> d;
  bool cancelled = false;
  d.addErrback([&](Failure f) {
    cancelled = f.check<CancelledError>();
    return 0;
  });
  d.cancel();
  CHECK(cancelled);
  CHECK_NOTHROW(d.callback(1));
  CHECK_THROWS_AS(d.callback(2), AlreadyCalledError);
}

TEST_CASE("test_cancelWithCanceller: the canceller runs and may fire the Deferred itself") {
  int calls = 0;
  Deferred<int> d([&](Deferred<int>& self) {
    ++calls;
    self.callback(-1);
  });
  int result = 0;
  d.addCallback([&](int x) {
    result = x;
    return x;
  });
  d.cancel();
  CHECK(calls == 1);
  CHECK(result == -1);
  d.cancel();  // fired: nothing
  CHECK(calls == 1);
}

TEST_CASE("test_cancellerNotFiring: a canceller that does not fire leaves CancelledError, later firing throws") {
  Deferred<void> d([](Deferred<void>&) {});
  bool cancelled = false;
  d.addErrback([&](Failure f) { cancelled = f.check<CancelledError>(); });
  d.cancel();
  CHECK(cancelled);
  CHECK_THROWS_AS(d.callback(), AlreadyCalledError);
}

TEST_CASE("test_cancelNestedDeferred: cancelling a paused Deferred cancels the one it waits on") {
  bool innerCancelled = false;
  Deferred<int> inner([&](Deferred<int>&) { innerCancelled = true; });
  Deferred<int> outer;
  outer.addCallback([&](int) { return inner; });
  bool outerSawCancel = false;
  outer.addErrback([&](Failure f) {
    outerSawCancel = f.check<CancelledError>();
    return 0;
  });
  outer.callback(1);
  outer.cancel();
  CHECK(innerCancelled);
  CHECK(outerSawCancel);
}

TEST_CASE("cancelling a continuation cancels the Deferred it continues") {
  bool upstreamCancelled = false;
  Deferred<int> d([&](Deferred<int>&) { upstreamCancelled = true; });
  auto s = d.addCallback([](int x) { return std::to_string(x); });
  bool sawCancel = false;
  s.addErrback([&](Failure f) {
    sawCancel = f.check<CancelledError>();
    return std::string();
  });
  s.cancel();
  CHECK(upstreamCancelled);
  CHECK(sawCancel);
}

TEST_CASE("test_errorLoggedOnLastReference: an unhandled failure is logged when the last reference goes") {
  LogCapture log;
  {
    Deferred<int> d;
    d.errback(BoomError());
    Deferred<int> copy = d;
    CHECK(log.count("Unhandled error in Deferred") == 0);
  }
  CHECK(log.count("Unhandled error in Deferred: UserError: boom") == 1);
  {
    Deferred<int> handled;
    handled.errback(BoomError());
    handled.addErrback([](Failure) { return 0; });
  }
  CHECK(log.count("Unhandled error in Deferred") == 1);
}

TEST_CASE("test_succeedFail: succeed and fail give fired Deferreds") {
  int got = 0;
  reactor::succeed(3).addCallback([&](int x) {
    got = x;
    return x;
  });
  CHECK(got == 3);
  bool failed = false;
  reactor::fail<int>(Failure::fromException(BoomError())).addErrback([&](Failure f) {
    failed = f.check<BoomError>();
    return 0;
  });
  CHECK(failed);
  CHECK(reactor::succeed().called());
}

TEST_CASE("test_maybeDeferred: value, exception and Deferred") {
  int got = 0;
  reactor::maybeDeferred([](int a, int b) { return a + b; }, 2, 3).addCallback([&](int x) {
    got = x;
    return x;
  });
  CHECK(got == 5);
  bool failed = false;
  reactor::maybeDeferred([]() -> int { throw BoomError(); }).addErrback([&](Failure f) {
    failed = f.check<BoomError>();
    return 0;
  });
  CHECK(failed);
  Deferred<int> pending;
  Deferred<int> same = reactor::maybeDeferred([&] { return pending; });
  CHECK_FALSE(same.called());
  pending.callback(1);
  CHECK(same.called());
}

TEST_CASE("test_deferredList: fires with every (success, result) in input order once all fired") {
  LogCapture log;
  {
    Deferred<int> a, b, c;
    DeferredListResult<int> got;
    bool fired = false;
    reactor::DeferredList<int>({a, b, c}).addCallback([&](DeferredListResult<int> r) {
      got = r;
      fired = true;
    });
    c.callback(3);
    a.callback(1);
    CHECK_FALSE(fired);
    b.errback(BoomError());
    REQUIRE(fired);
    REQUIRE(got.size() == 3);
    CHECK((got[0].success && *got[0].result == 1));
    CHECK((!got[1].success && got[1].failure.check<BoomError>()));
    CHECK((got[2].success && *got[2].result == 3));
  }
  // consumeErrors=false: b's failure passed on and was not handled.
  CHECK(log.count("Unhandled error in Deferred: UserError: boom") == 1);
}

TEST_CASE("test_deferredListConsumeErrors: the inputs' failures stop at the list") {
  LogCapture log;
  {
    Deferred<int> a;
    auto list = reactor::DeferredList<int>({a}, false, false, true);
    a.errback(BoomError());
    CHECK(list.called());
  }
  CHECK(log.count("Unhandled error") == 0);
}

TEST_CASE("test_deferredListFireOnOneCallback: fires at the first success with its index") {
  Deferred<int> a, b;
  DeferredListResult<int> got;
  reactor::DeferredList<int>({a, b}, true).addCallback([&](DeferredListResult<int> r) { got = r; });
  b.callback(9);
  REQUIRE(got.size() == 2);
  CHECK_FALSE(got[0].fired);
  CHECK((got[1].success && *got[1].result == 9));
  a.callback(1);  // the list has fired already
  CHECK_FALSE(got[0].fired);
}

TEST_CASE("test_deferredListFireOnOneErrback: errbacks with FirstError at the first failure") {
  Deferred<int> a, b;
  std::size_t index = 99;
  std::string sub;
  reactor::DeferredList<int>({a, b}, false, true, true).addErrback([&](Failure f) {
    try {
      f.raiseException();
    } catch (const FirstError& e) {
      index = e.index;
      sub = e.subFailure.getErrorMessage();
    }
    return DeferredListResult<int>{};
  });
  a.callback(1);
  b.errback(BoomError());
  CHECK(index == 1);
  CHECK(sub == "UserError: boom");
}

TEST_CASE("test_deferredListEmpty: an empty list fires at once") {
  bool fired = false;
  reactor::DeferredList<int>({}).addCallback([&](DeferredListResult<int> r) { fired = r.empty(); });
  CHECK(fired);
}

TEST_CASE("test_cancelDeferredList: cancelling the list cancels the pending inputs") {
  Deferred<int> a, b;
  a.callback(1);
  b.addErrback([](Failure f) {
    f.trap<CancelledError>();
    return 0;
  });
  auto list = reactor::DeferredList<int>({a, b});
  list.cancel();
  CHECK(list.called());
  CHECK(b.called());
}

TEST_CASE("test_gatherResults: the values in order, or FirstError") {
  Deferred<int> a, b;
  std::vector<int> got;
  reactor::gatherResults<int>({a, b}).addCallback([&](std::vector<int> v) { got = v; });
  b.callback(2);
  a.callback(1);
  CHECK(got == std::vector<int>{1, 2});
  Deferred<int> c, e;
  bool firstError = false;
  reactor::gatherResults<int>({c, e}, true).addErrback([&](Failure f) {
    firstError = f.check<FirstError>();
    return std::vector<int>{};
  });
  e.errback(BoomError());
  CHECK(firstError);
  bool voidsDone = false;
  reactor::gatherResults<void>({reactor::succeed(), reactor::succeed()}).addCallback([&] { voidsDone = true; });
  CHECK(voidsDone);
}

TEST_CASE("test_deferLater: fires with fn's result once the clock reaches the delay") {
  ManualClock clock;
  int got = 0;
  reactor::deferLater(clock, 2.0, [] { return 7; }).addCallback([&](int x) { got = x; });
  clock.advance(1.9);
  CHECK(got == 0);
  clock.advance(0.1);
  CHECK(got == 7);
  bool failed = false;
  reactor::deferLater(clock, 1.0, []() -> int { throw BoomError(); }).addErrback([&](Failure f) {
    failed = f.check<BoomError>();
    return 0;
  });
  clock.advance(1.0);
  CHECK(failed);
}

TEST_CASE("test_deferLaterCancel: cancelling removes the delayed call and errbacks with CancelledError") {
  ManualClock clock;
  int calls = 0;
  auto d = reactor::deferLater(clock, 1.0, [&] { ++calls; });
  bool cancelled = false;
  d.addErrback([&](Failure f) { cancelled = f.check<CancelledError>(); });
  CHECK(clock.getDelayedCalls().size() == 1);
  d.cancel();
  CHECK(cancelled);
  CHECK(clock.getDelayedCalls().empty());
  clock.advance(5.0);
  CHECK(calls == 0);
}
