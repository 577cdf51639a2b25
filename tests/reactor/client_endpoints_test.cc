// Tests for reactor/client_endpoints.cc: Twisted's clientFromString (tcp, unix, tls/ssl), the
// Deferred of IStreamClientEndpoint.connect, connectProtocol, and serverFromString's "unix" parser, driven through real sockets on loopback and in a temporary
// directory.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>

#include "reactor/endpoints.h"
#include "reactor/reactor.h"
#include "reactor/tls.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/temp_dir.h"

using reactor::asBytes;
using reactor::ByteView;
using reactor::clientFromString;
using reactor::EndpointError;
using reactor::Reactor;
using reactor::serverFromString;
using namespace reactor::testing;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

/// Connects through `endpoint`, sends "ping", and runs until the server has it; returns what it got.
std::string pingThrough(Reactor& reactor, reactor::IStreamClientEndpoint& endpoint,
                        TestServerFactory<AccumulatingProtocol>& server) {
  server.setup = [&](AccumulatingProtocol& p) {
    p.onData = [&](AccumulatingProtocol& self, ByteView) {
      if (self.data == "ping") reactor.stop();
    };
  };
  auto client = std::make_shared<TestClientFactory<>>();
  client->setup = [](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& self) { self.transport().write(asBytes("ping")); };
  };
  endpoint.connectClientFactory(client);
  runReactor(reactor);
  return server.protocols.empty() ? std::string() : server.protocols[0]->data;
}

}  // namespace

TEST_CASE("serverFromString unix: listens with the mode, the lockfile and the backlog given") {
  LoopCleanCheck clean;
  testsupport::TempDir dir("uvm-ep");
  const std::string path = dir.file("m.sock");
  Reactor reactor;
  auto endpoint = serverFromString(reactor, "unix:" + reactor::quoteStringArgument(path) + ":mode=0600:backlog=5");
  auto factory = std::make_shared<TestServerFactory<>>();
  auto port = endpoint->listen(factory);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(exists(path + ".lock"));  // lockfile defaults to on, as in Twisted
  port->stopListening();
  CHECK_FALSE(exists(path));
  CHECK_FALSE(exists(path + ".lock"));

  auto noLock = serverFromString(reactor, "unix:" + path + ":lockfile=0");
  auto second = noLock->listen(factory);
  CHECK_FALSE(exists(path + ".lock"));
  second->stopListening();
}

TEST_CASE("serverFromString unix: bad fields are EndpointErrors") {
  Reactor reactor;
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:mode=0999"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:mode=rw"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:lockfile=maybe"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:backlog=0"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:colour=red"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:"), EndpointError);
}

TEST_CASE("clientFromString tcp:host=H:port=P connects, and tcp:H:P too") {
  for (const char* form : {"tcp:host=127.0.0.1:port=%d:timeout=5", "tcp:127.0.0.1:%d"}) {
    CAPTURE(form);
    LoopCleanCheck clean;
    Reactor reactor;
    auto server = std::make_shared<TestServerFactory<>>();
    auto port = listenLocal(reactor, server);
    char text[80];
    std::snprintf(text, sizeof text, form, static_cast<int>(port->getHost().port));
    auto endpoint = clientFromString(reactor, text);
    CHECK(endpoint->describe() == "tcp:127.0.0.1:" + std::to_string(port->getHost().port));
    CHECK(pingThrough(reactor, *endpoint, *server) == "ping");
    port->stopListening();
  }
}

TEST_CASE("clientFromString unix:path=P and unix:P connect to a listenUNIX port") {
  testsupport::TempDir dir("uvm-ep");
  const std::string path = dir.file("c.sock");
  for (std::string form : {"unix:path=" + path + ":timeout=2", "unix:" + path}) {
    CAPTURE(form);
    LoopCleanCheck clean;
    Reactor reactor;
    auto server = std::make_shared<TestServerFactory<>>();
    auto port = reactor.listenUNIX(path, server);
    auto endpoint = clientFromString(reactor, form);
    CHECK(endpoint->describe() == "unix:" + path);
    CHECK(pingThrough(reactor, *endpoint, *server) == "ping");
    port->stopListening();
  }
}

TEST_CASE("clientFromString refuses what it cannot connect to, naming the problem") {
  Reactor reactor;
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "udp:host=1.2.3.4:port=5"), doctest::Contains("unknown client endpoint"),
                       EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "tcp:host=127.0.0.1"), doctest::Contains("port"), EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "tcp:port=502"), doctest::Contains("host"), EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "tcp:host=h:port=502:timeout=-1"), doctest::Contains("timeout"),
                       EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "tcp:host=h:port=70000"), doctest::Contains("port"), EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "unix:timeout=3"), doctest::Contains("path"), EndpointError);
  CHECK_THROWS_AS(clientFromString(reactor, "tcp:host=h:port=502:colour=red"), EndpointError);
}

