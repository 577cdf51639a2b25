// Tests for reactor/reactor.cc: run/stop/crash, ReactorNotRunning / ReactorNotRestartable,
// callWhenRunning, system event triggers, callFromThread (test_core.py and test_threads.py names
// where Twisted has them), graceful shutdown of connections with its grace period, SIGTERM, and
// the loop closing clean.
#include "reactor/reactor.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <future>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/reactor_harness.h"

using reactor::asBytes;
using reactor::DelayedCall;
using reactor::Failure;
using reactor::FailureType;
using reactor::Phase;
using reactor::Reactor;
using reactor::ReactorAlreadyRunning;
using reactor::ReactorNotRestartable;
using reactor::ReactorNotRunning;
using reactor::SystemEvent;
using namespace reactor::testing;

// --- run / stop / crash --------------------------------------------------------------------------------

TEST_CASE("run until stop: running() is true inside, false after, and run returns") {
  LoopCleanCheck clean;
  Reactor r;
  CHECK_FALSE(r.running());
  bool runningInside = false;
  r.callLater(0.01, [&] {
    runningInside = r.running();
    r.stop();
  });
  CHECK(runReactor(r));
  CHECK(runningInside);
  CHECK_FALSE(r.running());
}

TEST_CASE("stop when not running throws ReactorNotRunning") {
  LoopCleanCheck clean;
  Reactor r;
  CHECK_THROWS_AS(r.stop(), ReactorNotRunning);
  bool secondStopThrew = false;
  r.callWhenRunning([&] {
    r.stop();
    try {
      r.stop();  // already stopping
    } catch (const ReactorNotRunning&) {
      secondStopThrew = true;
    }
  });
  CHECK(runReactor(r));
  CHECK(secondStopThrew);
  CHECK_THROWS_AS(r.stop(), ReactorNotRunning);
}

TEST_CASE("run twice throws ReactorNotRestartable, run inside run throws ReactorAlreadyRunning") {
  LoopCleanCheck clean;
  Reactor r;
  bool nestedThrew = false;
  r.callWhenRunning([&] {
    try {
      r.run(false);
    } catch (const ReactorAlreadyRunning&) {
      nestedThrew = true;
    }
    r.stop();
  });
  CHECK(runReactor(r));
  CHECK(nestedThrew);
  CHECK_THROWS_AS(r.run(false), ReactorNotRestartable);
}

TEST_CASE("crash stops at once, without the shutdown triggers") {
  LoopCleanCheck clean;
  Reactor r;
  int shutdownTriggers = 0;
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [&] { ++shutdownTriggers; });
  r.addSystemEventTrigger(Phase::After, SystemEvent::Shutdown, [&] { ++shutdownTriggers; });
  r.callLater(0.01, [&] { r.crash(); });
  CHECK(runReactor(r));
  CHECK(shutdownTriggers == 0);
  CHECK_FALSE(r.running());
}

TEST_CASE("crash from callWhenRunning, before the loop ever ran, still closes the loop clean") {
  LoopCleanCheck clean;
  auto server = std::make_shared<TestServerFactory<>>();
  {
    Reactor r;
    auto port = r.listenTCP(0, server, 50, "127.0.0.1");
    r.callLater(1.0, [] {});
    r.callWhenRunning([&] { r.crash(); });
    r.run(false);
    CHECK_FALSE(r.running());
  }
  CHECK(server->stopCount == 1);
}

