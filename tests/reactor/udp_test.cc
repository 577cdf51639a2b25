// Tests for listenUDP / DatagramProtocol (reactor/udp.cc, reactor/detail/udp_port.cc) and the
// "udp:" endpoint parser (reactor/udp_endpoint.cc). Loopback only, port 0, bounded runs.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reactor/datagram_protocol.h"
#include "reactor/endpoints.h"
#include "reactor/failure.h"
#include "reactor/reactor.h"
#include "reactor/udp_endpoint.h"
#include "tests/support/reactor_harness.h"

namespace {

using reactor::Address;
using reactor::ByteView;
using reactor::Reactor;
using reactor::testing::LogCapture;
using reactor::testing::LoopCleanCheck;
using reactor::testing::runReactor;
using reactor::testing::stopIfRunning;

/// Records everything; `onDatagram` runs for each datagram, `onStart` at startProtocol.
class RecordingProtocol : public reactor::DatagramProtocol {
 public:
  void startProtocol() override {
    ++starts;
    if (onStart) onStart(*this);
  }
  void stopProtocol() override { ++stops; }
  void datagramReceived(ByteView datagram, const Address& addr) override {
    datagrams.emplace_back(reactor::asText(datagram));
    senders.push_back(addr);
    if (onDatagram) onDatagram(*this, datagram, addr);
  }

  int starts = 0;
  int stops = 0;
  std::vector<std::string> datagrams;
  std::vector<Address> senders;
  std::function<void(RecordingProtocol&)> onStart;
  std::function<void(RecordingProtocol&, ByteView, const Address&)> onDatagram;
};

/// Echoes every datagram back to its sender with "echo:" in front.
std::shared_ptr<RecordingProtocol> makeEcho() {
  auto p = std::make_shared<RecordingProtocol>();
  p->onDatagram = [](RecordingProtocol& self, ByteView d, const Address& from) {
    std::string reply = "echo:" + std::string(reactor::asText(d));
    self.transport().write(reactor::asBytes(reply), from);
  };
  return p;
}

}  // namespace

TEST_CASE("listenUDP delivers a datagram with its sender and write replies to that sender") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = makeEcho();
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1");
  Address serverAddr = serverPort->getHost();
  CHECK(serverAddr.type == Address::Type::UDP);
  CHECK(serverAddr.host == "127.0.0.1");
  CHECK(serverAddr.port != 0);

  auto client = std::make_shared<RecordingProtocol>();
  client->onStart = [serverAddr](RecordingProtocol& self) { self.transport().write(reactor::asBytes("ping"), serverAddr); };
  client->onDatagram = [&reactor](RecordingProtocol&, ByteView, const Address&) { stopIfRunning(reactor); };
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");
  runReactor(reactor, 5.0);

  REQUIRE(server->datagrams.size() == 1);
  CHECK(server->datagrams[0] == "ping");
  CHECK(server->senders[0].port == clientPort->getHost().port);
  REQUIRE(client->datagrams.size() == 1);
  CHECK(client->datagrams[0] == "echo:ping");
  CHECK(client->senders[0] == serverAddr);
  serverPort->stopListening();
  clientPort->stopListening();
}

TEST_CASE("startProtocol runs once at listen and stopProtocol once at stopListening") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto p = std::make_shared<RecordingProtocol>();
  auto port = reactor.listenUDP(0, p, "127.0.0.1");
  CHECK(p->starts == 1);
  CHECK(p->stops == 0);
  CHECK(p->hasTransport());
  CHECK(p->numPorts() == 1);
  // One port at a time, as Twisted's makeConnection asserts.
  CHECK_THROWS_AS(reactor.listenUDP(0, p, "127.0.0.1"), std::logic_error);
  port->stopListening();
  port->stopListening();  // idempotent
  CHECK(p->stops == 1);
  CHECK_FALSE(p->hasTransport());
  CHECK_THROWS_AS(p->transport(), std::logic_error);
  // The protocol may listen again afterwards.
  auto again = reactor.listenUDP(0, p, "127.0.0.1");
  CHECK(p->starts == 2);
  again->stopListening();
  CHECK(p->stops == 2);
}

TEST_CASE("listenUDP works over IPv6 on ::1") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = makeEcho();
  std::shared_ptr<reactor::IListeningPort> serverPort;
  try {
    serverPort = reactor.listenUDP(0, server, "::1");
  } catch (const reactor::CannotListenError& e) {
    MESSAGE("no IPv6 loopback here: " << e.what());
    return;
  }
  Address serverAddr = serverPort->getHost();
  CHECK(serverAddr.ipv6);
  CHECK(serverAddr.host == "::1");
  auto client = std::make_shared<RecordingProtocol>();
  client->onStart = [serverAddr](RecordingProtocol& self) { self.transport().write(reactor::asBytes("six"), serverAddr); };
  client->onDatagram = [&reactor](RecordingProtocol&, ByteView, const Address&) { stopIfRunning(reactor); };
  auto clientPort = reactor.listenUDP(0, client, "::1");
  runReactor(reactor, 5.0);
  REQUIRE(client->datagrams.size() == 1);
  CHECK(client->datagrams[0] == "echo:six");
  CHECK(server->senders.at(0).ipv6);
  serverPort->stopListening();
  clientPort->stopListening();
}

