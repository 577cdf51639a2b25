// Tests for reactor/policies.h, after Twisted's test_policies.py (WrapperTests, WrappingFactoryTests,
// ThrottlingTests, TimeoutTests / TimeoutMixinTests, LimitConnectionsByPeer): protocol doubles on
// StringTransport, timers on a ManualClock, and one real loopback connection per factory kind.
#include "reactor/policies.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/reactor_harness.h"

namespace {

using reactor::Address;
using reactor::ByteView;
using reactor::Failure;
using reactor::ManualClock;
using reactor::asBytes;
using reactor::testing::AccumulatingProtocol;
using reactor::testing::StringTransport;
using reactor::testing::TestClientFactory;
using reactor::testing::TestServerFactory;

const Address kPeer{Address::Type::TCP, "192.168.1.1", 54321, false};

/// Builds a connection through `factory` on a StringTransport.
struct Wired {
  std::shared_ptr<reactor::Protocol> wrapper;
  std::shared_ptr<StringTransport> transport = std::make_shared<StringTransport>();
  Wired(reactor::Factory& factory, const Address& peer = kPeer) {
    transport->setPeer(peer);
    wrapper = factory.buildProtocol(peer);
    if (wrapper) wrapper->makeConnection(transport);
  }
  void lose() { transport->reportConnectionLost(*wrapper); }
};

// --- ProtocolWrapper / WrappingFactory ----------------------------------------------------------

TEST_CASE("WrappingFactory wraps the wrapped factory's protocol, and the wrapper is its transport (test_transportInterfaces)") {
  auto inner = std::make_shared<TestServerFactory<>>();
  auto factory = std::make_shared<reactor::WrappingFactory>(inner);
  Wired c(*factory);
  REQUIRE(c.wrapper);
  REQUIRE(inner->protocols.size() == 1);
  auto& wrapped = *inner->protocols[0];
  CHECK(wrapped.madeCount == 1);
  CHECK(&wrapped.transport() != c.transport.get());  // a wrapper sits in between
  CHECK(dynamic_cast<reactor::ITCPTransport*>(&wrapped.transport()) != nullptr);
  CHECK(wrapped.transport().getPeer() == kPeer);
  CHECK(wrapped.transport().getHost() == c.transport->getHost());
  CHECK(factory->protocols().size() == 1);
}

TEST_CASE("ProtocolWrapper passes data both ways and connectionLost once, marking the wrapped protocol disconnected") {
  auto inner = std::make_shared<TestServerFactory<>>();
  inner->setup = [](AccumulatingProtocol& p) {
    p.onData = [](AccumulatingProtocol& self, ByteView data) { self.transport().write(data); };
  };
  auto factory = std::make_shared<reactor::WrappingFactory>(inner);
  Wired c(*factory);
  c.wrapper->dataReceived(asBytes("ping"));
  auto& wrapped = *inner->protocols[0];
  CHECK(wrapped.data == "ping");
  CHECK(c.transport->value() == "ping");
  wrapped.transport().loseConnection();
  CHECK(c.transport->disconnecting());
  c.lose();
  CHECK(wrapped.lostCount == 1);
  CHECK_FALSE(wrapped.connected());
  CHECK(factory->protocols().empty());
}

TEST_CASE("the wrapped protocol's transport is dead once the wrapper is gone, and the pair leaks no cycle") {
  auto inner = std::make_shared<TestServerFactory<>>();
  auto factory = std::make_shared<reactor::WrappingFactory>(inner);
  std::weak_ptr<reactor::Protocol> weakWrapper;
  {
    Wired c(*factory);
    weakWrapper = c.wrapper;
    c.lose();
  }
  CHECK(weakWrapper.expired());
  auto& wrapped = *inner->protocols[0];
  wrapped.transport().write(asBytes("ignored"));  // no crash, no effect
  CHECK_FALSE(wrapped.transport().connected());
  CHECK(wrapped.transport().disconnecting());
}

namespace {

/// A wrapped protocol that opted in to half-close and counts what it heard.
class HalfCloseInner final : public AccumulatingProtocol, public reactor::IHalfCloseableProtocol {
 public:
  void readConnectionLost() override { ++readLost; }
  void writeConnectionLost() override { ++writeLost; }
  int readLost = 0;
  int writeLost = 0;
};

}  // namespace

TEST_CASE("ProtocolWrapper passes half-close both ways for a wrapped protocol that opts in") {
  auto inner = std::make_shared<TestServerFactory<HalfCloseInner>>();
  auto factory = std::make_shared<reactor::WrappingFactory>(inner);
  Wired c(*factory);
  REQUIRE(inner->protocols.size() == 1);
  auto& wrapped = *inner->protocols[0];
  wrapped.transport().loseWriteConnection();  // through the wrapper to the real transport
  CHECK(c.transport->writeDisconnecting());
  CHECK_FALSE(c.transport->disconnecting());
  auto* half = dynamic_cast<reactor::IHalfCloseableProtocol*>(c.wrapper.get());
  REQUIRE(half != nullptr);  // the wrapper opts in on the real transport
  half->writeConnectionLost();
  half->readConnectionLost();
  CHECK(wrapped.writeLost == 1);
  CHECK(wrapped.readLost == 1);
  CHECK_FALSE(c.transport->disconnecting());  // the wrapped protocol decides when to close
  c.lose();
  CHECK(wrapped.lostCount == 1);
}

TEST_CASE("ProtocolWrapper closes on the peer's EOF for a wrapped protocol that does not opt in") {
  auto inner = std::make_shared<TestServerFactory<>>();
  auto factory = std::make_shared<reactor::WrappingFactory>(inner);
  Wired c(*factory);
  auto* half = dynamic_cast<reactor::IHalfCloseableProtocol*>(c.wrapper.get());
  REQUIRE(half != nullptr);
  half->readConnectionLost();
  CHECK(c.transport->disconnecting());  // what the transport does itself without the wrapper
  c.lose();
  CHECK(inner->protocols.at(0)->lostCount == 1);
}

TEST_CASE("ProtocolWrapper forwards registerProducer and unregisterProducer to the real transport") {
  struct Producer : reactor::IProducer {
    void resumeProducing() override {}
    void stopProducing() override {}
  };
  auto inner = std::make_shared<TestServerFactory<>>();
  auto factory = std::make_shared<reactor::WrappingFactory>(inner);
  Wired c(*factory);
  auto producer = std::make_shared<Producer>();
  inner->protocols[0]->transport().registerProducer(producer, true);
  CHECK(c.transport->producer() == producer);
  CHECK(c.transport->streaming());
  inner->protocols[0]->transport().unregisterProducer();
  CHECK(c.transport->producer() == nullptr);
}

TEST_CASE("a ProtocolWrapper subclass sees every byte the wrapped protocol writes") {
  class Recorder : public reactor::ProtocolWrapper {
   public:
    using ProtocolWrapper::ProtocolWrapper;
    std::string seen;
    void write(ByteView data) override {
      seen.append(reactor::asText(data));
      ProtocolWrapper::write(data);
    }
  };
  class RecordingFactory : public reactor::WrappingFactory {
   public:
    using WrappingFactory::WrappingFactory;
    std::shared_ptr<reactor::ProtocolWrapper> wrapProtocol(std::shared_ptr<reactor::Protocol> wrapped) override {
      return std::make_shared<Recorder>(self(), std::move(wrapped));
    }
  };
  auto inner = std::make_shared<TestServerFactory<>>();
  inner->setup = [](AccumulatingProtocol& p) { p.onMade = [](AccumulatingProtocol& self) { self.transport().write(asBytes("hello")); }; };
  auto factory = std::make_shared<RecordingFactory>(inner);
  Wired c(*factory);
  CHECK(static_cast<Recorder&>(*c.wrapper).seen == "hello");
  CHECK(c.transport->value() == "hello");
}

TEST_CASE("WrappingFactory refuses when the wrapped factory refuses, and starts/stops it with itself") {
  auto inner = std::make_shared<TestServerFactory<>>();
  inner->refuse = true;
  auto factory = std::make_shared<reactor::WrappingFactory>(inner);
  CHECK(factory->buildProtocol(kPeer) == nullptr);
  factory->doStart();
  CHECK(inner->startCount == 1);
  factory->doStop();
  CHECK(inner->stopCount == 1);
}

TEST_CASE("WrappingFactory passes ClientFactory callbacks on to the wrapped client factory") {
  struct Connector : reactor::IConnector {
    void stopConnecting() override {}
    void disconnect() override {}
    void connect() override {}
    Address getDestination() const override { return kPeer; }
  } connector;
  auto inner = std::make_shared<TestClientFactory<>>();
  auto factory = std::make_shared<reactor::WrappingFactory>(inner);
  factory->startedConnecting(connector);
  factory->clientConnectionFailed(connector, Failure(reactor::FailureType::ConnectionRefused));
  factory->clientConnectionLost(connector, Failure::connectionDone());
  CHECK(inner->startedCount == 1);
  REQUIRE(inner->failures.size() == 1);
  CHECK(inner->failures[0].check(reactor::FailureType::ConnectionRefused));
  CHECK(inner->losses.size() == 1);
}

// --- ThrottlingFactory --------------------------------------------------------------------------

TEST_CASE("ThrottlingFactory refuses connections past maxConnectionCount until one closes (test_limit)") {
  ManualClock clock;
  auto factory = std::make_shared<reactor::ThrottlingFactory>(clock, std::make_shared<TestServerFactory<>>(), 2);
  Wired a(*factory), b(*factory);
  CHECK(a.wrapper);
  CHECK(b.wrapper);
  CHECK(factory->connectionCount == 2);
  CHECK(factory->buildProtocol(kPeer) == nullptr);
  a.lose();
  CHECK(factory->connectionCount == 1);
  Wired c(*factory);
  CHECK(c.wrapper);
}

TEST_CASE("ThrottlingFactory pauses reading for bytes/limit - 1 seconds past readLimit (test_readLimit)") {
  ManualClock clock;
  auto factory = std::make_shared<reactor::ThrottlingFactory>(clock, std::make_shared<TestServerFactory<>>(),
                                                              reactor::ThrottlingFactory::kUnlimited, 10);
  Wired c(*factory);
  c.wrapper->dataReceived(asBytes(std::string(25, 'x')));
  CHECK(factory->readThisSecond == 25);
  CHECK(c.transport->producerState() == StringTransport::ProducerState::Producing);
  clock.advance(1.0);  // the check: 25 > 10, paused for 25/10 - 1 = 1.5 s
  CHECK(factory->readThisSecond == 0);
  CHECK(c.transport->producerState() == StringTransport::ProducerState::Paused);
  clock.advance(1.49);
  CHECK(c.transport->producerState() == StringTransport::ProducerState::Paused);
  clock.advance(0.01);
  CHECK(c.transport->producerState() == StringTransport::ProducerState::Producing);
  c.lose();
  CHECK(clock.getDelayedCalls().empty());  // the checks stop with the last connection
}

TEST_CASE("ThrottlingFactory pauses the registered producer past writeLimit, write and writeSequence alike (test_writeLimit)") {
  struct Producer : reactor::IProducer {
    bool paused = false;
    void pauseProducing() override { paused = true; }
    void resumeProducing() override { paused = false; }
    void stopProducing() override {}
  };
  ManualClock clock;
  auto inner = std::make_shared<TestServerFactory<>>();
  auto factory = std::make_shared<reactor::ThrottlingFactory>(clock, inner, reactor::ThrottlingFactory::kUnlimited,
                                                              std::nullopt, 10);
  Wired c(*factory);
  auto producer = std::make_shared<Producer>();
  auto& wrapped = inner->protocols[0]->transport();
  wrapped.registerProducer(producer, true);
  wrapped.write(asBytes("0123456789"));
  const std::array<ByteView, 2> pieces{asBytes("abc"), asBytes("de")};
  wrapped.writeSequence(pieces);
  CHECK(factory->writtenThisSecond == 15);
  CHECK(c.transport->value() == "0123456789abcde");
  clock.advance(1.0);  // 15 > 10: paused for 0.5 s
  CHECK(producer->paused);
  clock.advance(0.5);
  CHECK_FALSE(producer->paused);
  c.lose();
}

TEST_CASE("LimitConnectionsByPeer refuses a host's connections past maxConnectionsPerPeer, other hosts still welcome") {
  auto factory = std::make_shared<reactor::LimitConnectionsByPeer>(std::make_shared<TestServerFactory<>>(), 2);
  const Address other{Address::Type::TCP, "10.9.9.9", 1000, false};
  Wired a(*factory), b(*factory);
  CHECK(factory->connectionsFrom(kPeer.host) == 2);
  CHECK(factory->buildProtocol(kPeer) == nullptr);
  Wired c(*factory, other);
  CHECK(c.wrapper);
  a.lose();
  CHECK(factory->connectionsFrom(kPeer.host) == 1);
  Wired d(*factory);
  CHECK(d.wrapper);
}

TEST_CASE("LimitConnectionsByPeer over real loopback connections: the second one from 127.0.0.1 is closed at once") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  auto inner = std::make_shared<TestServerFactory<>>();
  auto port = reactor::testing::listenLocal(reactor, std::make_shared<reactor::LimitConnectionsByPeer>(inner, 1));
  auto first = std::make_shared<TestClientFactory<>>();
  auto second = std::make_shared<TestClientFactory<>>();
  bool firstStillUp = false;
  first->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol&) { reactor::testing::connectTo(reactor, *port, second); };
  };
  second->setup = [&](AccumulatingProtocol& p) {
    p.onLost = [&](AccumulatingProtocol&, const Failure&) {
      firstStillUp = first->protocols[0]->connected();
      first->protocols[0]->transport().loseConnection();
      reactor.stop();
    };
  };
  reactor::testing::connectTo(reactor, *port, first);
  reactor::testing::runReactor(reactor);
  CHECK(firstStillUp);
  CHECK(inner->buildCalls == 1);
  CHECK(second->protocols.size() == 1);
  CHECK(second->protocols[0]->data.empty());
}