TEST_CASE("callLater on the running reactor runs calls in deadline order") {
  LoopCleanCheck clean;
  Reactor r;
  std::vector<int> order;
  double start = r.seconds();
  double firstAt = 0;
  // The deadlines are taken from the clock at each callLater: a test descheduled for 10 ms between
  // two of them shifts them. So the order expected is the order of the deadlines as scheduled, and
  // the reactor stops after all three, whichever runs last.
  auto ran = [&](int id) {
    order.push_back(id);
    if (order.size() == 3) r.stop();
  };
  DelayedCall third = r.callLater(0.03, [&] { ran(3); });
  DelayedCall first = r.callLater(0.01, [&] {
    ran(1);
    firstAt = r.seconds();
  });
  DelayedCall second = r.callLater(0.02, [&] { ran(2); });
  std::vector<std::pair<double, int>> deadlines = {
      {first.getTime(), 1}, {second.getTime(), 2}, {third.getTime(), 3}};
  std::stable_sort(deadlines.begin(), deadlines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<int> expected;
  for (const auto& d : deadlines) expected.push_back(d.second);
  CHECK(runReactor(r));
  CHECK(order == expected);
  CHECK(firstAt - start >= 0.01);
}

TEST_CASE("a callLater(0) chain does not starve I/O") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  auto port = listenLocal(r, server);
  auto client = std::make_shared<TestClientFactory<>>();
  const int kLimit = 200000;
  int hops = 0;
  int hopsAtConnect = -1;
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol&) { hopsAtConnect = hops; };
  };
  std::function<void()> hop = [&] {
    if (hopsAtConnect >= 0 || ++hops >= kLimit) {
      r.stop();
      return;
    }
    r.callLater(0, hop);
  };
  connectTo(r, *port, client);
  r.callLater(0, hop);
  CHECK(runReactor(r, 30.0));
  INFO("hops before the connection was made: " << hopsAtConnect);
  CHECK(hopsAtConnect >= 0);
  CHECK(hopsAtConnect < 1000);
}

// --- callWhenRunning and system event triggers --------------------------------------------------------

TEST_CASE("test_callWhenRunningOrder: functions run in the order they were passed") {
  LoopCleanCheck clean;
  Reactor r;
  std::vector<std::string> events;
  r.callWhenRunning([&] { events.push_back("first"); });
  r.callWhenRunning([&] { events.push_back("second"); });
  r.callWhenRunning([&] { r.stop(); });
  CHECK(runReactor(r));
  CHECK(events == std::vector<std::string>{"first", "second"});
}

TEST_CASE("callWhenRunning on a running reactor calls at once") {
  LoopCleanCheck clean;
  Reactor r;
  std::vector<std::string> events;
  r.callWhenRunning([&] {
    r.callWhenRunning([&] { events.push_back("inner"); });
    events.push_back("outer");
    r.stop();
  });
  CHECK(runReactor(r));
  CHECK(events == std::vector<std::string>{"inner", "outer"});
}

TEST_CASE("system event triggers run before, during, after, for startup then shutdown") {
  LoopCleanCheck clean;
  Reactor r;
  std::vector<std::string> events;
  auto add = [&](Phase phase, SystemEvent event, std::string name) {
    r.addSystemEventTrigger(phase, event, [&events, name] { events.push_back(name); });
  };
  // Registered out of order on purpose; two per phase to check registration order within one.
  add(Phase::After, SystemEvent::Shutdown, "after shutdown 1");
  add(Phase::During, SystemEvent::Shutdown, "during shutdown 1");
  add(Phase::Before, SystemEvent::Shutdown, "before shutdown 1");
  add(Phase::After, SystemEvent::Startup, "after startup 1");
  add(Phase::During, SystemEvent::Startup, "during startup 1");
  add(Phase::Before, SystemEvent::Startup, "before startup 1");
  add(Phase::Before, SystemEvent::Startup, "before startup 2");
  add(Phase::During, SystemEvent::Startup, "during startup 2");
  add(Phase::After, SystemEvent::Startup, "after startup 2");
  add(Phase::Before, SystemEvent::Shutdown, "before shutdown 2");
  add(Phase::During, SystemEvent::Shutdown, "during shutdown 2");
  add(Phase::After, SystemEvent::Shutdown, "after shutdown 2");
  r.callWhenRunning([&] {
    events.push_back("running");
    r.callLater(0, [&] {
      events.push_back("stop");
      r.stop();
    });
  });
  CHECK(runReactor(r));
  CHECK(events == std::vector<std::string>{
                      "before startup 1", "before startup 2", "during startup 1", "during startup 2",
                      "after startup 1", "after startup 2", "running", "stop", "before shutdown 1",
                      "before shutdown 2", "during shutdown 1", "during shutdown 2", "after shutdown 1",
                      "after shutdown 2"});
}

