// Tests for reactor/protocol.cc (Protocol, Factory, ClientFactory), with no socket: the protocols
// run over tests/support's StringTransport, as Twisted's protocol tests do. Also the values those
// callbacks carry: Failure (reactor/failure.cc), Address (reactor/address.cc) and toHex (bytes.cc).
#include "reactor/protocol.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/address.h"
#include "reactor/bytes.h"
#include "reactor/failure.h"
#include "reactor/log.h"
#include "tests/support/reactor_harness.h"

using reactor::Address;
using reactor::asBytes;
using reactor::ByteView;
using reactor::Factory;
using reactor::Failure;
using reactor::FailureType;
using reactor::Protocol;
using namespace reactor::testing;

namespace {

/// Echoes every chunk back, and closes on "quit".
class Echo : public Protocol {
 public:
  void dataReceived(ByteView data) override {
    if (reactor::asText(data) == "quit") {
      transport().loseConnection();
      return;
    }
    transport().write(data);
  }
  void connectionLost(const Failure& reason) override { lost.push_back(reason); }
  std::vector<Failure> lost;
};

class Greeter : public Protocol {
 public:
  explicit Greeter(std::string greeting = "hello", int times = 1) : greeting_(std::move(greeting)), times_(times) {}
  void connectionMade() override {
    for (int i = 0; i < times_; ++i) transport().write(asBytes(greeting_));
  }

 private:
  std::string greeting_;
  int times_;
};

}  // namespace

// --- Protocol ---------------------------------------------------------------------------------------------

TEST_CASE("makeConnection sets transport and connected, then calls connectionMade once") {
  auto t = std::make_shared<StringTransport>();
  auto p = std::make_shared<AccumulatingProtocol>();
  bool connectedInMade = false;
  bool transportInMade = false;
  p->onMade = [&](AccumulatingProtocol& self) {
    connectedInMade = self.connected();
    transportInMade = &self.transport() == t.get();
  };
  CHECK_FALSE(p->connected());
  p->makeConnection(t);
  CHECK(p->madeCount == 1);
  CHECK(connectedInMade);
  CHECK(transportInMade);
  CHECK(p->transportPtr() == t);
}

TEST_CASE("transport() before makeConnection throws std::logic_error") {
  AccumulatingProtocol p;
  CHECK_THROWS_AS(p.transport(), std::logic_error);
  CHECK(p.transportPtr() == nullptr);
  CHECK(p.factory() == nullptr);
  CHECK(p.logPrefix() == "Protocol");
}

TEST_CASE("a protocol unit test over StringTransport: echo, in chunks down to one byte") {
  auto t = std::make_shared<StringTransport>();
  auto p = std::make_shared<Echo>();
  p->makeConnection(t);
  const std::string message = "twisted chunks";
  for (char c : message) p->dataReceived(asBytes(std::string_view(&c, 1)));
  CHECK(t->value() == message);
  t->clear();
  p->dataReceived(asBytes("all at once"));
  CHECK(t->value() == "all at once");
  p->dataReceived(asBytes("quit"));
  CHECK(t->disconnecting());
  CHECK(t->loseCalls() == 1);
  CHECK_FALSE(t->aborted());
  t->reportConnectionLost(*p);
  CHECK(p->lost.size() == 1);
  CHECK(p->lost[0].check(FailureType::ConnectionDone));
  CHECK_FALSE(p->connected());
  // Writes after connectionLost are ignored; the transport stays valid.
  p->dataReceived(asBytes("late"));
  CHECK(t->value() == "all at once");
  t->reportConnectionLost(*p);  // only the first report counts
  CHECK(p->lost.size() == 1);
}

TEST_CASE("StringTransport keeps producer bookkeeping as Twisted's does") {
  struct Producer : reactor::IProducer {
    int stops = 0;
    void resumeProducing() override {}
    void stopProducing() override { ++stops; }
  };
  StringTransport t;
  auto producer = std::make_shared<Producer>();
  t.registerProducer(producer, true);
  CHECK(t.producer() == producer);
  CHECK(t.streaming());
  CHECK_THROWS_AS(t.registerProducer(std::make_shared<Producer>(), false), std::logic_error);
  t.unregisterProducer();
  CHECK(t.producer() == nullptr);
  // The transport's own input, paused and resumed by a protocol.
  CHECK(t.producerState() == StringTransport::ProducerState::Producing);
  t.pauseProducing();
  CHECK(t.producerState() == StringTransport::ProducerState::Paused);
  t.resumeProducing();
  CHECK(t.producerState() == StringTransport::ProducerState::Producing);
  // A producer registered at the loss is stopped; one registered after it is stopped at once.
  t.registerProducer(producer, false);
  AccumulatingProtocol p;
  t.reportConnectionLost(p);
  CHECK(producer->stops == 1);
  t.registerProducer(producer, true);
  CHECK(producer->stops == 2);
  CHECK(t.producer() == nullptr);
  t.stopProducing();
  CHECK(t.producerState() == StringTransport::ProducerState::Stopped);
  CHECK_THROWS_AS(t.resumeProducing(), std::logic_error);
}

