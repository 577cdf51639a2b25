// Tests for reactor/detail/tcp_connector.cc: connectTCP and the ClientFactory callbacks
// (startedConnecting, clientConnectionFailed, clientConnectionLost), stopConnecting, the connect
// timeout, disconnect, and reconnecting from the callbacks. Loopback only.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "reactor/reactor.h"
#include "tests/support/reactor_harness.h"

using reactor::asBytes;
using reactor::ByteView;
using reactor::Failure;
using reactor::FailureType;
using reactor::IConnector;
using reactor::Reactor;
using namespace reactor::testing;

namespace {

/// A loopback socket bound to a free port, listening with `backlog` or not listening at all
/// (then a connect to it is refused). Closed on destruction.
class RawSocket {
 public:
  explicit RawSocket(int backlog = -1) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (backlog >= 0) ::listen(fd_, backlog);
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("connectTCP to a closed port reports clientConnectionFailed(ConnectionRefused)") {
  LoopCleanCheck clean;
  Reactor r;
  RawSocket closed;  // bound, not listening: the kernel answers with a reset
  auto client = std::make_shared<TestClientFactory<>>();
  client->onFailed = [&](IConnector&, const Failure&) { stopIfRunning(r); };
  auto connector = r.connectTCP("127.0.0.1", closed.port(), client);
  REQUIRE(runReactor(r));
  REQUIRE(client->failures.size() == 1);
  CHECK(client->failures[0].check(FailureType::ConnectionRefused));
  CHECK(client->failures[0].code() == -ECONNREFUSED);
  CHECK(client->losses.empty());
  CHECK(client->buildCalls == 0);
  CHECK(client->startedCount == 1);
  // The connector started the factory for the attempt and stopped it when the attempt failed.
  CHECK(client->startCount == 1);
  CHECK(client->stopCount == 1);
  CHECK(r.connectionCount() == 0);
}

TEST_CASE("clientConnectionFailed is never called from inside connectTCP or connect") {
  LoopCleanCheck clean;
  Reactor r;
  RawSocket closed;
  auto client = std::make_shared<TestClientFactory<>>();
  int inside = 0;
  int failedInside = 0;
  // fe80::1 without a scope id fails inside connect(2) itself (EINVAL): a synchronous failure,
  // and no packet leaves the host. Reconnecting from the callback must not recurse.
  client->onFailed = [&](IConnector& c, const Failure&) {
    if (inside > 0) ++failedInside;
    if (client->failures.size() < 3) {
      ++inside;
      c.connect();
      --inside;
    } else {
      stopIfRunning(r);
    }
  };
  r.callWhenRunning([&] {
    ++inside;
    r.connectTCP("fe80::1", 502, client);
    --inside;
  });
  REQUIRE(runReactor(r));
  CHECK(failedInside == 0);
  REQUIRE(client->failures.size() == 3);
  CHECK(client->failures[0].code() == -EINVAL);
  CHECK(client->startCount == 1);
  CHECK(client->stopCount == 1);
}

TEST_CASE("connectTCP resolves a host name (localhost)") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& self) { self.transport().loseConnection(); };
  };
  // "::" takes IPv4 (mapped) and IPv6, whichever "localhost" resolves to first.
  auto port = r.listenTCP(0, server, 50, "::");
  auto client = std::make_shared<TestClientFactory<>>();
  client->onLost = [&](IConnector&, const Failure&) { stopIfRunning(r); };
  client->onFailed = [&](IConnector&, const Failure&) { stopIfRunning(r); };
  r.connectTCP("localhost", port->getHost().port, client);
  REQUIRE(runReactor(r));
  CHECK(client->failures.empty());
  CHECK(client->losses.size() == 1);
  CHECK(client->protocols.size() == 1);
  CHECK(server->protocols.size() == 1);
}

TEST_CASE("stopConnecting abandons the attempt: clientConnectionFailed(UserError), no connectionMade") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  auto port = listenLocal(r, server);
  auto client = std::make_shared<TestClientFactory<>>();
  client->onFailed = [&](IConnector&, const Failure&) {
    // Give the server a moment to see (and lose) the half-made connection, then stop.
    r.callLater(0.05, [&] { stopIfRunning(r); });
  };
  auto connector = connectTo(r, *port, client);
  connector->stopConnecting();
  CHECK_THROWS_AS(connector->stopConnecting(), std::logic_error);  // not connecting any more
  REQUIRE(runReactor(r));
  REQUIRE(client->failures.size() == 1);
  CHECK(client->failures[0].check(FailureType::UserError));
  CHECK(client->buildCalls == 0);
  CHECK(client->protocols.empty());
  CHECK(client->losses.empty());
  CHECK(r.connectionCount() == 0);
}

