// Tests for half-close (ITransport::loseWriteConnection and IHalfCloseableProtocol) on the stream
// transport, over TCP and over UNIX sockets: Twisted's HalfCloseTests / HalfClose2Tests /
// HalfCloseNoNotificationAndShutdownExceptionTests in our terms. Every case runs on both.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "reactor/reactor.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/temp_dir.h"

using reactor::asBytes;
using reactor::ByteView;
using reactor::Failure;
using reactor::FailureType;
using reactor::IListeningPort;
using reactor::Reactor;
using namespace reactor::testing;

namespace {

/// AccumulatingProtocol that opted in to half-close; records the order of its events in `events`.
class HalfCloseProtocol : public AccumulatingProtocol, public reactor::IHalfCloseableProtocol {
 public:
  void readConnectionLost() override {
    events.push_back("readLost");
    if (onReadLost) onReadLost(*this);
  }
  void writeConnectionLost() override {
    events.push_back("writeLost");
    if (onWriteLost) onWriteLost(*this);
  }
  void connectionLost(const Failure& reason) override {
    events.push_back("lost");
    AccumulatingProtocol::connectionLost(reason);
  }
  std::vector<std::string> events;
  std::function<void(HalfCloseProtocol&)> onReadLost;
  std::function<void(HalfCloseProtocol&)> onWriteLost;
};

/// One reactor, a listener over TCP or UNIX, and a connect to it.
struct Pair {
  explicit Pair(bool unixSocket) : unix(unixSocket) {}
  template <class S, class C>
  void start(const std::shared_ptr<TestServerFactory<S>>& server, const std::shared_ptr<TestClientFactory<C>>& client) {
    if (unix) {
      port = reactor.listenUNIX(dir.file("h.sock"), server);
      reactor.connectUNIX(dir.file("h.sock"), client, 5);
    } else {
      port = listenLocal(reactor, server);
      connectTo(reactor, *port, client);
    }
  }
  bool unix;
  testsupport::TempDir dir{"uvm-half"};
  Reactor reactor;
  std::shared_ptr<IListeningPort> port;
};

}  // namespace

TEST_CASE("half-close: the peer's EOF is readConnectionLost, and the answer still goes out") {
  for (bool unixSocket : {false, true}) {
    CAPTURE(unixSocket);
    LoopCleanCheck clean;
    Pair pair(unixSocket);
    auto stopper = std::make_shared<StopAfter>(pair.reactor, 2);
    auto server = std::make_shared<TestServerFactory<HalfCloseProtocol>>();
    server->setup = [&](HalfCloseProtocol& p) {
      // The request is complete only at EOF (a protocol that reads "until the end"): answer then.
      p.onReadLost = [](HalfCloseProtocol& self) {
        self.transport().write(asBytes("answer to " + self.data));
        self.transport().loseConnection();
      };
      p.onLost = [stopper](AccumulatingProtocol&, const Failure&) { stopper->done(); };
    };
    auto client = std::make_shared<TestClientFactory<HalfCloseProtocol>>();
    client->setup = [&](HalfCloseProtocol& p) {
      p.onMade = [](AccumulatingProtocol& self) {
        self.transport().write(asBytes("request"));
        self.transport().loseWriteConnection();  // queued data first, then the FIN
        self.transport().write(asBytes("+late"));  // accepted: the shutdown has not begun
      };
      p.onLost = [stopper](AccumulatingProtocol&, const Failure&) { stopper->done(); };
    };
    pair.start(server, client);
    runReactor(pair.reactor);
    REQUIRE(server->protocols.size() == 1);
    REQUIRE(client->protocols.size() == 1);
    auto& s = *server->protocols[0];
    auto& c = *client->protocols[0];
    CHECK(s.data == "request+late");
    CHECK(s.events == std::vector<std::string>{"readLost", "lost"});
    CHECK(c.data == "answer to request+late");
    CHECK(c.events == std::vector<std::string>{"writeLost", "readLost", "lost"});
    CHECK(isOneOf(c.closedReason, {FailureType::ConnectionDone}));
    CHECK(isOneOf(s.closedReason, {FailureType::ConnectionDone}));
    CHECK(s.lostCount == 1);
    CHECK(c.lostCount == 1);
    CHECK_FALSE(s.reentrantLoss);
    CHECK_FALSE(c.reentrantLoss);
    pair.port->stopListening();
  }
}