TEST_CASE("StringTransport has settable host and peer, TCP options and a high-water mark") {
  StringTransport t;
  CHECK(t.getHost().toString() == "10.0.0.1:12345");
  CHECK(t.getPeer().toString() == "192.168.1.1:54321");
  t.setPeer(Address{Address::Type::TCP, "::1", 502, true});
  CHECK(t.getPeer().toString() == "[::1]:502");
  t.setTcpNoDelay(true);
  t.setTcpKeepAlive(true);
  CHECK(t.getTcpNoDelay());
  CHECK(t.getTcpKeepAlive());
  t.setWriteHighWaterMark(100);
  CHECK(t.writeHighWaterMark() == 100);
  t.setBufferedAmount(7);
  CHECK(t.bufferedAmount() == 7);
  std::vector<ByteView> pieces{asBytes("a"), asBytes("bc")};
  t.writeSequence(pieces);
  CHECK(t.value() == "abc");
  t.abortConnection();
  CHECK(t.aborted());
  CHECK(t.disconnecting());
  CHECK(t.connected());  // until the loss is reported
}

// --- Factory --------------------------------------------------------------------------------------------

TEST_CASE("Factory::buildProtocol calls `protocol` and sets the protocol's factory") {
  auto factory = std::make_shared<Factory>();
  int calls = 0;
  factory->protocol = [&] {
    ++calls;
    return std::make_shared<Echo>();
  };
  auto p = factory->buildProtocol(Address{Address::Type::TCP, "127.0.0.1", 40000, false});
  REQUIRE(p != nullptr);
  CHECK(calls == 1);
  CHECK(p->factory() == factory.get());
}

TEST_CASE("Factory::buildProtocol with no `protocol`, or one returning nullptr, refuses") {
  auto factory = std::make_shared<Factory>();
  CHECK(factory->buildProtocol(Address{}) == nullptr);
  factory->protocol = [] { return std::shared_ptr<Protocol>(); };
  CHECK(factory->buildProtocol(Address{}) == nullptr);
}

TEST_CASE("Factory::forProtocol builds the protocol with its arguments") {
  auto factory = Factory::forProtocol<Greeter>(std::string("hi "), 2);
  auto p = factory->buildProtocol(Address{});
  REQUIRE(p != nullptr);
  CHECK(p->factory() == factory.get());
  auto t = std::make_shared<StringTransport>();
  p->makeConnection(t);
  CHECK(t->value() == "hi hi ");
  // Each call builds a new protocol.
  CHECK(factory->buildProtocol(Address{}) != p);
  auto typed = Factory::forProtocol<Greeter, reactor::ServerFactory>();
  CHECK(dynamic_cast<reactor::ServerFactory*>(typed.get()) != nullptr);
}

TEST_CASE("doStart/doStop call startFactory on the first port and stopFactory after the last") {
  auto f = std::make_shared<TestServerFactory<>>();
  f->doStart();
  f->doStart();
  CHECK(f->startCount == 1);
  CHECK(f->numPorts() == 2);
  f->doStop();
  CHECK(f->stopCount == 0);
  f->doStop();
  CHECK(f->stopCount == 1);
  f->doStop();  // unbalanced: ignored
  CHECK(f->stopCount == 1);
  CHECK(f->numPorts() == 0);
  f->doStart();
  CHECK(f->startCount == 2);
}

TEST_CASE("an overriding buildProtocol adopts its protocol: factory() is that factory") {
  struct Adopting : Factory {
    std::shared_ptr<Protocol> buildProtocol(const Address&) override {
      auto p = std::make_shared<Echo>();
      adopt(*p);
      return p;
    }
  };
  auto f = std::make_shared<Adopting>();
  auto p = f->buildProtocol(Address{});
  REQUIRE(p != nullptr);
  CHECK(p->factory() == f.get());
}

TEST_CASE("ProtocolAccess::markDisconnected clears connected() for the transports") {
  auto p = std::make_shared<Echo>();
  p->makeConnection(std::make_shared<StringTransport>());
  REQUIRE(p->connected());
  reactor::detail::ProtocolAccess::markDisconnected(*p);
  CHECK_FALSE(p->connected());
}

TEST_CASE("factoryAs gives the protocol its typed factory") {
  struct Counting : reactor::ServerFactory {
    int connections = 0;
  };
  struct Counter : Protocol {
    void connectionMade() override { ++factoryAs<Counting>().connections; }
  };
  auto f = Factory::forProtocol<Counter, Counting>();
  for (int i = 0; i < 3; ++i) f->buildProtocol(Address{})->makeConnection(std::make_shared<StringTransport>());
  CHECK(f->connections == 3);
}

