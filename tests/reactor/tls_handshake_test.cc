// Tests for reactor/tls.h and reactor/detail/tls_*: who gets in. The handshake with and without
// client certificates, its timeout and the cap on handshakes in progress, reload, cipher suites,
// TlsContext's checks, certificate reading and the tls: endpoint string. Driven by connectTLS
// clients on the same reactor (certificates made with openssl at test time).
#include "reactor/tls.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "reactor/endpoints.h"
#include "reactor/delayed_call.h"
#include "reactor/detail/tls_connection.h"
#include "reactor/reactor.h"
#include "tests/reactor/tls_test_support.h"
#include "tests/support/certs.h"
#include "tests/support/reactor_harness.h"

using namespace reactor;
using namespace tlstest;
using reactor::testing::LogCapture;
using reactor::testing::LoopCleanCheck;
using reactor::testing::StringTransport;

namespace {

/// A server-side TlsConnection on a ManualClock over a StringTransport: no socket, time moves only
/// when the test says so. `ended` is 1 once the handshake ended, `succeeded` says how.
struct ManualHandshake {
  explicit ManualHandshake(const TlsOptions& options)
      : connection(std::make_shared<detail::TlsConnection>(clock, TlsContext::create(TlsSide::Server, options)->current(),
                                                           echoFactory(), [this](bool ok) {
                                                             ++ended;
                                                             succeeded = ok;
                                                           })) {
    connection->makeConnection(transport);
  }
  ManualClock clock;
  std::shared_ptr<StringTransport> transport = std::make_shared<StringTransport>();
  int ended = 0;
  bool succeeded = false;
  std::shared_ptr<detail::TlsConnection> connection;
};

}  // namespace

TEST_CASE("TLS echo: a client with a certificate is served once the handshake is done") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = echoFactory();
  std::optional<TlsPeerCertificate> seenByServer;
  std::string serverSuite;
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) {
      seenByServer = tlsOf(q).peerCertificate();
      serverSuite = tlsOf(q).cipherSuite();
    };
    p.onData = [](AccumulatingProtocol& q, ByteView b) { q.transport().write(b); };
  };
  auto port = listenLocalTLS(reactor, server, serverOptions());
  auto client = tlsClient(reactor, *port, &testCertificates().operatorClient, "hello over tls");
  std::optional<TlsPeerCertificate> seenByClient;
  std::string version;
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) {
      seenByClient = tlsOf(q).peerCertificate();
      version = tlsOf(q).tlsVersion();
      q.transport().write(asBytes("hello over tls"));
    };
    p.onData = [](AccumulatingProtocol& q, ByteView) {
      if (q.data == "hello over tls") q.transport().loseConnection();
    };
    p.onLost = [&](AccumulatingProtocol&, const Failure&) { stopIfRunning(reactor); };
  };
  runReactor(reactor, 10);
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->data == "hello over tls");
  CHECK(client->protocols[0]->closedReason->check(FailureType::ConnectionDone));
  REQUIRE(seenByServer.has_value());
  CHECK(seenByServer->subject.find("CN=operator") != std::string::npos);
  CHECK(seenByServer->issuer.find("CN=uvmodbus test CA") != std::string::npos);
  CHECK(seenByServer->role == std::optional<std::string>("Operator"));
  REQUIRE(seenByClient.has_value());
  CHECK(seenByClient->subject.find("CN=uvmodbus test server") != std::string::npos);
  CHECK(version == "TLSv1.2");
  CHECK_FALSE(serverSuite.empty());
  CHECK(port->handshakesCompleted() == 1);
  CHECK(port->handshakesInProgress() == 0);
}

TEST_CASE("TLS: a client without a certificate is refused when client certificates are required") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = echoFactory();
  auto port = listenLocalTLS(reactor, server, serverOptions());
  runUntilRefused(reactor, port, server, nullptr);
}

TEST_CASE("TLS: a client certificate from a foreign CA is refused") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor reactor;
  auto server = echoFactory();
  auto port = listenLocalTLS(reactor, server, serverOptions());
  runUntilRefused(reactor, port, server, &testCertificates().foreignClient);
  CHECK(logs.count("TLS handshake with 127.0.0.1") >= 1);
}

TEST_CASE("TLS: an expired client certificate is refused") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor reactor;
  auto server = echoFactory();
  auto port = listenLocalTLS(reactor, server, serverOptions());
  runUntilRefused(reactor, port, server, &testCertificates().expiredClient);
  CHECK(logs.count("expired") >= 1);
}