TEST_CASE("replies reach each of many senders sending at once") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = makeEcho();
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1");
  Address serverAddr = serverPort->getHost();
  constexpr int kClients = 40;
  reactor::testing::StopAfter stopper(reactor, kClients);
  std::vector<std::shared_ptr<RecordingProtocol>> clients;
  std::vector<std::shared_ptr<reactor::IListeningPort>> ports;
  for (int i = 0; i < kClients; ++i) {
    auto c = std::make_shared<RecordingProtocol>();
    std::string text = "client-" + std::to_string(i);
    c->onStart = [serverAddr, text](RecordingProtocol& self) { self.transport().write(reactor::asBytes(text), serverAddr); };
    c->onDatagram = [&stopper](RecordingProtocol&, ByteView, const Address&) { stopper.done(); };
    ports.push_back(reactor.listenUDP(0, c, "127.0.0.1"));
    clients.push_back(c);
  }
  runReactor(reactor, 10.0);
  CHECK(server->datagrams.size() == kClients);
  for (int i = 0; i < kClients; ++i) {
    REQUIRE(clients[i]->datagrams.size() == 1);
    CHECK(clients[i]->datagrams[0] == "echo:client-" + std::to_string(i));
  }
  for (auto& p : ports) p->stopListening();
  serverPort->stopListening();
}

TEST_CASE("an exception from datagramReceived is logged and the port keeps receiving") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor reactor;
  auto server = std::make_shared<RecordingProtocol>();
  server->onDatagram = [&reactor](RecordingProtocol& self, ByteView d, const Address&) {
    if (reactor::asText(d) == "boom") throw std::runtime_error("bad datagram");
    if (self.datagrams.size() == 2) stopIfRunning(reactor);
  };
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1");
  Address serverAddr = serverPort->getHost();
  auto client = std::make_shared<RecordingProtocol>();
  client->onStart = [serverAddr](RecordingProtocol& self) {
    self.transport().write(reactor::asBytes("boom"), serverAddr);
    self.transport().write(reactor::asBytes("fine"), serverAddr);
  };
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");
  runReactor(reactor, 5.0);
  REQUIRE(server->datagrams.size() == 2);
  CHECK(server->datagrams[1] == "fine");
  CHECK(logs.count("bad datagram") == 1);
  CHECK(logs.count("the port stays open") == 1);
  serverPort->stopListening();
  clientPort->stopListening();
}

TEST_CASE("an empty datagram arrives as an empty datagram") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<RecordingProtocol>();
  server->onDatagram = [&reactor](RecordingProtocol&, ByteView, const Address&) { stopIfRunning(reactor); };
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1");
  Address serverAddr = serverPort->getHost();
  auto client = std::make_shared<RecordingProtocol>();
  client->onStart = [serverAddr](RecordingProtocol& self) { self.transport().write(ByteView(), serverAddr); };
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");
  runReactor(reactor, 5.0);
  REQUIRE(server->datagrams.size() == 1);
  CHECK(server->datagrams[0].empty());
  serverPort->stopListening();
  clientPort->stopListening();
}

TEST_CASE("datagrams longer than maxPacketSize are truncated to it") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<RecordingProtocol>();
  server->onDatagram = [&reactor](RecordingProtocol&, ByteView, const Address&) { stopIfRunning(reactor); };
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1", 4);
  CHECK(server->transport().maxPacketSize() == 4);
  Address serverAddr = serverPort->getHost();
  auto client = std::make_shared<RecordingProtocol>();
  client->onStart = [serverAddr](RecordingProtocol& self) { self.transport().write(reactor::asBytes("abcdefgh"), serverAddr); };
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");
  runReactor(reactor, 5.0);
  REQUIRE(server->datagrams.size() == 1);
  CHECK(server->datagrams[0] == "abcd");
  serverPort->stopListening();
  clientPort->stopListening();
}

TEST_CASE("udp write rejects a host name, a wrong family and an oversized datagram") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto p = std::make_shared<RecordingProtocol>();
  auto port = reactor.listenUDP(0, p, "127.0.0.1");
  auto& t = p->transport();
  CHECK_THROWS_AS(t.write(reactor::asBytes("x"), Address{Address::Type::UDP, "localhost", 9, false}),
                  reactor::InvalidAddressError);
  CHECK_THROWS_AS(t.write(reactor::asBytes("x"), Address{Address::Type::UDP, "::1", 9, true}),
                  reactor::InvalidAddressError);
  std::vector<std::uint8_t> huge(70000, 0x55);
  CHECK_THROWS_AS(t.write(ByteView(huge), port->getHost()), reactor::MessageLengthError);
  // A datagram to a closed port is not an error for unconnected UDP.
  CHECK_NOTHROW(t.write(reactor::asBytes("x"), Address{Address::Type::UDP, "127.0.0.1", 9, false}));
  port->stopListening();
  // After stopListening, writes through a kept transport pointer are ignored.
  CHECK_NOTHROW(t.write(reactor::asBytes("x"), Address{Address::Type::UDP, "127.0.0.1", 9, false}));
}