TEST_CASE("ClientFactory's callbacks do nothing by default") {
  reactor::ClientFactory f;
  struct NullConnector : reactor::IConnector {
    void stopConnecting() override {}
    void disconnect() override {}
    void connect() override {}
    Address getDestination() const override { return {}; }
  } c;
  f.startedConnecting(c);
  f.clientConnectionFailed(c, Failure(FailureType::ConnectionRefused));
  f.clientConnectionLost(c, Failure::connectionDone());
  CHECK(f.numPorts() == 0);
}

// --- Failure, Address, bytes ------------------------------------------------------------------------------

TEST_CASE("Failure carries a type, a libuv code and a readable message") {
  Failure done;
  CHECK(done.check(FailureType::ConnectionDone));
  CHECK(done.getErrorMessage() == "ConnectionDone");
  Failure reset(FailureType::ConnectionLost, -ECONNRESET);
  CHECK(reset.check(FailureType::ConnectionLost));
  CHECK(reset.code() == -ECONNRESET);
  CHECK(reset.getErrorMessage() == "ConnectionLost: connection reset by peer (ECONNRESET)");
  Failure custom(FailureType::TimeoutError, -ETIMEDOUT, "connect timed out");
  CHECK(custom.getErrorMessage() == "TimeoutError: connect timed out (ETIMEDOUT)");
  CHECK_THROWS_WITH_AS(custom.raiseException(), "TimeoutError: connect timed out (ETIMEDOUT)", std::runtime_error);
  CHECK(std::string(reactor::toString(FailureType::ConnectionAborted)) == "ConnectionAborted");
  CHECK(std::string(reactor::toString(FailureType::DNSLookupError)) == "DNSLookupError");
}

TEST_CASE("Failure::fromException keeps the exception and rethrows it as it was") {
  struct Mine : std::runtime_error {
    Mine() : std::runtime_error("mine") {}
  };
  Failure f = Failure::fromException(std::make_exception_ptr(Mine()));
  CHECK(f.check(FailureType::UserError));
  CHECK(f.getErrorMessage() == "UserError: mine");
  CHECK_THROWS_AS(f.raiseException(), Mine);
  Failure odd = Failure::fromException(std::make_exception_ptr(42));
  CHECK(odd.getErrorMessage() == "UserError: unknown exception");
  CHECK_THROWS_AS(odd.raiseException(), int);
}

TEST_CASE("CannotListenError names the interface, port and error") {
  reactor::CannotListenError e("", 502, -EACCES);
  CHECK(e.code() == -EACCES);
  CHECK(std::string(e.what()) == "CannotListenError: couldn't listen on any:502: permission denied (EACCES)");
  reactor::CannotListenError v6("::1", 5020, -EADDRINUSE);
  CHECK(std::string(v6.what()).find("::1:5020") != std::string::npos);
}

TEST_CASE("Address::toString for IPv4, IPv6, serial and none") {
  CHECK(Address{Address::Type::TCP, "127.0.0.1", 5020, false}.toString() == "127.0.0.1:5020");
  CHECK(Address{Address::Type::UDP, "::1", 5020, true}.toString() == "[::1]:5020");
  CHECK(Address{Address::Type::Serial, "/dev/ttyUSB0", 0, false}.toString() == "/dev/ttyUSB0");
  CHECK(Address{}.toString() == "-");
  CHECK(Address{Address::Type::TCP, "127.0.0.1", 1, false} != Address{Address::Type::UDP, "127.0.0.1", 1, false});
}

TEST_CASE("toHex, asBytes and asText") {
  const reactor::Byte raw[] = {0x01, 0x02, 0xff, 0x00};
  CHECK(reactor::toHex(ByteView(raw, 4)) == "01 02 ff 00");
  CHECK(reactor::toHex(ByteView()).empty());
  CHECK(reactor::asText(asBytes("abc")) == "abc");
  CHECK(asBytes("abc").size() == 3);
}

TEST_CASE("log levels parse by name and filter what is written") {
  LogCapture logs;
  auto saved = reactor::log::level();
  CHECK(reactor::log::parseLevel("WARN") == reactor::log::Level::Warning);
  CHECK(reactor::log::parseLevel("debug") == reactor::log::Level::Debug);
  CHECK_FALSE(reactor::log::parseLevel("loud").has_value());
  reactor::log::setLevel(reactor::log::Level::Warning);
  reactor::log::info("hidden");
  reactor::log::warning("shown ", 42);
  reactor::log::setLevel(saved);
  REQUIRE(logs.lines.size() == 1);
  CHECK(logs.lines[0] == "shown 42");
}