TEST_CASE("TLS: with an optional client certificate a client without one is served, a bad one still refused") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = echoFactory();
  TlsOptions options = serverOptions();
  options.requireClientCertificate = false;
  auto port = listenLocalTLS(reactor, server, options);
  bool hadCertificate = true;
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) { hadCertificate = tlsOf(q).peerCertificate().has_value(); };
    p.onData = [](AccumulatingProtocol& q, ByteView b) { q.transport().write(b); };
  };
  auto anonymous = tlsClient(reactor, *port, nullptr, "anonymous");
  std::shared_ptr<TestClientFactory<>> foreign;
  anonymous->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& q) { q.transport().write(asBytes("anonymous")); };
    p.onData = [&](AccumulatingProtocol& q, ByteView) {
      if (q.data != "anonymous") return;
      foreign = tlsClient(reactor, *port, &testCertificates().foreignClient, "x");
      foreign->onFailed = [&](IConnector&, const Failure&) {
        when(reactor, [&] { return port->handshakesFailed() == 1; }, [&] { stopIfRunning(reactor); });
      };
    };
  };
  runReactor(reactor, 10);
  REQUIRE(anonymous->protocols.size() == 1);
  CHECK(anonymous->protocols[0]->data == "anonymous");
  CHECK_FALSE(hadCertificate);
  REQUIRE(foreign);
  CHECK(foreign->failures.size() == 1);
  CHECK(server->buildCalls == 1);
}

TEST_CASE("TLS: a silent connection is aborted when the handshake timeout passes") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor reactor;
  auto server = echoFactory();
  TlsOptions options = serverOptions();
  options.handshakeTimeout = 0.2;
  auto port = listenLocalTLS(reactor, server, options);
  auto raw = std::make_shared<TestClientFactory<>>();
  double connectedAt = 0;
  double lostAt = 0;
  raw->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol&) { connectedAt = reactor.seconds(); };
    p.onLost = [&](AccumulatingProtocol&, const Failure&) {
      lostAt = reactor.seconds();
      stopIfRunning(reactor);
    };
  };
  reactor.connectTCP("127.0.0.1", port->getHost().port, raw, 5);
  runReactor(reactor, 10);
  REQUIRE(raw->protocols.size() == 1);
  CHECK(raw->protocols[0]->lostCount == 1);
  CHECK(lostAt - connectedAt >= 0.15);  // lower bound only; the log line says which timer fired
  CHECK(port->handshakesFailed() == 1);
  CHECK(server->buildCalls == 0);
  CHECK(logs.count("timed out") == 1);
}

TEST_CASE("TLS: a connection that sends nothing is aborted at first_byte_timeout (manual clock)") {
  LogCapture logs;
  TlsOptions options = serverOptions();
  REQUIRE(options.firstByteTimeout == doctest::Approx(2.0));
  REQUIRE(options.handshakeTimeout == doctest::Approx(10.0));
  ManualHandshake h(options);
  h.clock.advance(1.999);
  CHECK_FALSE(h.transport->aborted());
  CHECK(h.ended == 0);
  h.clock.advance(0.001);
  CHECK(h.transport->aborted());
  CHECK(h.ended == 1);
  CHECK_FALSE(h.succeeded);
  CHECK(h.clock.getDelayedCalls().empty());  // the handshake timer went with it
  CHECK(logs.count("timed out") == 0);      // a silent connection is not worth a warning
}

TEST_CASE("TLS: a first byte cancels first_byte_timeout and handshake_timeout still bounds the handshake (manual clock)") {
  LogCapture logs;
  ManualHandshake h(serverOptions());
  h.clock.advance(1.5);
  const std::uint8_t recordStart[] = {0x16};  // the first byte of a ClientHello record
  h.connection->dataReceived(ByteView(recordStart, 1));
  h.clock.advance(8.499);
  CHECK_FALSE(h.transport->aborted());
  CHECK(h.ended == 0);
  h.clock.advance(0.001);
  CHECK(h.transport->aborted());
  CHECK(h.ended == 1);
  CHECK_FALSE(h.succeeded);
  CHECK(logs.count("timed out") == 1);
}

TEST_CASE("TLS: first_byte_timeout=0 leaves a silent connection to handshake_timeout (manual clock)") {
  TlsOptions options = serverOptions();
  options.firstByteTimeout = 0;
  options.handshakeTimeout = 5;
  ManualHandshake h(options);
  h.clock.advance(4.999);
  CHECK_FALSE(h.transport->aborted());
  h.clock.advance(0.001);
  CHECK(h.transport->aborted());
  CHECK(h.ended == 1);
}

