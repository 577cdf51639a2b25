// Tests for reactor/testing.h: MemoryReactor records what code written against IReactorTCP /
// IReactorUDP asks for, and its recorded factories drive protocols over StringTransport; Clock is
// task.Clock under Twisted's name. (StringTransport's own behaviour: tests/reactor/protocol_test.cc.)
#include "reactor/testing.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "reactor/datagram_protocol.h"
#include "reactor/looping_call.h"
#include "reactor/reactor.h"

namespace reactor::testing {
namespace {

class Echo final : public Protocol {
 public:
  void dataReceived(ByteView data) override { transport().write(data); }
};

/// Code under test, written as a porting user would: against the interface, not a concrete reactor.
std::shared_ptr<IListeningPort> startEchoService(IReactorTCP& reactor, std::uint16_t port) {
  auto factory = std::make_shared<ServerFactory>();
  factory->protocol = [] { return std::make_shared<Echo>(); };
  return reactor.listenTCP(port, factory, 5, "127.0.0.1");
}

class Ignore final : public DatagramProtocol {
 public:
  void datagramReceived(ByteView, const Address&) override {}
};

}  // namespace

TEST_CASE("MemoryReactor records listenTCP, and its factory serves a protocol over a StringTransport") {
  MemoryReactor reactor;
  auto port = startEchoService(reactor, 5020);
  REQUIRE(reactor.tcpServers.size() == 1);
  const auto& server = reactor.tcpServers.front();
  CHECK(server.port == 5020);
  CHECK(server.backlog == 5);
  CHECK(server.interface == "127.0.0.1");
  CHECK(port->getHost() == Address{Address::Type::TCP, "127.0.0.1", 5020, false});

  auto protocol = server.factory->buildProtocol(Address{Address::Type::TCP, "127.0.0.2", 40000, false});
  REQUIRE(protocol != nullptr);
  auto transport = std::make_shared<StringTransport>();
  protocol->makeConnection(transport);
  protocol->dataReceived(asBytes("hello"));
  CHECK(transport->value() == "hello");

  port->stopListening();
  CHECK_FALSE(server.listeningPort->listening());
  CHECK(server.listeningPort->stopListeningCalls() == 1);
}

TEST_CASE("MemoryReactor records connectTCP and what is done to the connector") {
  MemoryReactor reactor;
  IReactorTCP& tcp = reactor;
  auto factory = std::make_shared<ClientFactory>();
  auto connector = tcp.connectTCP("::1", 502, factory, 2.5, "::1");
  REQUIRE(reactor.tcpClients.size() == 1);
  const auto& client = reactor.tcpClients.front();
  CHECK(client.host == "::1");
  CHECK(client.port == 502);
  CHECK(client.factory == factory);
  CHECK(client.timeout == 2.5);
  CHECK(client.bindAddress == "::1");
  CHECK(connector->getDestination() == Address{Address::Type::TCP, "::1", 502, true});
  connector->connect();
  connector->disconnect();
  connector->stopConnecting();
  CHECK(client.connector->connectCalls == 1);
  CHECK(client.connector->disconnectCalls == 1);
  CHECK(client.connector->stopConnectingCalls == 1);
  // The defaults are IReactorTCP's: a 30 s timeout, no bind address.
  tcp.connectTCP("127.0.0.1", 5020, factory);
  CHECK(reactor.tcpClients.at(1).timeout == 30);
  CHECK(reactor.tcpClients.at(1).bindAddress.empty());
}

TEST_CASE("MemoryReactor records listenUDP, and port 0 reports a port as if the OS chose one") {
  MemoryReactor reactor;
  IReactorUDP& udp = reactor;
  auto protocol = std::make_shared<Ignore>();
  auto first = udp.listenUDP(0, protocol);
  auto second = udp.listenUDP(0, protocol, "::", 512);
  REQUIRE(reactor.udpServers.size() == 2);
  CHECK(reactor.udpServers[0].interface.empty());
  CHECK(reactor.udpServers[0].maxPacketSize == 8192);
  CHECK(reactor.udpServers[1].maxPacketSize == 512);
  CHECK(first->getHost() == Address{Address::Type::UDP, "0.0.0.0", 30000, false});
  CHECK(second->getHost() == Address{Address::Type::UDP, "::", 30001, true});
}

TEST_CASE("MemoryReactor's clock runs calls only when advanced, as MemoryReactorClock") {
  MemoryReactor reactor;
  int calls = 0;
  reactor.callLater(1.0, [&] { ++calls; });
  CHECK(reactor.getDelayedCalls().size() == 1);
  reactor.advance(0.5);
  CHECK(calls == 0);
  reactor.advance(0.5);
  CHECK(calls == 1);
  CHECK(reactor.seconds() == 1.0);
}

TEST_CASE("Clock is task.Clock: a LoopingCall on it ticks as the test advances time") {
  Clock clock;
  int ticks = 0;
  LoopingCall loop(clock, [&] { ++ticks; });
  auto done = loop.start(2.0);
  CHECK(ticks == 1);
  clock.pump({1.0, 1.0, 2.0});
  CHECK(ticks == 3);
  loop.stop();
  bool stopped = false;
  done.addCallback([&] { stopped = true; });
  CHECK(stopped);
}

TEST_CASE("a Reactor is an IReactorTCP and an IReactorUDP") {
  Reactor real;
  IReactorTCP& tcp = real;
  auto port = startEchoService(tcp, 0);
  CHECK(port->getHost().port != 0);
  port->stopListening();
  IReactorUDP& udp = real;
  auto udpPort = udp.listenUDP(0, std::make_shared<Ignore>(), "127.0.0.1");
  CHECK(udpPort->getHost().type == Address::Type::UDP);
  udpPort->stopListening();
}

}  // namespace reactor::testing