TEST_CASE("a connect that gets no answer reports clientConnectionFailed(TimeoutError)") {
  LoopCleanCheck clean;
  Reactor r;
  // A listener that never accepts, with its accept queue full: further SYNs are dropped, so a
  // new connect hangs until our timeout.
  RawSocket full(0);
  BlockingClient filler("127.0.0.1", full.port(), 1.0);  // backlog 0: one queued connection fills it
  REQUIRE(filler.connected());
  auto client = std::make_shared<TestClientFactory<>>();
  client->onFailed = [&](IConnector&, const Failure&) { stopIfRunning(r); };
  double started = r.seconds();
  r.connectTCP("127.0.0.1", full.port(), client, 0.3);
  REQUIRE(runReactor(r));
  double elapsed = r.seconds() - started;
  REQUIRE(client->failures.size() == 1);
  CHECK(client->failures[0].check(FailureType::TimeoutError));
  CHECK(elapsed >= 0.29);  // lower bound only: a loaded machine may be late, never early
  CHECK(r.connectionCount() == 0);
}

TEST_CASE("clientConnectionLost after the server closes, with ConnectionDone") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& self) {
      self.transport().write(asBytes("bye"));
      self.transport().loseConnection();
    };
  };
  auto port = listenLocal(r, server);
  auto client = std::make_shared<TestClientFactory<>>();
  IConnector* reported = nullptr;
  client->onLost = [&](IConnector& c, const Failure&) {
    reported = &c;
    stopIfRunning(r);
  };
  auto connector = connectTo(r, *port, client);
  REQUIRE(runReactor(r));
  CHECK(reported == connector.get());
  REQUIRE(client->losses.size() == 1);
  CHECK(client->losses[0].check(FailureType::ConnectionDone));
  CHECK(client->failures.empty());
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->data == "bye");
  CHECK(client->protocols[0]->lostCount == 1);
  // clientConnectionLost comes after the protocol's own connectionLost.
  CHECK(client->protocols[0]->closedReason->check(FailureType::ConnectionDone));
  CHECK(client->startCount == 1);
  CHECK(client->stopCount == 1);
}

TEST_CASE("getDestination reports the host and port, startedConnecting gets the connector") {
  LoopCleanCheck clean;
  Reactor r;
  RawSocket closed;
  auto client = std::make_shared<TestClientFactory<>>();
  IConnector* started = nullptr;
  client->onStarted = [&](IConnector& c) { started = &c; };
  client->onFailed = [&](IConnector&, const Failure&) { stopIfRunning(r); };
  auto connector = r.connectTCP("127.0.0.1", closed.port(), client);
  CHECK(started == connector.get());
  reactor::Address d = connector->getDestination();
  CHECK(d.type == reactor::Address::Type::TCP);
  CHECK(d.host == "127.0.0.1");
  CHECK(d.port == closed.port());
  CHECK_FALSE(d.ipv6);
  REQUIRE(runReactor(r));
  CHECK(r.connectTCP("::1", 7, client)->getDestination().ipv6);
}

TEST_CASE("disconnect closes an established connection") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  auto port = listenLocal(r, server);
  auto client = std::make_shared<TestClientFactory<>>();
  std::shared_ptr<IConnector> connector;
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol&) { connector->disconnect(); };
  };
  client->onLost = [&](IConnector&, const Failure&) { stopIfRunning(r); };
  connector = connectTo(r, *port, client);
  REQUIRE(runReactor(r));
  REQUIRE(client->losses.size() == 1);
  CHECK(client->losses[0].check(FailureType::ConnectionDone));
  CHECK(client->protocols[0]->madeCount == 1);
}