// --- TimeoutMixin -------------------------------------------------------------------------------

class TimeoutTester : public AccumulatingProtocol, public reactor::TimeoutMixin {
 public:
  explicit TimeoutTester(reactor::IReactorTime& clock) : TimeoutMixin(clock) {}
  void connectionMade() override {
    AccumulatingProtocol::connectionMade();
    setTimeout(3.0);
  }
  void dataReceived(ByteView data) override {
    resetTimeout();
    AccumulatingProtocol::dataReceived(data);
  }
  void connectionLost(const Failure& reason) override {
    setTimeout(std::nullopt);
    AccumulatingProtocol::connectionLost(reason);
  }
  void timeoutConnection() override {
    ++timedOut;
    TimeoutMixin::timeoutConnection();
  }
  int timedOut = 0;
};

struct TimeoutFixture {
  ManualClock clock;
  std::shared_ptr<TimeoutTester> protocol = std::make_shared<TimeoutTester>(clock);
  std::shared_ptr<StringTransport> transport = std::make_shared<StringTransport>();
  TimeoutFixture() { protocol->makeConnection(transport); }
};

TEST_CASE("TimeoutMixin times the connection out after the period and loses it (test_timeout)") {
  TimeoutFixture f;
  f.clock.pump({1.0, 1.0, 0.99});
  CHECK(f.protocol->timedOut == 0);
  f.clock.advance(0.01);
  CHECK(f.protocol->timedOut == 1);
  CHECK(f.transport->disconnecting());
}