TEST_CASE("half-close: both sides shut closes the connection by itself, connectionLost once") {
  for (bool unixSocket : {false, true}) {
    CAPTURE(unixSocket);
    LoopCleanCheck clean;
    Pair pair(unixSocket);
    auto stopper = std::make_shared<StopAfter>(pair.reactor, 2);
    auto server = std::make_shared<TestServerFactory<HalfCloseProtocol>>();
    server->setup = [&](HalfCloseProtocol& p) {
      p.onReadLost = [](HalfCloseProtocol& self) { self.transport().loseWriteConnection(); };
      p.onLost = [stopper](AccumulatingProtocol&, const Failure&) { stopper->done(); };
    };
    auto client = std::make_shared<TestClientFactory<HalfCloseProtocol>>();
    client->setup = [&](HalfCloseProtocol& p) {
      p.onMade = [](AccumulatingProtocol& self) { self.transport().loseWriteConnection(); };
      p.onWriteLost = [](HalfCloseProtocol& self) {
        // Writing after our side is shut is ignored, not an error.
        self.transport().write(asBytes("ignored"));
        CHECK(self.transport().connected());
      };
      p.onLost = [stopper](AccumulatingProtocol&, const Failure&) { stopper->done(); };
    };
    pair.start(server, client);
    runReactor(pair.reactor);
    REQUIRE(server->protocols.size() == 1);
    REQUIRE(client->protocols.size() == 1);
    auto& s = *server->protocols[0];
    auto& c = *client->protocols[0];
    CHECK(s.events == std::vector<std::string>{"readLost", "writeLost", "lost"});
    CHECK(c.events == std::vector<std::string>{"writeLost", "readLost", "lost"});
    CHECK(s.data.empty());
    CHECK(isOneOf(s.closedReason, {FailureType::ConnectionDone}));
    CHECK(isOneOf(c.closedReason, {FailureType::ConnectionDone}));
    pair.port->stopListening();
  }
}

TEST_CASE("half-close: a protocol that did not opt in is closed by the peer's EOF, as before") {
  for (bool unixSocket : {false, true}) {
    CAPTURE(unixSocket);
    LoopCleanCheck clean;
    Pair pair(unixSocket);
    auto stopper = std::make_shared<StopAfter>(pair.reactor, 2);
    auto server = std::make_shared<TestServerFactory<AccumulatingProtocol>>();
    server->setup = [&](AccumulatingProtocol& p) {
      p.onData = [](AccumulatingProtocol& self, ByteView) { self.transport().write(asBytes("ack")); };
      p.onLost = [stopper](AccumulatingProtocol&, const Failure&) { stopper->done(); };
    };
    auto client = std::make_shared<TestClientFactory<HalfCloseProtocol>>();
    client->setup = [&](HalfCloseProtocol& p) {
      p.onMade = [](AccumulatingProtocol& self) {
        self.transport().write(asBytes("x"));
        self.transport().loseWriteConnection();
      };
      p.onLost = [stopper](AccumulatingProtocol&, const Failure&) { stopper->done(); };
    };
    pair.start(server, client);
    runReactor(pair.reactor);
    REQUIRE(server->protocols.size() == 1);
    auto& s = *server->protocols[0];
    auto& c = *client->protocols[0];
    CHECK(s.lostCount == 1);
    CHECK(isOneOf(s.closedReason, {FailureType::ConnectionDone}));
    // The server answered what it had read before the EOF closed it.
    CHECK(c.data == "ack");
    CHECK(c.events.back() == "lost");
    CHECK(c.lostCount == 1);
    pair.port->stopListening();
  }
}

TEST_CASE("half-close: an exception from readConnectionLost closes the connection with it") {
  for (bool unixSocket : {false, true}) {
    CAPTURE(unixSocket);
    LoopCleanCheck clean;
    LogCapture log;
    Pair pair(unixSocket);
    auto stopper = std::make_shared<StopAfter>(pair.reactor, 2);
    auto server = std::make_shared<TestServerFactory<HalfCloseProtocol>>();
    server->setup = [&](HalfCloseProtocol& p) {
      p.onReadLost = [](HalfCloseProtocol&) { throw std::runtime_error("bad half-close handler"); };
      p.onLost = [stopper](AccumulatingProtocol&, const Failure&) { stopper->done(); };
    };
    auto client = std::make_shared<TestClientFactory<HalfCloseProtocol>>();
    client->setup = [&](HalfCloseProtocol& p) {
      p.onMade = [](AccumulatingProtocol& self) { self.transport().loseWriteConnection(); };
      p.onLost = [stopper](AccumulatingProtocol&, const Failure&) { stopper->done(); };
    };
    pair.start(server, client);
    runReactor(pair.reactor);
    REQUIRE(server->protocols.size() == 1);
    auto& s = *server->protocols[0];
    CHECK(s.lostCount == 1);
    CHECK(s.closedReason.has_value());
    CHECK(describe(s.closedReason).find("bad half-close handler") != std::string::npos);
    CHECK(log.count("readConnectionLost") == 1);
    pair.port->stopListening();
  }
}

TEST_CASE("StringTransport records loseWriteConnection and stays connected") {
  StringTransport t;
  t.loseWriteConnection();
  CHECK(t.writeDisconnecting());
  CHECK(t.connected());
  CHECK_FALSE(t.disconnecting());
}