TEST_CASE("TLS: beyond max_handshakes new connections are closed at once and an established client is still served") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor reactor;
  auto server = echoFactory();
  TlsOptions options = serverOptions();
  options.maxHandshakes = 2;
  options.handshakeTimeout = 30;
  options.firstByteTimeout = 0;  // the idle connections keep their slots for the whole test
  auto port = listenLocalTLS(reactor, server, options);
  constexpr int kIdle = 5;
  auto idle = std::make_shared<TestClientFactory<>>();
  std::shared_ptr<TestClientFactory<>> late;
  bool secondEcho = false;
  auto established = tlsClient(reactor, *port, &testCertificates().operatorClient);
  established->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) {
      q.transport().write(asBytes("one"));
    };
    p.onData = [&](AccumulatingProtocol& q, ByteView) {
      if (q.data == "one") {
        // A flood of idle half-open connections: they never send a ClientHello.
        for (int i = 0; i < kIdle; ++i) reactor.connectTCP("127.0.0.1", port->getHost().port, idle, 5);
        AccumulatingProtocol* self = &q;
        when(reactor, [&] { return port->handshakesInProgress() == 2 && port->connectionsRefused() == kIdle - 2; },
             [&, self] {
               late = tlsClient(reactor, *port, &testCertificates().readerClient, "late");
               late->onFailed = [&, self](IConnector&, const Failure&) { self->transport().write(asBytes("two")); };
             });
      } else if (q.data == "onetwo") {
        secondEcho = true;
        stopIfRunning(reactor);
      }
    };
  };
  runReactor(reactor, 15);
  CHECK(secondEcho);
  CHECK(port->connectionsRefused() == kIdle - 2 + 1);
  CHECK(port->handshakesCompleted() == 1);
  REQUIRE(late);
  CHECK(late->failures.size() == 1);
  CHECK(logs.count("max_handshakes") >= 1);
}

TEST_CASE("TLS: reload makes new connections use the new certificate while open ones continue") {
  LoopCleanCheck clean;
  Reactor reactor;
  const auto& c = testCertificates();
  // The files the server is configured with, rewritten in place before reload() (what SIGHUP does).
  std::string certPath = c.dir + "/reload-server.pem";
  std::string keyPath = c.dir + "/reload-server.key";
  testsupport::writeTextFile(certPath, testsupport::readTextFile(c.server.cert));
  testsupport::writeTextFile(keyPath, testsupport::readTextFile(c.server.key));
  TlsOptions options = serverOptions();
  options.certFile = certPath;
  options.keyFile = keyPath;
  auto server = echoFactory();
  auto port = listenLocalTLS(reactor, server, options);

  std::string firstSubject, secondSubject, thirdSubject;
  bool badReloadThrew = false;
  std::uint64_t generationAfterBadReload = 0;
  std::shared_ptr<TestClientFactory<>> second, third;
  auto first = tlsClient(reactor, *port, &c.operatorClient);
  first->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) {
      firstSubject = tlsOf(q).peerCertificate()->subject;
      testsupport::writeTextFile(certPath, testsupport::readTextFile(c.server2.cert));
      testsupport::writeTextFile(keyPath, testsupport::readTextFile(c.server2.key));
      port->reload();
      AccumulatingProtocol* firstProtocol = &q;
      second = tlsClient(reactor, *port, &c.readerClient);
      second->setup = [&, firstProtocol](AccumulatingProtocol& s) {
        s.onMade = [&, firstProtocol](AccumulatingProtocol& t) {
          secondSubject = tlsOf(t).peerCertificate()->subject;
          // A reload that fails keeps the configuration in use.
          TlsOptions bad = options;
          bad.keyFile = c.dir + "/does-not-exist.key";
          try {
            port->reload(bad);
          } catch (const TlsError&) {
            badReloadThrew = true;
          }
          generationAfterBadReload = port->context().generation();
          third = tlsClient(reactor, *port, &c.readerClient);
          third->setup = [&, firstProtocol](AccumulatingProtocol& u) {
            u.onMade = [&, firstProtocol](AccumulatingProtocol& v) {
              thirdSubject = tlsOf(v).peerCertificate()->subject;
              firstProtocol->transport().write(asBytes("still here"));
            };
          };
        };
      };
    };
    p.onData = [&](AccumulatingProtocol& q, ByteView) {
      if (q.data == "still here") stopIfRunning(reactor);
    };
  };
  runReactor(reactor, 15);
  CHECK(firstSubject.find("CN=uvmodbus test server,") == std::string::npos);
  CHECK(firstSubject.find("CN=uvmodbus test server") != std::string::npos);
  CHECK(firstSubject.find("server 2") == std::string::npos);
  CHECK(secondSubject.find("CN=uvmodbus test server 2") != std::string::npos);
  CHECK(badReloadThrew);
  CHECK(generationAfterBadReload == 1);
  CHECK(thirdSubject.find("CN=uvmodbus test server 2") != std::string::npos);
  REQUIRE(first->protocols.size() == 1);
  CHECK(first->protocols[0]->data == "still here");
}

