// Tests for reactor/detail/tcp_port.cc: listenTCP (port 0, IPv6, errors), accepting, refusing
// (buildProtocol → nullptr), factory start/stop, and stopListening keeping accepted connections.
#include <doctest/doctest.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>

#include "reactor/reactor.h"
#include "tests/support/reactor_harness.h"

using reactor::asBytes;
using reactor::ByteView;
using reactor::CannotListenError;
using reactor::Failure;
using reactor::FailureType;
using reactor::Reactor;
using namespace reactor::testing;

TEST_CASE("listenTCP on port 0 reports the bound port") {
  LoopCleanCheck clean;
  Reactor r;
  auto factory = std::make_shared<TestServerFactory<>>();
  auto port = r.listenTCP(0, factory, 50, "127.0.0.1");
  reactor::Address host = port->getHost();
  CHECK(host.type == reactor::Address::Type::TCP);
  CHECK(host.host == "127.0.0.1");
  CHECK(host.port != 0);
  CHECK_FALSE(host.ipv6);
  // The reported port really is the one listening: a second bind to it fails.
  CHECK_THROWS_AS(r.listenTCP(host.port, factory, 50, "127.0.0.1"), CannotListenError);
  port->stopListening();
}

TEST_CASE("listenTCP with no interface listens on every IPv4 address") {
  LoopCleanCheck clean;
  Reactor r;
  auto port = r.listenTCP(0, std::make_shared<TestServerFactory<>>());
  CHECK(port->getHost().host == "0.0.0.0");
  CHECK(port->getHost().port != 0);
  port->stopListening();
}

TEST_CASE("listenTCP on ::1 listens on IPv6") {
  LoopCleanCheck clean;
  Reactor r;
  auto port = r.listenTCP(0, std::make_shared<TestServerFactory<>>(), 50, "::1");
  CHECK(port->getHost().host == "::1");
  CHECK(port->getHost().ipv6);
  CHECK(port->getHost().port != 0);
  port->stopListening();
}

TEST_CASE("CannotListenError on a port in use") {
  LoopCleanCheck clean;
  Reactor r;
  auto factory = std::make_shared<TestServerFactory<>>();
  auto port = r.listenTCP(0, factory, 50, "127.0.0.1");
  int code = 0;
  std::string message;
  try {
    r.listenTCP(port->getHost().port, factory, 50, "127.0.0.1");
  } catch (const CannotListenError& e) {
    code = e.code();
    message = e.what();
  }
  CHECK(code == -EADDRINUSE);
  CHECK(message.find("127.0.0.1:" + std::to_string(port->getHost().port)) != std::string::npos);
  CHECK(message.find("EADDRINUSE") != std::string::npos);
  // The failed listen neither started the factory again nor left a port behind.
  CHECK(factory->startCount == 1);
  port->stopListening();
  CHECK(factory->stopCount == 1);
}

TEST_CASE("CannotListenError for an interface that is not an IP literal") {
  LoopCleanCheck clean;
  Reactor r;
  CHECK_THROWS_AS(r.listenTCP(0, std::make_shared<TestServerFactory<>>(), 50, "not-an-address"), CannotListenError);
  CHECK_THROWS_AS(r.listenTCP(0, nullptr), std::invalid_argument);
}

TEST_CASE("the factory starts with its first port and stops after its last") {
  LoopCleanCheck clean;
  Reactor r;
  auto factory = std::make_shared<TestServerFactory<>>();
  auto a = r.listenTCP(0, factory, 50, "127.0.0.1");
  auto b = r.listenTCP(0, factory, 50, "127.0.0.1");
  CHECK(factory->startCount == 1);
  CHECK(factory->numPorts() == 2);
  a->stopListening();
  a->stopListening();  // idempotent
  CHECK(factory->stopCount == 0);
  b->stopListening();
  CHECK(factory->stopCount == 1);
  CHECK(factory->numPorts() == 0);
}

TEST_CASE("buildProtocol returning nullptr refuses the connection") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  server->refuse = true;
  auto port = listenLocal(r, server);
  auto client = std::make_shared<TestClientFactory<>>();
  client->onLost = [&](reactor::IConnector&, const Failure&) { stopIfRunning(r); };
  client->onFailed = [&](reactor::IConnector&, const Failure&) { stopIfRunning(r); };
  connectTo(r, *port, client);
  REQUIRE(runReactor(r));
  CHECK(server->buildCalls == 1);
  CHECK(server->protocols.empty());
  CHECK(server->lastAddress.host == "127.0.0.1");
  CHECK(server->lastAddress.port != 0);
  // The kernel completed the handshake, so the client connected; the server then closed it.
  REQUIRE(client->losses.size() == 1);
  CHECK(client->failures.empty());
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->data.empty());
  CHECK(client->protocols[0]->lostCount == 1);
  CHECK(r.connectionCount() == 0);
}