TEST_CASE("a connector reconnects from clientConnectionLost") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& self) { self.transport().loseConnection(); };
  };
  auto port = listenLocal(r, server);
  auto client = std::make_shared<TestClientFactory<>>();
  client->onLost = [&](IConnector& c, const Failure&) {
    if (client->losses.size() < 3) {
      c.connect();
    } else {
      stopIfRunning(r);
    }
  };
  connectTo(r, *port, client);
  REQUIRE(runReactor(r));
  CHECK(client->losses.size() == 3);
  CHECK(client->protocols.size() == 3);
  CHECK(server->protocols.size() == 3);
  CHECK(client->startedCount == 3);
  // The factory stayed started across the reconnects, and stopped once at the end.
  CHECK(client->startCount == 1);
  CHECK(client->stopCount == 1);
}

TEST_CASE("a connector reconnects from clientConnectionFailed after stopConnecting") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  auto port = listenLocal(r, server);
  auto client = std::make_shared<TestClientFactory<>>();
  client->onFailed = [&](IConnector& c, const Failure&) {
    // The first attempt was abandoned while libuv still held its request: try again at once.
    c.connect();
  };
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& self) { self.transport().loseConnection(); };
  };
  client->onLost = [&](IConnector&, const Failure&) { stopIfRunning(r); };
  auto connector = connectTo(r, *port, client);
  connector->stopConnecting();
  REQUIRE(runReactor(r));
  REQUIRE(client->failures.size() == 1);
  CHECK(client->failures[0].check(FailureType::UserError));
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->madeCount == 1);
  CHECK(client->losses.size() == 1);
  CHECK(r.connectionCount() == 0);
}

TEST_CASE("connect while connecting throws, a refused connector can connect again") {
  LoopCleanCheck clean;
  Reactor r;
  RawSocket closed;
  auto client = std::make_shared<TestClientFactory<>>();
  client->onFailed = [&](IConnector&, const Failure&) { stopIfRunning(r); };
  auto connector = r.connectTCP("127.0.0.1", closed.port(), client);
  CHECK_THROWS_AS(connector->connect(), std::logic_error);
  REQUIRE(runReactor(r));
  CHECK(client->failures.size() == 1);
}

TEST_CASE("stop() abandons a connection attempt in progress") {
  LoopCleanCheck clean;
  Reactor r;
  RawSocket full(0);
  BlockingClient filler("127.0.0.1", full.port(), 1.0);  // backlog 0: one queued connection fills it
  REQUIRE(filler.connected());
  auto client = std::make_shared<TestClientFactory<>>();
  LogCapture logs;
  // A grace period far beyond runReactor's limit: a stop that waited for it would fail the test.
  r.setShutdownGracePeriod(60.0);
  r.callWhenRunning([&] {
    r.connectTCP("127.0.0.1", full.port(), client, 30.0);
    r.callLater(0.05, [&] { r.stop(); });
  });
  REQUIRE(runReactor(r));
  CHECK(logs.count("did not close within the grace period") == 0);
  REQUIRE(client->failures.size() == 1);
  CHECK(client->protocols.empty());
}

TEST_CASE("connectTCP with a bindAddress connects from that local address") {
  LoopCleanCheck clean;
  Reactor reactor;
  StopAfter stopper(reactor, 2);  // the bound connection is lost, the unbindable one failed
  auto server = std::make_shared<TestServerFactory<>>();
  std::string seenPeer;
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) {
      seenPeer = q.transport().getPeer().host;
      q.transport().loseConnection();
    };
  };
  auto port = reactor.listenTCP(0, server, 50, "127.0.0.1");
  auto client = std::make_shared<TestClientFactory<>>();
  std::string localHost;
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) { localHost = q.transport().getHost().host; };
  };
  client->onLost = [&](IConnector&, const Failure&) { stopper.done(); };
  reactor.connectTCP("127.0.0.1", port->getHost().port, client, 5, "127.0.0.2");
  auto unbindable = std::make_shared<TestClientFactory<>>();
  unbindable->onFailed = [&](IConnector&, const Failure&) { stopper.done(); };
  reactor.connectTCP("127.0.0.1", port->getHost().port, unbindable, 5, "not-an-ip");
  runReactor(reactor, 10);
  CHECK(localHost == "127.0.0.2");
  CHECK(seenPeer == "127.0.0.2");
  CHECK(unbindable->failures.size() == 1);
  CHECK(unbindable->buildCalls == 0);
}
