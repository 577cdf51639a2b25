// Helpers shared by the TLS tests (tls_handshake_test.cc, tls_transport_test.cc, tls_flood_test.cc):
// server and client options on the test certificates, an echo factory, a listenTLS on 127.0.0.1 and a
// connectTLS client.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>

#include "reactor/reactor.h"
#include "reactor/tls.h"
#include "tests/reactor/when.h"
#include "tests/support/certs.h"
#include "tests/support/reactor_harness.h"

namespace tlstest {

using namespace reactor;
using reactor::testing::AccumulatingProtocol;
using reactor::testing::runReactor;
using reactor::testing::stopIfRunning;
using reactor::testing::TestClientFactory;
using reactor::testing::TestServerFactory;
using testsupport::CertFiles;
using testsupport::testCertificates;

inline TlsOptions serverOptions() {
  const auto& c = testCertificates();
  TlsOptions o;
  o.certFile = c.server.cert;
  o.keyFile = c.server.key;
  o.caFile = c.ca.cert;
  return o;
}

inline TlsOptions clientOptions(const CertFiles* client) {
  const auto& c = testCertificates();
  TlsOptions o;
  o.caFile = c.ca.cert;
  o.serverName = "localhost";
  if (client != nullptr) {
    o.certFile = client->cert;
    o.keyFile = client->key;
  }
  return o;
}

using reactortest::when;

/// A server factory whose protocols echo what they receive.
inline std::shared_ptr<TestServerFactory<>> echoFactory() {
  auto f = std::make_shared<TestServerFactory<>>();
  f->setup = [](AccumulatingProtocol& p) { p.onData = [](AccumulatingProtocol& q, ByteView b) { q.transport().write(b); }; };
  return f;
}

inline ITLSTransport& tlsOf(Protocol& p) { return dynamic_cast<ITLSTransport&>(p.transport()); }

inline std::shared_ptr<ITLSListeningPort> listenLocalTLS(Reactor& reactor, std::shared_ptr<Factory> factory,
                                                  const TlsOptions& options) {
  return listenTLS(reactor, 0, std::move(factory), TlsContext::create(TlsSide::Server, options), 50, "127.0.0.1");
}

/// Connects a TLS client that sends `message` once connected; records the outcome in the factory.
inline std::shared_ptr<TestClientFactory<>> tlsClient(Reactor& reactor, const IListeningPort& port, const CertFiles* cert,
                                               std::string message = {}) {
  auto f = std::make_shared<TestClientFactory<>>();
  f->setup = [message](AccumulatingProtocol& p) {
    p.onMade = [message](AccumulatingProtocol& q) {
      if (!message.empty()) q.transport().write(asBytes(message));
    };
  };
  connectTLS(reactor, "127.0.0.1", port.getHost().port, f, clientOptions(cert), 5);
  return f;
}

/// Expects the connection attempt to be refused: clientConnectionFailed, and no protocol built on
/// either side.
inline void runUntilRefused(Reactor& reactor, std::shared_ptr<ITLSListeningPort> port,
                     std::shared_ptr<TestServerFactory<>> server, const CertFiles* cert) {
  auto client = tlsClient(reactor, *port, cert, "x");
  client->onFailed = [&reactor, port](IConnector&, const Failure&) {
    // The server side may still be closing its end: wait for its count too.
    when(reactor, [port] { return port->handshakesFailed() == 1; }, [&reactor] { stopIfRunning(reactor); });
  };
  runReactor(reactor, 10);
  CHECK(client->failures.size() == 1);
  CHECK(client->buildCalls == 0);
  CHECK(server->buildCalls == 0);
  CHECK(port->handshakesFailed() == 1);
  CHECK(port->handshakesCompleted() == 0);
  CHECK(port->handshakesInProgress() == 0);
}

}  // namespace tlstest