TEST_CASE("removeSystemEventTrigger removes a trigger, also from inside a trigger of the same phase") {
  LoopCleanCheck clean;
  Reactor r;
  std::vector<std::string> events;
  auto removed = r.addSystemEventTrigger(Phase::During, SystemEvent::Startup, [&] { events.push_back("removed"); });
  r.removeSystemEventTrigger(removed);
  reactor::TriggerId later = 0;
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [&] {
    events.push_back("remover");
    r.removeSystemEventTrigger(later);
  });
  later = r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [&] { events.push_back("later"); });
  r.addSystemEventTrigger(Phase::After, SystemEvent::Shutdown, [&] { events.push_back("after"); });
  r.removeSystemEventTrigger(9999);  // unknown: ignored
  r.callWhenRunning([&] { r.stop(); });
  CHECK(runReactor(r));
  CHECK(events == std::vector<std::string>{"remover", "after"});
}

TEST_CASE("an exception in a trigger is logged and the others still run") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  std::vector<std::string> events;
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Startup, [] { throw std::runtime_error("trigger broke"); });
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Startup, [&] { events.push_back("second"); });
  r.callWhenRunning([&] { r.stop(); });
  CHECK(runReactor(r));
  CHECK(events == std::vector<std::string>{"second"});
  CHECK(logs.count("trigger broke") == 1);
}

// --- callFromThread -------------------------------------------------------------------------------------

TEST_CASE("test_threadsAreRunInScheduledOrder: callFromThread calls run in the order scheduled") {
  LoopCleanCheck clean;
  Reactor r;
  std::vector<int> order;
  r.callWhenRunning([&] {
    std::thread t([&] {
      r.callFromThread([&] { order.push_back(1); });
      r.callFromThread([&] { order.push_back(2); });
      r.callFromThread([&] { order.push_back(3); });
      r.callFromThread([&] { r.stop(); });
    });
    t.join();
  });
  CHECK(runReactor(r));
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("callFromThread from several threads: every call runs, in order per thread") {
  LoopCleanCheck clean;
  Reactor r;
  const int kThreads = 4;
  const int kCalls = 2000;
  std::vector<std::vector<int>> seen(kThreads);
  int total = 0;
  std::vector<std::thread> threads;
  r.callWhenRunning([&] {
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kCalls; ++i) {
          r.callFromThread([&, t, i] {
            seen[static_cast<std::size_t>(t)].push_back(i);
            if (++total == kThreads * kCalls) r.stop();
          });
        }
      });
    }
  });
  bool stopped = runReactor(r, 20.0);
  for (auto& th : threads) th.join();
  CHECK(stopped);
  CHECK(total == kThreads * kCalls);
  for (int t = 0; t < kThreads; ++t) {
    const auto& s = seen[static_cast<std::size_t>(t)];
    REQUIRE(s.size() == static_cast<std::size_t>(kCalls));
    bool ordered = true;
    for (int i = 0; i < kCalls; ++i) ordered = ordered && s[static_cast<std::size_t>(i)] == i;
    CHECK_MESSAGE(ordered, "thread " << t << " calls ran out of order");
  }
}

TEST_CASE("stop through callFromThread from another thread") {
  LoopCleanCheck clean;
  Reactor r;
  std::thread stopper;
  r.callWhenRunning([&] { stopper = std::thread([&] { r.callFromThread([&] { r.stop(); }); }); });
  CHECK(runReactor(r));
  stopper.join();
}

