// Tests for reactor/detail/tls_handshake_gate.cc (the caps on TLS handshakes in progress) and the
// adversarial case it exists for (issue 13, item 4): one host floods a tls: port with silent TCP
// connections while another host's client must still get its handshake and an answer within 1 s.
// Loopback only: the attacker binds 127.0.0.2, the legitimate client 127.0.0.3. No sleeping: the
// reactor waits on conditions (`when`), bounded by runReactor's limit.
#include "reactor/detail/tls_handshake_gate.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "reactor/reactor.h"
#include "reactor/tls.h"
#include "tests/reactor/tls_test_support.h"
#include "tests/support/reactor_harness.h"

using namespace reactor;
using namespace tlstest;
using reactor::detail::TlsHandshakeGate;
using reactor::testing::LogCapture;
using reactor::testing::LoopCleanCheck;

namespace {

Address peerAt(const char* host, std::uint16_t port) { return Address{Address::Type::TCP, host, port, false}; }

}  // namespace

TEST_CASE("TlsHandshakeGate: max_handshakes_per_peer refuses one address beyond the cap, not another") {
  LogCapture logs;
  TlsHandshakeGate gate;
  TlsOptions options;  // the defaults: 64 in total, 8 per peer
  for (std::uint16_t i = 0; i < 8; ++i) CHECK(gate.admit(peerAt("127.0.0.2", 40000 + i), options, 0.0));
  CHECK_FALSE(gate.admit(peerAt("127.0.0.2", 41000), options, 0.0));
  CHECK(gate.admit(peerAt("127.0.0.3", 40000), options, 0.0));
  CHECK(gate.inProgress() == 9);
  CHECK(gate.inProgressFrom(peerAt("127.0.0.2", 1)) == 8);
  CHECK(gate.refused() == 1);
  // A finished handshake gives its slot back to its own address.
  gate.finished(peerAt("127.0.0.2", 40003), false);
  CHECK(gate.inProgressFrom(peerAt("127.0.0.2", 1)) == 7);
  CHECK(gate.admit(peerAt("127.0.0.2", 41001), options, 0.0));
  CHECK(gate.failed() == 1);
  CHECK(logs.count("max_handshakes_per_peer") == 1);
}

TEST_CASE("TlsHandshakeGate: max_handshakes caps the total across addresses, and 0 switches a cap off") {
  LogCapture logs;
  TlsHandshakeGate gate;
  TlsOptions options;
  options.maxHandshakes = 3;
  options.maxHandshakesPerPeer = 0;
  for (std::uint16_t i = 0; i < 3; ++i) CHECK(gate.admit(peerAt("127.0.0.2", 40000 + i), options, 0.0));
  CHECK_FALSE(gate.admit(peerAt("127.0.0.3", 40000), options, 0.0));
  gate.finished(peerAt("127.0.0.2", 40000), true);
  CHECK(gate.completed() == 1);
  CHECK(gate.admit(peerAt("127.0.0.3", 40000), options, 0.0));
  options.maxHandshakes = 0;
  for (std::uint16_t i = 0; i < 20; ++i) CHECK(gate.admit(peerAt("127.0.0.4", 40000 + i), options, 0.0));
  CHECK(gate.inProgress() == 23);
  CHECK(gate.refused() == 1);
}

TEST_CASE("TlsHandshakeGate: refusals under a flood are logged at most once a second") {
  LogCapture logs;
  TlsHandshakeGate gate;
  TlsOptions options;
  options.maxHandshakesPerPeer = 1;
  CHECK(gate.admit(peerAt("127.0.0.2", 40000), options, 100.0));
  for (int i = 0; i < 50; ++i) CHECK_FALSE(gate.admit(peerAt("127.0.0.2", 40001), options, 100.0 + i * 0.01));
  CHECK(logs.count("refusing TLS connection") == 1);
  CHECK_FALSE(gate.admit(peerAt("127.0.0.2", 40001), options, 101.0));
  CHECK(logs.count("refusing TLS connection") == 2);
  CHECK(logs.count("51 refused so far") == 1);
}