TEST_CASE("TLS: a restricted cipher suite given by its IANA name is the one negotiated") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = echoFactory();
  TlsOptions options = serverOptions();
  options.ciphersuites = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
  auto port = listenLocalTLS(reactor, server, options);
  std::string suite;
  auto client = tlsClient(reactor, *port, &testCertificates().operatorClient);
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) {
      suite = tlsOf(q).cipherSuite();
      q.transport().loseConnection();
    };
  };
  client->onLost = [&](IConnector&, const Failure&) { stopIfRunning(reactor); };
  runReactor(reactor, 10);
  CHECK(suite == "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256");
}

TEST_CASE("TlsContext refuses unreadable files, a key that does not match, and weak or unknown settings") {
  const auto& c = testCertificates();
  auto errorOf = [](TlsSide side, const TlsOptions& o) -> std::string {
    try {
      TlsContext::create(side, o);
    } catch (const TlsError& e) {
      return e.what();
    }
    return {};
  };
  TlsOptions o = serverOptions();
  CHECK(errorOf(TlsSide::Server, o).empty());
  TlsOptions missing = o;
  missing.certFile = c.dir + "/nope.pem";
  CHECK(errorOf(TlsSide::Server, missing).find("nope.pem") != std::string::npos);
  TlsOptions mismatched = o;
  mismatched.keyFile = c.server2.key;
  CHECK(errorOf(TlsSide::Server, mismatched).find("does not match") != std::string::npos);
  TlsOptions old = o;
  old.minVersion = "1.1";
  CHECK(errorOf(TlsSide::Server, old).find("below TLS 1.2") != std::string::npos);
  TlsOptions unknownSuite = o;
  unknownSuite.ciphersuites = {"TLS-NOT-A-SUITE"};
  CHECK(errorOf(TlsSide::Server, unknownSuite).find("TLS-NOT-A-SUITE") != std::string::npos);
  TlsOptions noCa = o;
  noCa.caFile.clear();
  CHECK(errorOf(TlsSide::Server, noCa).find("ca=") != std::string::npos);
  noCa.requireClientCertificate = false;
  CHECK(errorOf(TlsSide::Server, noCa).empty());
  TlsOptions noCert = o;
  noCert.certFile.clear();
  noCert.keyFile.clear();
  CHECK(errorOf(TlsSide::Server, noCert).find("needs a certificate") != std::string::npos);
  CHECK(errorOf(TlsSide::Client, clientOptions(nullptr)).empty());
}

TEST_CASE("readCertificateFile reads subject, issuer, validity and the Modbus role extension") {
  const auto& c = testCertificates();
  TlsPeerCertificate op = readCertificateFile(c.operatorClient.cert);
  CHECK(op.subject.find("CN=operator") != std::string::npos);
  CHECK(op.issuer.find("CN=uvmodbus test CA") != std::string::npos);
  CHECK(op.role == std::optional<std::string>("Operator"));
  CHECK_FALSE(op.serialNumber.empty());
  CHECK(readCertificateFile(c.readerClient.cert).role == std::optional<std::string>("Reader"));
  CHECK_FALSE(readCertificateFile(c.noRoleClient.cert).role.has_value());
  CHECK_FALSE(readCertificateFile(c.server.cert).role.has_value());
  TlsPeerCertificate expired = readCertificateFile(c.expiredClient.cert);
  CHECK(expired.validFrom == "2020-01-01 00:00:00");
  CHECK(expired.validTo == "2020-02-01 00:00:00");
  TlsPeerCertificate again = parseCertificate(op.der);
  CHECK(again.subject == op.subject);
  CHECK(again.role == op.role);
  CHECK_THROWS_AS(readCertificateFile(c.dir + "/nope.pem"), TlsError);
}