TEST_CASE("with busy polling the reactor runs timers, serves a connection and stops as usual") {
  LoopCleanCheck clean;
  Reactor r;
  r.setBusyPolling(true);
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [&](AccumulatingProtocol& p) {
    p.onData = [](AccumulatingProtocol& self, reactor::ByteView data) { self.transport().write(data); };
  };
  auto port = listenLocal(r, server);
  const std::uint16_t portNumber = port->getHost().port;
  std::string echoed;
  std::thread client;
  int ticks = 0;
  bool clientDone = false;
  // Stops only once both timers have run and the client has its echo, whichever happens last.
  auto stopWhenBothDone = [&] {
    if (ticks == 2 && clientDone) r.stop();
  };
  r.callLater(0.001, [&] {
    ++ticks;
    stopWhenBothDone();
  });
  r.callLater(0.002, [&] {
    ++ticks;
    stopWhenBothDone();
  });
  r.callWhenRunning([&] {
    client = std::thread([&] {
      BlockingClient c("127.0.0.1", portNumber, 10.0);
      c.sendAll("ping");
      echoed = c.readExactly(4);
      r.callFromThread([&] {
        clientDone = true;
        stopWhenBothDone();
      });
    });
  });
  CHECK(runReactor(r, 20.0));
  client.join();
  CHECK(ticks == 2);
  CHECK(echoed == "ping");
  CHECK_FALSE(r.running());
}

// --- shutdown with connections ----------------------------------------------------------------------------

TEST_CASE("stop closes every connection gracefully: clients see the pending data, then EOF") {
  LoopCleanCheck clean;
  Reactor r;
  const std::size_t kSize = 1024 * 1024;
  const std::string payload(kSize, 'q');
  auto server = std::make_shared<TestServerFactory<>>();
  int made = 0;
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& self) {
      self.transport().write(asBytes(payload));
      if (++made == 2) r.stop();  // with about a megabyte still buffered on each
    };
  };
  auto port = listenLocal(r, server);
  std::size_t connectionsDuringShutdown = 99;
  r.addSystemEventTrigger(Phase::During, SystemEvent::Shutdown,
                          [&] { connectionsDuringShutdown = r.connectionCount(); });
  std::uint16_t portNumber = port->getHost().port;
  struct Result {
    bool connected = false;
    bool eof = false;
    std::size_t received = 0;
  };
  std::vector<Result> results(2);
  std::vector<std::thread> clients;
  for (auto& res : results) {
    clients.emplace_back([&res, portNumber] {
      BlockingClient c("127.0.0.1", portNumber, 10.0);
      res.connected = c.connected();
      res.received = c.readUntilEof(&res.eof).size();
    });
  }
  bool stopped = runReactor(r, 20.0);
  for (auto& t : clients) t.join();
  CHECK(stopped);
  for (const auto& res : results) {
    CHECK(res.connected);
    CHECK(res.received == kSize);
    CHECK(res.eof);
  }
  CHECK(connectionsDuringShutdown == 0);
  REQUIRE(server->protocols.size() == 2);
  for (const auto& p : server->protocols) {
    CHECK(p->lostCount == 1);
    CHECK(p->closedReason->check(FailureType::ConnectionDone));
  }
}

TEST_CASE("stop aborts a connection that does not drain within the grace period") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  r.setShutdownGracePeriod(0.2);
  auto server = std::make_shared<TestServerFactory<>>();
  double stopCalledAt = 0;
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& self) {
      // Far more than the socket buffers hold while the client does not read.
      self.transport().write(asBytes(std::string(16 * 1024 * 1024, 'w')));
      stopCalledAt = r.seconds();
      r.stop();
    };
  };
  auto port = listenLocal(r, server);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  bool clientConnected = false;
  std::uint16_t portNumber = port->getHost().port;
  std::thread client([&, portNumber] {
    BlockingClient c("127.0.0.1", portNumber, 10.0, 4096);
    clientConnected = c.connected();
    released.wait_for(std::chrono::seconds(20));  // never reads until the test is done
  });
  bool stopped = runReactor(r, 10.0);
  double stoppedAt = r.seconds();
  release.set_value();
  client.join();
  CHECK(stopped);
  CHECK(clientConnected);
  CHECK(stoppedAt - stopCalledAt >= 0.19);  // lower bound only; runReactor's limit catches "never"
  CHECK(logs.count("did not close within the grace period") == 1);
  REQUIRE(server->protocols.size() == 1);
  CHECK(server->protocols[0]->lostCount == 1);
  CHECK(server->protocols[0]->closedReason->check(FailureType::ConnectionAborted));
  CHECK(r.connectionCount() == 0);
}