TEST_CASE("clientFromString ssl: is tls:, and needs a CA unless verify=false") {
  Reactor reactor;
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "ssl:host=127.0.0.1:port=802"), doctest::Contains("caCertsFile"),
                       EndpointError);
  auto endpoint = clientFromString(reactor, "ssl:host=127.0.0.1:port=802:verify=false");
  CHECK(endpoint->describe() == "tls:127.0.0.1:802");
  CHECK_THROWS_AS(clientFromString(reactor, "tls:host=127.0.0.1:port=802:caCertsFile=/nonexistent/ca.pem"),
                  reactor::TlsError);
}

namespace {

/// A client protocol that records what it heard, half-close included: on the peer's EOF it writes
/// "bye" and closes.
class HalfCloseClient final : public AccumulatingProtocol, public reactor::IHalfCloseableProtocol {
 public:
  void readConnectionLost() override {
    ++readLost;
    transport().write(asBytes("bye"));
    transport().loseConnection();
  }
  void writeConnectionLost() override { ++writeLost; }
  int readLost = 0;
  int writeLost = 0;
};

/// Any Factory (not a ClientFactory, as Twisted's endpoints take) that stops the reactor when it is
/// stopped itself: the end of a connection attempt and of the connection it made.
template <class P = AccumulatingProtocol>
class StoppingFactory final : public TestServerFactory<P> {
 public:
  explicit StoppingFactory(Reactor& reactor) : reactor_(reactor) {}
  void stopFactory() override {
    TestServerFactory<P>::stopFactory();
    stopIfRunning(reactor_);
  }

 private:
  Reactor& reactor_;
};

/// A free loopback port with nothing listening on it (bound, read back, closed).
std::uint16_t closedPort(Reactor& reactor) {
  auto port = listenLocal(reactor, std::make_shared<TestServerFactory<>>());
  const auto number = port->getHost().port;
  port->stopListening();
  return number;
}

std::string tcpTo(const reactor::IListeningPort& port) {
  return "tcp:127.0.0.1:" + std::to_string(port.getHost().port);
}

using ProtocolPtr = std::shared_ptr<reactor::Protocol>;

}  // namespace

TEST_CASE("endpoint connect fires with the protocol after its connectionMade") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [&](AccumulatingProtocol& p) {
    p.onData = [&](AccumulatingProtocol& self, ByteView) {
      if (self.data == "hello") self.transport().loseConnection();
    };
  };
  auto port = listenLocal(reactor, server);
  auto endpoint = clientFromString(reactor, tcpTo(*port));
  auto client = std::make_shared<StoppingFactory<>>(reactor);
  bool madeBeforeFired = false;
  bool sameProtocol = false;
  endpoint->connect(client).addCallback([&](ProtocolPtr p) {
    madeBeforeFired = client->protocols.at(0)->madeCount == 1 && p->connected();
    sameProtocol = p == client->protocols.at(0);
    p->transport().write(asBytes("hello"));
  });
  CHECK(client->startCount == 1);
  CHECK(runReactor(reactor));  // until the server closed and the client's factory stopped
  CHECK(madeBeforeFired);
  CHECK(sameProtocol);
  CHECK(server->protocols.at(0)->data == "hello");
  CHECK(client->protocols.at(0)->lostCount == 1);
  CHECK(client->stopCount == 1);
  port->stopListening();
}

TEST_CASE("endpoint connect errbacks with ConnectionRefused when nothing listens") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto endpoint = clientFromString(reactor, "tcp:127.0.0.1:" + std::to_string(closedPort(reactor)));
  auto client = std::make_shared<StoppingFactory<>>(reactor);
  std::optional<reactor::Failure> failure;
  endpoint->connect(client).addErrback([&](const reactor::Failure& f) -> ProtocolPtr {
    failure = f;
    return nullptr;
  });
  CHECK(runReactor(reactor));
  REQUIRE(failure.has_value());
  CHECK(failure->check(reactor::FailureType::ConnectionRefused));
  CHECK(client->buildCalls == 0);
  CHECK(client->startCount == 1);
  CHECK(client->stopCount == 1);
}