TEST_CASE("tls endpoint string: every option is read, and mistakes are EndpointErrors") {
  TlsOptions o = tlsOptionsFromEndpoint(parseEndpoint(
      "tls:802:cert=s.pem:key=s.key:ca=ca.pem:require_client_cert=false:min_version=1.2:"
      "ciphersuites=TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256,TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256:"
      "handshake_timeout=2.5:max_handshakes=3:password=pw"));
  CHECK(o.certFile == "s.pem");
  CHECK(o.keyFile == "s.key");
  CHECK(o.caFile == "ca.pem");
  CHECK(o.keyPassword == "pw");
  CHECK_FALSE(o.requireClientCertificate);
  CHECK(o.minVersion == "1.2");
  CHECK(o.ciphersuites.size() == 2);
  CHECK(o.handshakeTimeout == doctest::Approx(2.5));
  CHECK(o.maxHandshakes == 3);
  TlsOptions twisted = tlsOptionsFromEndpoint(parseEndpoint("tls:802:certKey=c.pem:privateKey=k.pem:ca=a.pem"));
  CHECK(twisted.certFile == "c.pem");
  CHECK(twisted.keyFile == "k.pem");
  CHECK(twisted.requireClientCertificate);
  CHECK(twisted.maxHandshakes == 64);
  CHECK(twisted.maxHandshakesPerPeer == 8);
  CHECK(twisted.firstByteTimeout == doctest::Approx(2.0));
  TlsOptions flood = tlsOptionsFromEndpoint(
      parseEndpoint("tls:802:cert=c:key=k:ca=a:max_handshakes_per_peer=3:first_byte_timeout=0.5"));
  CHECK(flood.maxHandshakesPerPeer == 3);
  CHECK(flood.firstByteTimeout == doctest::Approx(0.5));
  CHECK_THROWS_AS(tlsOptionsFromEndpoint(parseEndpoint("tls:802:cert=c:key=k:ca=a:first_byte_timeout=-1")),
                  EndpointError);
  CHECK_THROWS_AS(tlsOptionsFromEndpoint(parseEndpoint("tls:802:cert=c:key=k:ca=a:max_handshakes_per_peer=-1")),
                  EndpointError);
  CHECK_THROWS_AS(tlsOptionsFromEndpoint(parseEndpoint("tls:802:cert=c:key=k:ca=a:colour=red")), EndpointError);
  CHECK_THROWS_AS(tlsOptionsFromEndpoint(parseEndpoint("tls:802:key=k:ca=a")), EndpointError);
  CHECK_THROWS_AS(tlsOptionsFromEndpoint(parseEndpoint("tls:802:cert=c:key=k")), EndpointError);
  CHECK_THROWS_AS(tlsOptionsFromEndpoint(parseEndpoint("tls:802:cert=c:key=k:ca=a:require_client_cert=maybe")),
                  EndpointError);
  CHECK_THROWS_AS(tlsOptionsFromEndpoint(parseEndpoint("tls:802:cert=c:key=k:ca=a:handshake_timeout=-1")),
                  EndpointError);
}

TEST_CASE("serverFromString(\"tls:...\") listens with TLS") {
  LoopCleanCheck clean;
  Reactor reactor;
  const auto& c = testCertificates();
  auto endpoint = serverFromString(reactor, "tls:0:interface=127.0.0.1:cert=" + c.server.cert + ":key=" + c.server.key +
                                                ":ca=" + c.ca.cert);
  auto server = echoFactory();
  auto listening = endpoint->listen(server);
  auto port = std::dynamic_pointer_cast<ITLSListeningPort>(listening);
  REQUIRE(port);
  auto client = tlsClient(reactor, *port, &testCertificates().operatorClient, "via endpoint");
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& q) { q.transport().write(asBytes("via endpoint")); };
    p.onData = [&](AccumulatingProtocol& q, ByteView) {
      if (q.data == "via endpoint") stopIfRunning(reactor);
    };
  };
  runReactor(reactor, 10);
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->data == "via endpoint");
  CHECK_THROWS_AS(serverFromString(reactor, "tls:0:cert=" + c.dir + "/nope.pem:key=k:ca=" + c.ca.cert), TlsError);
}

TEST_CASE("serverFromString(\"ssl:...\"), Twisted's spelling with its keyword names, listens with TLS") {
  LoopCleanCheck clean;
  Reactor reactor;
  const auto& c = testCertificates();
  auto endpoint = serverFromString(reactor, "ssl:0:interface=127.0.0.1:certKey=" + c.server.cert +
                                                ":privateKey=" + c.server.key + ":caCertsFile=" + c.ca.cert);
  auto port = std::dynamic_pointer_cast<ITLSListeningPort>(endpoint->listen(echoFactory()));
  REQUIRE(port);
  auto client = tlsClient(reactor, *port, &testCertificates().operatorClient, "via ssl");
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& q) { q.transport().write(asBytes("via ssl")); };
    p.onData = [&](AccumulatingProtocol& q, ByteView) {
      if (q.data == "via ssl") stopIfRunning(reactor);
    };
  };
  runReactor(reactor, 10);
  REQUIRE(client->protocols.size() == 1);
  CHECK(client->protocols[0]->data == "via ssl");
}