TEST_CASE("SIGTERM stops a reactor run with installSignalHandlers") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  std::vector<std::string> events;
  r.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [&] { events.push_back("before shutdown"); });
  r.addSystemEventTrigger(Phase::After, SystemEvent::Shutdown, [&] { events.push_back("after shutdown"); });
  r.callLater(0.01, [] { std::raise(SIGTERM); });
  CHECK(runReactor(r, 5.0, /*installSignalHandlers=*/true));
  CHECK(events == std::vector<std::string>{"before shutdown", "after shutdown"});
  CHECK(logs.count("SIGTERM") == 1);
}

TEST_CASE("addSignalHandler runs every handler of a signal on the reactor thread, also for one raised before run") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  int first = 0;
  int second = 0;
  int throwing = 0;
  std::thread::id ranOn;
  auto firstId = r.addSignalHandler(SIGHUP, [&] {
    ++first;
    ranOn = std::this_thread::get_id();
  });
  r.addSignalHandler(SIGHUP, [&] {
    ++throwing;
    throw std::runtime_error("reload failed");
  });
  r.addSignalHandler(SIGHUP, [&] { ++second; });
  std::raise(SIGHUP);  // before run(): held by the loop, delivered once it runs
  CHECK(first == 0);
  // Bounded polls: the runReactor limit fails the test instead of hanging.
  std::function<void()> afterRemoval = [&] {
    if (second < 2) {
      r.callLater(0.005, afterRemoval);
      return;
    }
    stopIfRunning(r);
  };
  std::function<void()> firstDelivery = [&] {
    if (second < 1) {
      r.callLater(0.005, firstDelivery);
      return;
    }
    r.removeSignalHandler(firstId);
    r.removeSignalHandler(firstId);  // unknown ids are ignored
    std::raise(SIGHUP);
    afterRemoval();
  };
  r.callWhenRunning(firstDelivery);
  CHECK(runReactor(r, 5.0));
  CHECK(first == 1);  // removed before the second signal
  CHECK(second == 2);
  CHECK(throwing == 2);  // its exception was logged; the next handler still ran
  CHECK(ranOn == std::this_thread::get_id());
  CHECK(logs.count("unhandled exception in signal handler: reload failed") == 2);
}

TEST_CASE("addSignalHandler refuses signals that cannot be caught") {
  LoopCleanCheck clean;
  Reactor r;
  CHECK_THROWS_AS(r.addSignalHandler(SIGKILL, [] {}), std::invalid_argument);
  CHECK_THROWS_AS(r.addSignalHandler(0, [] {}), std::invalid_argument);
}

TEST_CASE("a reactor destroyed with open connections closes them and its loop cleanly") {
  LoopCleanCheck clean;
  auto server = std::make_shared<TestServerFactory<>>();
  auto client = std::make_shared<TestClientFactory<>>();
  {
    Reactor r;
    auto port = listenLocal(r, server);
    int made = 0;
    auto both = [&](AccumulatingProtocol&) {
      if (++made == 2) r.crash();
    };
    server->setup = [&](AccumulatingProtocol& p) { p.onMade = both; };
    client->setup = [&](AccumulatingProtocol& p) { p.onMade = both; };
    connectTo(r, *port, client);
    CHECK(runReactor(r));
    CHECK(r.connectionCount() == 2);
  }
  REQUIRE(server->protocols.size() == 1);
  REQUIRE(client->protocols.size() == 1);
  CHECK(server->protocols[0]->lostCount == 1);
  CHECK(client->protocols[0]->lostCount == 1);
  CHECK(client->losses.size() == 1);
  CHECK(server->stopCount == 1);
}