TEST_CASE("writeSequence sends its pieces as one datagram") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<RecordingProtocol>();
  server->onDatagram = [&reactor](RecordingProtocol&, ByteView, const Address&) { stopIfRunning(reactor); };
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1");
  Address serverAddr = serverPort->getHost();
  auto client = std::make_shared<RecordingProtocol>();
  client->onStart = [serverAddr](RecordingProtocol& self) {
    ByteView pieces[] = {reactor::asBytes("ab"), reactor::asBytes("cd"), reactor::asBytes("e")};
    self.transport().writeSequence(pieces, serverAddr);
  };
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");
  runReactor(reactor, 5.0);
  REQUIRE(server->datagrams.size() == 1);
  CHECK(server->datagrams[0] == "abcde");
  serverPort->stopListening();
  clientPort->stopListening();
}

TEST_CASE("reactor.stop stops listening UDP ports and calls stopProtocol") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto p = std::make_shared<RecordingProtocol>();
  auto port = reactor.listenUDP(0, p, "127.0.0.1");
  reactor.callWhenRunning([&reactor] { reactor.stop(); });
  runReactor(reactor, 5.0);
  CHECK(p->stops == 1);
  CHECK_FALSE(p->hasTransport());
}

TEST_CASE("listenUDP on a port already bound throws CannotListenError") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto first = std::make_shared<RecordingProtocol>();
  auto port = reactor.listenUDP(0, first, "127.0.0.1");
  auto second = std::make_shared<RecordingProtocol>();
  CHECK_THROWS_AS(reactor.listenUDP(port->getHost().port, second, "127.0.0.1"), reactor::CannotListenError);
  CHECK(second->starts == 0);
  CHECK_THROWS_AS(reactor.listenUDP(0, second, "not-an-ip"), reactor::CannotListenError);
  port->stopListening();
}

TEST_CASE("udp endpoint strings give port, interface and maxPacketSize") {
  auto e = reactor::parseUdpEndpoint(reactor::parseEndpoint("udp:5020:interface=127.0.0.1:maxPacketSize=512"));
  CHECK(e.port == 5020);
  CHECK(e.interface == "127.0.0.1");
  CHECK(e.maxPacketSize == 512);
  auto positional = reactor::parseUdpEndpoint(reactor::parseEndpoint("udp:502:10.0.0.1"));
  CHECK(positional.port == 502);
  CHECK(positional.interface == "10.0.0.1");
  CHECK(positional.maxPacketSize == 8192);
  auto six = reactor::parseUdpEndpoint(reactor::parseEndpoint("udp6:5020"));
  CHECK(six.interface == "::");
  auto sixLoop = reactor::parseUdpEndpoint(reactor::parseEndpoint("udp:5020:interface=\\:\\:1"));
  CHECK(sixLoop.interface == "::1");
  auto any = reactor::parseUdpEndpoint(reactor::parseEndpoint("udp:port=7"));
  CHECK(any.port == 7);
  CHECK(any.interface.empty());

  CHECK_THROWS_AS(reactor::parseUdpEndpoint(reactor::parseEndpoint("tcp:5020")), reactor::EndpointError);
  CHECK_THROWS_AS(reactor::parseUdpEndpoint(reactor::parseEndpoint("udp:5020:backlog=5")), reactor::EndpointError);
  CHECK_THROWS_AS(reactor::parseUdpEndpoint(reactor::parseEndpoint("udp:70000")), reactor::EndpointError);
  CHECK_THROWS_AS(reactor::parseUdpEndpoint(reactor::parseEndpoint("udp:5020:maxPacketSize=0")), reactor::EndpointError);
  CHECK_THROWS_AS(reactor::parseUdpEndpoint(reactor::parseEndpoint("udp:5020:1.2.3.4:interface=1.2.3.4")),
                  reactor::EndpointError);
  CHECK_THROWS_AS(reactor::parseUdpEndpoint(reactor::parseEndpoint("udp")), reactor::EndpointError);
}

TEST_CASE("listenUDPFromString listens where the endpoint string says") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto p = std::make_shared<RecordingProtocol>();
  auto port = reactor::listenUDPFromString(reactor, "udp:0:interface=127.0.0.1:maxPacketSize=100", p);
  CHECK(port->getHost().host == "127.0.0.1");
  CHECK(p->transport().maxPacketSize() == 100);
  port->stopListening();
}
