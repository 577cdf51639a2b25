// Tests for reactor/reconnecting_client_factory.h, after Twisted's ReconnectingFactoryTests
// (test_factories.py) and test_protocols' ReconnectingClientFactory cases: a recording connector on
// a ManualClock, and one real loopback server that closes every connection.
#include "reactor/reconnecting_client_factory.h"

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "tests/support/reactor_harness.h"

namespace {

using reactor::Failure;
using reactor::ManualClock;
using reactor::ReconnectingClientFactory;

/// Twisted's FakeConnector: counts connect() and stopConnecting() calls.
class FakeConnector final : public reactor::IConnector {
 public:
  int connects = 0;
  int stops = 0;
  bool connecting = false;
  void stopConnecting() override {
    if (!connecting) throw std::logic_error("stopConnecting: not connecting");
    connecting = false;
    ++stops;
  }
  void disconnect() override {}
  void connect() override {
    ++connects;
    connecting = true;
  }
  reactor::Address getDestination() const override { return {reactor::Address::Type::TCP, "127.0.0.1", 502, false}; }
};

const Failure kRefused(reactor::FailureType::ConnectionRefused);

TEST_CASE("ReconnectingClientFactory keeps Twisted's constants") {
  ManualClock clock;
  ReconnectingClientFactory f(clock);
  CHECK(f.maxDelay == 3600);
  CHECK(f.initialDelay == 1.0);
  CHECK(f.factor == doctest::Approx(2.718281828));
  CHECK(f.jitter == doctest::Approx(0.11962656472));
  CHECK_FALSE(f.maxRetries);
  CHECK(f.continueTrying);
}

TEST_CASE("ReconnectingClientFactory retries after initialDelay * factor, then factor times longer each time, up to maxDelay") {
  ManualClock clock;
  ReconnectingClientFactory f(clock);
  f.jitter = 0;
  f.maxDelay = 10;
  FakeConnector c;
  f.clientConnectionFailed(c, kRefused);
  CHECK(f.delay == doctest::Approx(f.factor));
  clock.advance(f.factor - 0.001);
  CHECK(c.connects == 0);
  clock.advance(0.001);
  CHECK(c.connects == 1);
  f.clientConnectionFailed(c, kRefused);
  CHECK(f.delay == doctest::Approx(f.factor * f.factor));
  clock.advance(f.delay);
  CHECK(c.connects == 2);
  f.clientConnectionLost(c, Failure::connectionDone());  // a lost connection retries too
  CHECK(f.delay == 10);  // e^3 > 10: capped
  clock.advance(10);
  CHECK(c.connects == 3);
  CHECK(f.retries == 3);
}

TEST_CASE("ReconnectingClientFactory jitter draws the delay from normalvariate(delay, delay * jitter), and below 0 waits 0") {
  ManualClock clock;
  ReconnectingClientFactory f(clock);
  std::vector<std::pair<double, double>> draws;
  double next = 5.0;
  f.normalvariate = [&](double mean, double stddev) {
    draws.emplace_back(mean, stddev);
    return next;
  };
  FakeConnector c;
  f.clientConnectionFailed(c, kRefused);
  REQUIRE(draws.size() == 1);
  CHECK(draws[0].first == doctest::Approx(f.factor));
  CHECK(draws[0].second == doctest::Approx(f.factor * f.jitter));
  CHECK(f.delay == 5.0);
  clock.advance(5.0);
  CHECK(c.connects == 1);
  next = -0.5;
  f.clientConnectionFailed(c, kRefused);
  CHECK(draws[1].first == doctest::Approx(5.0 * f.factor));
  CHECK(f.delay == 0.0);
  clock.advance(0);
  CHECK(c.connects == 2);
}

TEST_CASE("ReconnectingClientFactory gives up after maxRetries retries") {
  ManualClock clock;
  ReconnectingClientFactory f(clock);
  f.jitter = 0;
  f.maxRetries = 2;
  FakeConnector c;
  for (int i = 0; i < 3; ++i) {
    f.clientConnectionFailed(c, kRefused);
    clock.advance(f.maxDelay);
  }
  CHECK(c.connects == 2);
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("ReconnectingClientFactory stopTrying cancels the pending retry and no loss retries afterwards (test_stopTryingDoesNotReconnect)") {
  ManualClock clock;
  ReconnectingClientFactory f(clock);
  FakeConnector c;
  f.clientConnectionFailed(c, kRefused);
  CHECK(f.pendingRetry().active());
  f.stopTrying();
  CHECK_FALSE(f.continueTrying);
  CHECK(clock.getDelayedCalls().empty());
  f.clientConnectionLost(c, Failure::connectionDone());
  clock.advance(f.maxDelay);
  CHECK(c.connects == 0);
}

TEST_CASE("ReconnectingClientFactory stopTrying stops an attempt in progress (test_stopTryingWhenConnected)") {
  ManualClock clock;
  ReconnectingClientFactory f(clock);
  f.jitter = 0;
  FakeConnector c;
  f.clientConnectionFailed(c, kRefused);
  clock.advance(f.delay);
  REQUIRE(c.connecting);
  f.stopTrying();
  CHECK(c.stops == 1);
  f.stopTrying();  // not connecting any more: nothing to stop, no throw
  CHECK(c.stops == 1);
}

TEST_CASE("ReconnectingClientFactory resetDelay starts over from initialDelay and retrying again") {
  ManualClock clock;
  ReconnectingClientFactory f(clock);
  f.jitter = 0;
  FakeConnector c;
  f.clientConnectionFailed(c, kRefused);
  clock.advance(f.delay);
  f.clientConnectionFailed(c, kRefused);
  clock.advance(f.delay);
  f.stopTrying();
  f.resetDelay();
  CHECK(f.delay == f.initialDelay);
  CHECK(f.retries == 0);
  CHECK(f.continueTrying);
  f.clientConnectionLost(c, Failure::connectionDone());
  CHECK(f.delay == doctest::Approx(f.factor));
}

TEST_CASE("ReconnectingClientFactory: a new initialDelay applies from resetDelay() on, as in Twisted") {
  ManualClock clock;
  ReconnectingClientFactory f(clock);
  f.jitter = 0;
  f.factor = 1.0;
  f.initialDelay = 0.5;
  FakeConnector c;
  f.clientConnectionFailed(c, kRefused);
  CHECK(f.delay == 1.0);  // still the delay it was built with
  f.resetDelay();
  f.clientConnectionFailed(c, kRefused);
  CHECK(f.delay == 0.5);
}

TEST_CASE("ReconnectingClientFactory retry with no connector known is a logic error, and destroying it cancels a pending retry") {
  ManualClock clock;
  {
    ReconnectingClientFactory f(clock);
    CHECK_THROWS_AS(f.retry(), std::logic_error);
    FakeConnector c;
    f.clientConnectionFailed(c, kRefused);
    CHECK(clock.getDelayedCalls().size() == 1);
  }
  CHECK(clock.getDelayedCalls().empty());
}

/// Counts its connections and stops the reactor at the third; resetDelay never called, so the
/// retries add up.
class CountingReconnector final : public ReconnectingClientFactory {
 public:
  using ReconnectingClientFactory::ReconnectingClientFactory;
  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address&) override {
    ++built;
    return std::make_shared<reactor::testing::AccumulatingProtocol>();
  }
  int built = 0;
};

TEST_CASE("ReconnectingClientFactory over loopback: a server closing every connection is reconnected to until maxRetries") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  auto server = std::make_shared<reactor::testing::TestServerFactory<>>();
  server->setup = [](reactor::testing::AccumulatingProtocol& p) {
    p.onMade = [](reactor::testing::AccumulatingProtocol& self) { self.transport().loseConnection(); };
  };
  auto port = reactor::testing::listenLocal(reactor, server);
  auto client = std::make_shared<CountingReconnector>(reactor);
  client->initialDelay = 0.001;
  client->factor = 1.0;
  client->jitter = 0;
  client->maxRetries = 2;
  client->resetDelay();  // as in Twisted, `delay` took initialDelay's value at construction
  auto connector = reactor::testing::connectTo(reactor, *port, client);
  // Stop once the third connection has been lost and its retry abandoned.
  std::function<void()> poll = [&] {
    if (client->retries == 3) {
      reactor.stop();
      return;
    }
    reactor.callLater(0.005, poll);
  };
  reactor.callLater(0.0, poll);
  reactor::testing::runReactor(reactor);
  CHECK(client->built == 3);
  CHECK_FALSE(client->pendingRetry().active());  // the third retry was abandoned, not scheduled
  CHECK(server->buildCalls == 3);
}

}  // namespace
