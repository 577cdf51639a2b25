// Tests for reactor/detail/tls_connection.cc as the wrapped protocol's transport, after the
// handshake: close_notify, record splitting, pausing, user exceptions, a refusing factory and the
// TCP options. Driven by connectTLS clients on the same reactor (certificates made at test time).
#include "reactor/tls.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "reactor/endpoints.h"
#include "reactor/reactor.h"
#include "tests/reactor/tls_test_support.h"
#include "tests/support/certs.h"
#include "tests/support/reactor_harness.h"

using namespace reactor;
using namespace tlstest;
using reactor::testing::LogCapture;
using reactor::testing::LoopCleanCheck;

TEST_CASE("TLS: the peer's close_notify reaches the wrapped protocol as ConnectionDone") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [&](AccumulatingProtocol& p) {
    p.onLost = [&](AccumulatingProtocol&, const Failure&) { stopIfRunning(reactor); };
  };
  auto port = listenLocalTLS(reactor, server, serverOptions());
  auto client = tlsClient(reactor, *port, &testCertificates().readerClient);
  client->setup = [](AccumulatingProtocol& p) { p.onMade = [](AccumulatingProtocol& q) { q.transport().loseConnection(); }; };
  runReactor(reactor, 10);
  REQUIRE(server->protocols.size() == 1);
  CHECK(server->protocols[0]->lostCount == 1);
  CHECK(server->protocols[0]->closedReason->check(FailureType::ConnectionDone));
  CHECK_FALSE(server->protocols[0]->reentrantLoss);
  CHECK_FALSE(server->protocols[0]->connected());
}

TEST_CASE("TLS: a large write is split into records and arrives whole") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = echoFactory();
  auto port = listenLocalTLS(reactor, server, serverOptions());
  std::string big(300000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  auto client = tlsClient(reactor, *port, &testCertificates().operatorClient);
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) {
      ByteView pieces[] = {asBytes(std::string_view(big).substr(0, 1000)), asBytes(std::string_view(big).substr(1000))};
      q.transport().writeSequence(pieces);
    };
    p.onData = [&](AccumulatingProtocol& q, ByteView) {
      if (q.data.size() >= big.size()) stopIfRunning(reactor);
    };
  };
  runReactor(reactor, 15);
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->data.size() == big.size());
  CHECK(client->protocols[0]->data == big);
  REQUIRE(server->protocols.size() == 1);
  CHECK(server->protocols[0]->dataCalls >= 300000 / 16384);
}

TEST_CASE("TLS: pauseProducing holds decrypted data back until resumeProducing") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<TestServerFactory<>>();
  std::string seenWhilePaused = "unset";
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) {
      q.transport().pauseProducing();
      reactor.callLater(0.3, [&, self = &q] {
        seenWhilePaused = self->data;
        self->transport().resumeProducing();
      });
    };
    p.onData = [&](AccumulatingProtocol& q, ByteView) {
      if (q.data == "abcdef") stopIfRunning(reactor);
    };
  };
  auto port = listenLocalTLS(reactor, server, serverOptions());
  auto client = tlsClient(reactor, *port, &testCertificates().operatorClient);
  client->setup = [](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& q) {
      q.transport().write(asBytes("abc"));
      q.transport().write(asBytes("def"));
    };
  };
  runReactor(reactor, 10);
  CHECK(seenWhilePaused.empty());
  REQUIRE(server->protocols.size() == 1);
  CHECK(server->protocols[0]->data == "abcdef");
}

TEST_CASE("TLS: an exception in the wrapped protocol closes that connection only") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor reactor;
  auto server = std::make_shared<TestServerFactory<>>();
  server->setup = [](AccumulatingProtocol& p) {
    p.onData = [](AccumulatingProtocol&, ByteView) { throw std::runtime_error("boom in dataReceived"); };
  };
  auto port = listenLocalTLS(reactor, server, serverOptions());
  auto client = tlsClient(reactor, *port, &testCertificates().operatorClient, "trigger");
  client->onLost = [&](IConnector&, const Failure&) { stopIfRunning(reactor); };
  runReactor(reactor, 10);
  REQUIRE(server->protocols.size() == 1);
  REQUIRE(server->protocols[0]->closedReason.has_value());
  CHECK(server->protocols[0]->closedReason->check(FailureType::UserError));
  CHECK(server->protocols[0]->closedReason->getErrorMessage().find("boom in dataReceived") != std::string::npos);
  CHECK(client->losses.size() == 1);
  CHECK(logs.count("boom in dataReceived") >= 1);
}

TEST_CASE("TLS: a connection the user's factory refuses is closed after the handshake") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = echoFactory();
  server->refuse = true;
  auto port = listenLocalTLS(reactor, server, serverOptions());
  auto client = tlsClient(reactor, *port, &testCertificates().operatorClient);
  client->onLost = [&](IConnector&, const Failure&) { stopIfRunning(reactor); };
  runReactor(reactor, 10);
  CHECK(server->buildCalls == 1);
  CHECK(port->handshakesCompleted() == 1);
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->closedReason->check(FailureType::ConnectionDone));
}

TEST_CASE("TLS: the wrapped protocol reaches the TCP options through ITLSTransport") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<TestServerFactory<>>();
  bool noDelay = false;
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) {
      auto* tcp = dynamic_cast<ITCPTransport*>(&q.transport());
      REQUIRE(tcp != nullptr);
      tcp->setTcpNoDelay(true);
      noDelay = tcp->getTcpNoDelay();
      CHECK(q.transport().getPeer().host == "127.0.0.1");
      CHECK(q.transport().getHost().port != 0);
      q.transport().loseConnection();
    };
  };
  auto port = listenLocalTLS(reactor, server, serverOptions());
  auto client = tlsClient(reactor, *port, &testCertificates().operatorClient);
  client->onLost = [&](IConnector&, const Failure&) { stopIfRunning(reactor); };
  runReactor(reactor, 10);
  CHECK(noDelay);
}
