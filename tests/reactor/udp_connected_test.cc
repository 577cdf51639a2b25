// Tests for the UDP extras of reactor/detail/udp_port.cc: one process on several UDP ports, one
// DatagramProtocol refused a second port (as Twisted), and connect()ed UDP (write without an
// address, other peers dropped, connectionRefused on ICMP port unreachable). Loopback, port 0.
// Multicast is tests/reactor/multicast/udp_multicast_test.cc (it may have to be skipped).
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reactor/datagram_protocol.h"
#include "reactor/reactor.h"
#include "tests/reactor/when.h"
#include "tests/support/reactor_harness.h"

using reactor::Address;
using reactor::ByteView;
using reactor::Reactor;
using namespace reactor::testing;

namespace {

class Recorder : public reactor::DatagramProtocol {
 public:
  void datagramReceived(ByteView datagram, const Address& addr) override {
    datagrams.emplace_back(reactor::asText(datagram));
    senders.push_back(addr);
    if (onDatagram) onDatagram(*this, datagram, addr);
  }
  void connectionRefused() override {
    ++refusals;
    if (onRefused) onRefused(*this);
  }
  std::vector<std::string> datagrams;
  std::vector<Address> senders;
  int refusals = 0;
  std::function<void(Recorder&, ByteView, const Address&)> onDatagram;
  std::function<void(Recorder&)> onRefused;
};

/// A UDP port number that was free a moment ago and has nobody on it now.
std::uint16_t closedPort() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("udp: one process serves several UDP ports, each with its own protocol") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto first = std::make_shared<Recorder>();
  auto second = std::make_shared<Recorder>();
  auto p1 = reactor.listenUDP(0, first, "127.0.0.1");
  auto p2 = reactor.listenUDP(0, second, "127.0.0.1");
  CHECK(p1->getHost().port != p2->getHost().port);
  auto sender = std::make_shared<Recorder>();
  auto ps = reactor.listenUDP(0, sender, "127.0.0.1");
  sender->transport().write(reactor::asBytes("to first"), p1->getHost());
  sender->transport().write(reactor::asBytes("to second"), p2->getHost());
  reactortest::when(reactor, [&] { return !first->datagrams.empty() && !second->datagrams.empty(); },
                    [&] { reactor.stop(); });
  runReactor(reactor);
  CHECK(first->datagrams == std::vector<std::string>{"to first"});
  CHECK(second->datagrams == std::vector<std::string>{"to second"});
  for (auto& p : {p1, p2, ps}) p->stopListening();
}

TEST_CASE("udp: one DatagramProtocol given to a second port is refused, as in Twisted") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto protocol = std::make_shared<Recorder>();
  auto port = reactor.listenUDP(0, protocol, "127.0.0.1");
  CHECK_THROWS_WITH_AS(reactor.listenUDP(0, protocol, "127.0.0.1"), doctest::Contains("already listens on a port"),
                       std::logic_error);
  CHECK(protocol->numPorts() == 1);
  CHECK(protocol->transport().getHost() == port->getHost());  // the first port is untouched
  port->stopListening();
  // Free again once its port stopped.
  auto again = reactor.listenUDP(0, protocol, "127.0.0.1");
  again->stopListening();
}

TEST_CASE("udp connect: write needs no address, and datagrams from other peers are dropped") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto server = std::make_shared<Recorder>();
  server->onDatagram = [](Recorder& self, ByteView d, const Address& from) {
    self.transport().write(reactor::asBytes("echo:" + std::string(reactor::asText(d))), from);
  };
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1");
  auto intruder = std::make_shared<Recorder>();
  auto intruderPort = reactor.listenUDP(0, intruder, "127.0.0.1");
  auto client = std::make_shared<Recorder>();
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");

  client->transport().connect("127.0.0.1", serverPort->getHost().port);
  CHECK(client->transport().getPeer() == serverPort->getHost());
  CHECK_THROWS_AS(client->transport().connect("127.0.0.1", 9), std::logic_error);  // once per port
  CHECK_THROWS_AS(client->transport().write(reactor::asBytes("x"), intruderPort->getHost()),
                  reactor::InvalidAddressError);
  CHECK_THROWS_AS(server->transport().write(reactor::asBytes("x")), std::logic_error);  // not connected

  // The intruder's datagram is sent first: had the kernel delivered it, it would come first.
  intruder->transport().write(reactor::asBytes("intruder"), clientPort->getHost());
  client->transport().write(reactor::asBytes("hello"));
  reactortest::when(reactor, [&] { return !client->datagrams.empty(); }, [&] { reactor.stop(); });
  runReactor(reactor);
  CHECK(client->datagrams == std::vector<std::string>{"echo:hello"});
  REQUIRE(client->senders.size() == 1);
  CHECK(client->senders[0] == serverPort->getHost());
  CHECK(server->datagrams == std::vector<std::string>{"hello"});
  for (auto& p : {serverPort, intruderPort, clientPort}) p->stopListening();
}

TEST_CASE("udp connect: ICMP port unreachable calls connectionRefused and the port stays open") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto client = std::make_shared<Recorder>();
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");
  client->transport().connect("127.0.0.1", closedPort());
  // Each write may draw an ICMP answer; the refusal shows on a later receive or send. Bounded:
  // runReactor fails the test after its limit.
  std::function<void()> poke = [&] {
    if (client->refusals > 0) {
      // The port is still open after the refusal (reactor.stop() below closes it).
      CHECK(client->hasTransport());
      CHECK_NOTHROW(client->transport().write(reactor::asBytes("still here")));
      reactor.stop();
      return;
    }
    client->transport().write(reactor::asBytes("anyone?"));
    reactor.callLater(0.01, poke);
  };
  reactor.callWhenRunning(poke);
  runReactor(reactor);
  CHECK(client->refusals >= 1);
  clientPort->stopListening();
}