TEST_CASE("buildProtocol that throws refuses the connection and logs the error") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  struct Throwing : reactor::ServerFactory {
    std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address&) override {
      throw std::runtime_error("no protocol today");
    }
  };
  auto port = listenLocal(r, std::make_shared<Throwing>());
  auto client = std::make_shared<TestClientFactory<>>();
  client->onLost = [&](reactor::IConnector&, const Failure&) { stopIfRunning(r); };
  connectTo(r, *port, client);
  REQUIRE(runReactor(r));
  CHECK(client->losses.size() == 1);
  CHECK(logs.count("no protocol today") == 1);
  CHECK(r.connectionCount() == 0);
}

TEST_CASE("an exception in connectionMade closes only that connection") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  int built = 0;
  server->setup = [&](AccumulatingProtocol& p) {
    if (++built == 1) {
      p.onMade = [](AccumulatingProtocol&) { throw std::runtime_error("bad greeting"); };
    } else {
      p.onMade = [](AccumulatingProtocol& self) { self.transport().write(asBytes("hello")); };
    }
  };
  auto port = listenLocal(r, server);
  auto first = std::make_shared<TestClientFactory<>>();
  auto second = std::make_shared<TestClientFactory<>>();
  first->onLost = [&](reactor::IConnector&, const Failure&) {
    // The first connection is gone; now the second connects and must be served normally.
    connectTo(r, *port, second);
  };
  second->setup = [&](AccumulatingProtocol& p) {
    p.onData = [&](AccumulatingProtocol&, ByteView) { stopIfRunning(r); };
  };
  connectTo(r, *port, first);
  REQUIRE(runReactor(r));
  REQUIRE(server->protocols.size() == 2);
  auto& bad = *server->protocols[0];
  auto& good = *server->protocols[1];
  CHECK(bad.lostCount == 1);
  REQUIRE(bad.closedReason);
  CHECK(bad.closedReason->check(FailureType::UserError));
  CHECK(bad.closedReason->getErrorMessage().find("bad greeting") != std::string::npos);
  CHECK(logs.count("bad greeting") == 1);
  // The port and the other connection carried on until stop() closed them.
  REQUIRE(second->protocols.size() == 1);
  CHECK(second->protocols[0]->data == "hello");
  CHECK(good.lostCount == 1);
  CHECK(good.closedReason->check(FailureType::ConnectionDone));
}

TEST_CASE("stopListening keeps the connections already accepted") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<TestServerFactory<>>();
  auto port = listenLocal(r, server);
  auto client = std::make_shared<TestClientFactory<>>();
  reactor::Address bound = port->getHost();
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol&) { port->stopListening(); };
    p.onData = [](AccumulatingProtocol& self, ByteView) {
      self.transport().write(asBytes("pong"));
      self.transport().loseConnection();
    };
  };
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& self) {
      // Written after the port stopped listening: the accepted connection still answers.
      r.callLater(0.01, [&self] { self.transport().write(asBytes("ping")); });
    };
  };
  client->onLost = [&](reactor::IConnector&, const Failure&) {
    // A new connection to the stopped port is refused.
    auto late = std::make_shared<TestClientFactory<>>();
    late->onFailed = [&](reactor::IConnector&, const Failure& why) {
      CHECK(why.check(FailureType::ConnectionRefused));
      stopIfRunning(r);
    };
    r.connectTCP(bound.host, bound.port, late);
  };
  connectTo(r, *port, client);
  REQUIRE(runReactor(r));
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->data == "pong");
  CHECK(server->protocols.size() == 1);
  CHECK(server->protocols[0]->data == "ping");
  CHECK(server->stopCount == 1);
}

TEST_CASE("a reactor destroyed without running closes its ports cleanly") {
  LoopCleanCheck clean;
  auto factory = std::make_shared<TestServerFactory<>>();
  {
    Reactor r;
    auto port = r.listenTCP(0, factory, 50, "127.0.0.1");
    CHECK(factory->startCount == 1);
  }
  CHECK(factory->stopCount == 1);
}