TEST_CASE("endpoint connect errbacks NoProtocol when the factory builds none") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<TestServerFactory<>>();
  auto port = listenLocal(reactor, server);
  auto endpoint = clientFromString(reactor, tcpTo(*port));
  auto client = std::make_shared<StoppingFactory<>>(reactor);
  client->refuse = true;
  std::string message;
  endpoint->connect(client).addErrback([&](const reactor::Failure& f) -> ProtocolPtr {
    message = f.getErrorMessage();
    return nullptr;
  });
  CHECK(runReactor(reactor));
  CHECK(message.find("NoProtocol") != std::string::npos);
  CHECK(client->buildCalls == 1);
  port->stopListening();
}

TEST_CASE("cancelling endpoint connect while connecting abandons the attempt with CancelledError") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<TestServerFactory<>>();
  auto port = listenLocal(reactor, server);
  auto endpoint = clientFromString(reactor, tcpTo(*port));
  auto client = std::make_shared<StoppingFactory<>>(reactor);
  bool cancelled = false;
  auto d = endpoint->connect(client);
  d.addErrback([&](const reactor::Failure& f) -> ProtocolPtr {
    cancelled = f.check<reactor::CancelledError>();
    return nullptr;
  });
  d.cancel();  // before the loop ever ran: the TCP connect cannot have completed
  CHECK(cancelled);
  CHECK(client->stopCount == 1);  // the attempt was abandoned, its factory stopped
  // A pass of the loop lets libuv finish with the abandoned socket; nothing is built from it.
  reactor.callLater(0, [&] { stopIfRunning(reactor); });
  CHECK(runReactor(reactor));
  CHECK(client->buildCalls == 0);
  CHECK(server->buildCalls <= 1);  // the server may have accepted before the socket was closed
  port->stopListening();
}

TEST_CASE("connectProtocol connects the protocol object given") {
  testsupport::TempDir dir("uvm-ep");
  const std::string path = dir.file("p.sock");
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [&](AccumulatingProtocol& p) {
    p.onData = [&](AccumulatingProtocol& self, ByteView) {
      if (self.data == "mine") self.transport().loseConnection();
    };
  };
  auto port = reactor.listenUNIX(path, server);
  auto endpoint = clientFromString(reactor, "unix:" + path);
  auto mine = std::make_shared<AccumulatingProtocol>();
  mine->onLost = [&](AccumulatingProtocol&, const reactor::Failure&) { stopIfRunning(reactor); };
  bool same = false;
  reactor::connectProtocol(*endpoint, mine).addCallback([&](ProtocolPtr p) {
    same = p == mine;
    p->transport().write(asBytes("mine"));
  });
  CHECK(runReactor(reactor));
  CHECK(same);
  CHECK(mine->factory() != nullptr);
  CHECK(server->protocols.at(0)->data == "mine");
  port->stopListening();
  mine->onLost = nullptr;
}

TEST_CASE("endpoint connect passes half-close on to a protocol that opts in") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto stopper = std::make_shared<StopAfter>(reactor, 2);
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [stopper](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& self) {
      self.transport().write(asBytes("pong"));
      self.transport().loseWriteConnection();  // the client reads EOF, and may still write
    };
    p.onLost = [stopper](AccumulatingProtocol&, const reactor::Failure&) { stopper->done(); };
  };
  auto port = listenLocal(reactor, server);
  auto endpoint = clientFromString(reactor, tcpTo(*port));
  auto client = std::make_shared<TestServerFactory<HalfCloseClient>>();
  client->setup = [stopper](HalfCloseClient& p) {
    p.onLost = [stopper](AccumulatingProtocol&, const reactor::Failure&) { stopper->done(); };
  };
  endpoint->connect(client);
  CHECK(runReactor(reactor));
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->data == "pong");
  CHECK(client->protocols[0]->readLost == 1);
  CHECK(client->protocols[0]->lostCount == 1);
  CHECK(server->protocols.at(0)->data == "bye");  // written after the client read EOF
  port->stopListening();
}

TEST_CASE("endpoint connect closes on EOF for a protocol that does not opt in to half-close") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& self) {
      self.transport().write(asBytes("pong"));
      self.transport().loseWriteConnection();
    };
  };
  auto port = listenLocal(reactor, server);
  auto endpoint = clientFromString(reactor, tcpTo(*port));
  auto client = std::make_shared<StoppingFactory<>>(reactor);
  endpoint->connect(client);
  CHECK(runReactor(reactor));
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->data == "pong");
  CHECK(isOneOf(client->protocols[0]->closedReason, {reactor::FailureType::ConnectionDone}));
  port->stopListening();
}