TEST_CASE("TimeoutMixin resetTimeout on traffic restarts the countdown (test_noTimeout, test_resetTimeout)") {
  TimeoutFixture f;
  f.clock.advance(2.0);
  f.protocol->dataReceived(asBytes("x"));
  f.clock.advance(2.0);
  CHECK(f.protocol->timedOut == 0);
  f.clock.advance(1.0);
  CHECK(f.protocol->timedOut == 1);
}

TEST_CASE("TimeoutMixin setTimeout(nullopt) cancels, and setTimeout returns the previous period (test_cancelTimeout, test_return)") {
  TimeoutFixture f;
  CHECK(f.protocol->setTimeout(std::nullopt) == std::optional<double>(3.0));
  CHECK(f.clock.getDelayedCalls().empty());
  f.clock.advance(10.0);
  CHECK(f.protocol->timedOut == 0);
  CHECK(f.protocol->setTimeout(std::nullopt) == std::nullopt);  // cancelling twice is fine
  CHECK(f.protocol->setTimeout(5.0) == std::nullopt);
  CHECK(f.protocol->setTimeout(1.0) == std::optional<double>(5.0));  // a running countdown restarts at 1 s
  f.clock.advance(1.0);
  CHECK(f.protocol->timedOut == 1);
  CHECK(f.protocol->timeOut() == std::optional<double>(1.0));
}

TEST_CASE("TimeoutMixin resetTimeout does nothing when no countdown runs, and the mixin cancels its timer when destroyed") {
  ManualClock clock;
  {
    auto p = std::make_shared<TimeoutTester>(clock);  // never connected: no countdown
    p->resetTimeout();
    CHECK(clock.getDelayedCalls().empty());
    p->setTimeout(2.0);
    CHECK(clock.getDelayedCalls().size() == 1);
  }
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("TimeoutMixin uses an overridden callLater (test_overriddenCallLater)") {
  struct Mine : reactor::TimeoutMixin {
    explicit Mine(reactor::IReactorTime& unused, ManualClock& own) : TimeoutMixin(unused), own_(own) {}
    reactor::DelayedCall callLater(double period, std::function<void()> f) override {
      return own_.callLater(period, std::move(f));
    }
    void timeoutConnection() override { ++fired; }
    ManualClock& own_;
    int fired = 0;
  };
  ManualClock unused, own;
  Mine m(unused, own);
  m.setTimeout(1.0);
  CHECK(unused.getDelayedCalls().empty());
  own.advance(1.0);
  CHECK(m.fired == 1);
}

}  // namespace
