// "Before shutdown" triggers that return Deferreds (Twisted's _ThreePhaseEvent, test_base's
// SystemEventTestsBase cases), and waitBounded, the bounded wait behind them, on a Clock.
#include "reactor/bounded_wait.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/defer.h"
#include "reactor/reactor.h"
#include "tests/support/reactor_harness.h"

using reactor::Deferred;
using reactor::ManualClock;
using reactor::Phase;
using reactor::Reactor;
using reactor::SystemEvent;
using reactor::waitBounded;
using namespace reactor::testing;

TEST_CASE("waitBounded fires once every input has fired, and not before") {
  ManualClock clock;
  Deferred<void> a, b;
  auto all = waitBounded(clock, {a, b}, 30.0, "trigger");
  a.callback();
  CHECK_FALSE(all.called());
  b.callback();
  CHECK(all.called());
  CHECK(clock.getDelayedCalls().empty());  // the timeout was cancelled
}

TEST_CASE("waitBounded with nothing to wait for, or inputs already fired, has fired when it returns") {
  ManualClock clock;
  CHECK(waitBounded(clock, {}, 30.0, "trigger").called());
  CHECK(waitBounded(clock, {reactor::succeed()}, 30.0, "trigger").called());
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("waitBounded gives up at the timeout with a warning naming what is pending") {
  LogCapture logs;
  ManualClock clock;
  Deferred<void> never, done;
  done.callback();
  auto all = waitBounded(clock, {never, done}, 30.0, "before-shutdown trigger");
  clock.advance(29.9);
  CHECK_FALSE(all.called());
  clock.advance(0.2);
  CHECK(all.called());
  CHECK(logs.count("1 before-shutdown trigger(s) still pending after 30 s") == 1);
  never.callback();  // late: changes nothing, raises nothing
  CHECK(logs.errors == 0);
}

TEST_CASE("waitBounded logs a failed input as an error and still fires with success") {
  LogCapture logs;
  ManualClock clock;
  Deferred<void> failing;
  bool fired = false;
  bool failed = false;
  waitBounded(clock, {failing}, 30.0, "stopService").addCallbacks([&] { fired = true; },
                                                                   [&](reactor::Failure) { failed = true; });
  failing.errback(std::runtime_error("disk gone"));
  CHECK(fired);
  CHECK_FALSE(failed);
  CHECK(logs.count("stopService failed") == 1);
  CHECK(logs.count("disk gone") == 1);
}

TEST_CASE("before-shutdown triggers run on the next loop pass after stop(), not inside it") {
  LoopCleanCheck clean;
  Reactor r;
  std::vector<std::string> events;
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [&] { events.push_back("before"); });
  r.callWhenRunning([&] {
    r.stop();
    events.push_back("stop returned");
  });
  CHECK(runReactor(r));
  CHECK(events == std::vector<std::string>{"stop returned", "before"});
}

TEST_CASE("a before-shutdown trigger's Deferred delays the during and after phases until it fires") {
  LoopCleanCheck clean;
  Reactor r;
  std::vector<std::string> events;
  Deferred<void> pending;
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [&]() -> Deferred<void> {
    events.push_back("before");
    // Fires a few loop passes later: the shutdown must be waiting meanwhile.
    r.callLater(0.0, [&] {
      r.callLater(0.0, [&] {
        events.push_back("fired");
        pending.callback();
      });
    });
    return pending;
  });
  r.addSystemEventTrigger(Phase::During, SystemEvent::Shutdown, [&] { events.push_back("during"); });
  r.addSystemEventTrigger(Phase::After, SystemEvent::Shutdown, [&] { events.push_back("after"); });
  r.callWhenRunning([&] { r.stop(); });
  CHECK(runReactor(r));
  CHECK(events == std::vector<std::string>{"before", "fired", "during", "after"});
}

TEST_CASE("listening ports keep listening while before-shutdown Deferreds are pending") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  auto client = std::make_shared<TestClientFactory<>>();
  auto port = listenLocal(r, server);
  Deferred<void> pending;
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [&]() -> Deferred<void> {
    // Stopping has begun; a client connecting now is still accepted.
    connectTo(r, *port, client);
    return pending;
  });
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol&) { pending.callback(); };  // now the shutdown goes on
  };
  r.callWhenRunning([&] { r.stop(); });
  CHECK(runReactor(r));
  // Accepted after stop() began: the port was still listening.
  CHECK(server->buildCalls == 1);
  REQUIRE(server->protocols.size() == 1);
  CHECK(server->protocols[0]->madeCount == 1);
}

TEST_CASE("a before-shutdown Deferred that never fires delays shutdown only until the timeout") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  r.setBeforeShutdownTimeout(0.0);
  bool during = false;
  Deferred<void> never;
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [&]() -> Deferred<void> { return never; });
  r.addSystemEventTrigger(Phase::During, SystemEvent::Shutdown, [&] { during = true; });
  r.callWhenRunning([&] { r.stop(); });
  CHECK(runReactor(r));
  CHECK(during);
  CHECK(logs.count("still pending after 0 s") == 1);
  CHECK_THROWS_AS(r.setBeforeShutdownTimeout(-1), std::invalid_argument);
}

TEST_CASE("a before-shutdown trigger that throws or fails is logged and the shutdown goes on") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  bool after = false;
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown,
                          []() -> Deferred<void> { throw std::runtime_error("first broke"); });
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown,
                          []() -> Deferred<void> {
                            return reactor::fail(reactor::Failure::fromException(std::runtime_error("second broke")));
                          });
  r.addSystemEventTrigger(Phase::After, SystemEvent::Shutdown, [&] { after = true; });
  r.callWhenRunning([&] { r.stop(); });
  CHECK(runReactor(r));
  CHECK(after);
  CHECK(logs.count("before-shutdown trigger failed") == 2);
  CHECK(logs.count("first broke") == 1);
  CHECK(logs.count("second broke") == 1);
}

TEST_CASE("a removed Deferred-returning trigger does not run") {
  LoopCleanCheck clean;
  Reactor r;
  bool ran = false;
  auto id = r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [&]() -> Deferred<void> {
    ran = true;
    return reactor::succeed();
  });
  r.removeSystemEventTrigger(id);
  r.callWhenRunning([&] { r.stop(); });
  CHECK(runReactor(r));
  CHECK_FALSE(ran);
}