TEST_CASE("TLS half-open flood: 200 silent connections from 127.0.0.2 do not delay a handshake from 127.0.0.3") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor reactor;
  auto server = echoFactory();
  TlsOptions options = serverOptions();  // the shipped caps: 64 in total, 8 per peer, 2 s to the first byte
  // The backlog holds the whole flood, so no SYN waits for a retransmit and every connection is
  // accepted long before the first 2 s timeout.
  auto port = listenTLS(reactor, 0, server, TlsContext::create(TlsSide::Server, options), 256, "127.0.0.1");
  const std::uint16_t portNumber = port->getHost().port;
  constexpr std::size_t kFlood = 200;
  constexpr std::size_t kHeld = 8;  // max_handshakes_per_peer

  auto silent = std::make_shared<TestClientFactory<>>();
  auto closedByServer = [&silent] {
    std::size_t n = 0;
    for (const auto& p : silent->protocols) n += p->lostCount > 0 ? 1 : 0;
    return n;
  };
  for (std::size_t i = 0; i < kFlood; ++i) reactor.connectTCP("127.0.0.1", portNumber, silent, 10, "127.0.0.2");

  double startedAt = -1;
  double echoedAt = -1;
  std::size_t closedWhenServed = 0;
  std::size_t refusedWhenServed = 0;
  std::size_t inProgressWhenServed = 0;
  std::string legitimatePeer;
  std::shared_ptr<TestClientFactory<>> legitimate;
  server->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol& q) { legitimatePeer = q.transport().getPeer().host; };
    p.onData = [](AccumulatingProtocol& q, ByteView b) { q.transport().write(b); };
  };
  // Every attacker connection has been accepted (refused at once, or holding a handshake slot) and
  // the attacker has seen the refused ones close.
  when(
      reactor,
      [&] { return port->connectionsRefused() + port->handshakesInProgress() == kFlood && closedByServer() > 0 &&
                   closedByServer() == port->connectionsRefused(); },
      [&] {
        refusedWhenServed = port->connectionsRefused();
        inProgressWhenServed = port->handshakesInProgress();
        startedAt = reactor.seconds();
        legitimate = std::make_shared<TestClientFactory<>>();
        legitimate->setup = [&](AccumulatingProtocol& p) {
          p.onMade = [](AccumulatingProtocol& q) { q.transport().write(asBytes("ping")); };
          p.onData = [&](AccumulatingProtocol& q, ByteView) {
            if (q.data != "ping") return;
            echoedAt = reactor.seconds();
            closedWhenServed = closedByServer();
            q.transport().loseConnection();
            // The held connections go at their first-byte timeout: wait for all of them.
            when(reactor, [&] { return closedByServer() == kFlood; }, [&] { stopIfRunning(reactor); });
          };
        };
        connectTLS(reactor, "127.0.0.1", portNumber, legitimate, clientOptions(&testCertificates().operatorClient), 5,
                   "127.0.0.3");
      });
  runReactor(reactor, 20);

  REQUIRE(legitimate);
  REQUIRE(echoedAt >= 0);
  CHECK(legitimatePeer == "127.0.0.3");
  INFO("answered " << echoedAt - startedAt << " s after the connect");
  CHECK(echoedAt - startedAt < 1.0);
  CHECK(legitimate->failures.empty());
  // Exactly the excess was closed at accept; the eight held slots were closed by first_byte_timeout.
  CHECK(refusedWhenServed == kFlood - kHeld);
  CHECK(inProgressWhenServed == kHeld);
  CHECK(closedWhenServed == kFlood - kHeld);
  CHECK(silent->failures.empty());
  CHECK(silent->protocols.size() == kFlood);
  CHECK(closedByServer() == kFlood);
  CHECK(port->connectionsRefused() == kFlood - kHeld);
  CHECK(port->handshakesFailed() == kHeld);
  CHECK(port->handshakesCompleted() == 1);
  CHECK(port->handshakesInProgress() == 0);
}
