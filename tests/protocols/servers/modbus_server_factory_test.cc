// ModbusServerFactory's connection bounds, driven through StringTransport and the ManualClock: the
// per-peer limit, eviction of the stalest connection when the server is full, and the bounded
// connection log (10 000 connect/disconnect cycles give an exact number of info lines).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/serving/modbus_stream_protocol.h"
#include "tests/support/reactor_harness.h"

namespace {

using namespace modbus;
using reactor::testing::StringTransport;

/// A factory on a ManualClock whose connections are StringTransports from chosen addresses.
struct Server {
  explicit Server(ServerOptions options)
      : factory(std::make_shared<ModbusServerFactory>(ServerContext::single(std::make_shared<DeviceContext>()),
                                                      std::move(options))) {
    factory->setClock(&clock);
  }
  struct Client {
    std::shared_ptr<reactor::Protocol> protocol;
    std::shared_ptr<StringTransport> transport;
  };
  /// What the TCP port does on accept; protocol is null when refused.
  Client accept(const std::string& host) {
    const reactor::Address peer{reactor::Address::Type::TCP, host, 40000, false};
    Client c{factory->buildProtocol(peer), std::make_shared<StringTransport>()};
    if (!c.protocol) return c;
    c.transport->setPeer(peer);
    c.protocol->makeConnection(c.transport);
    return c;
  }
  /// The reactor delivering the close a server-side abort or loseConnection asked for.
  static void lose(Client& c) { c.transport->reportConnectionLost(*c.protocol); }

  reactor::ManualClock clock;
  std::shared_ptr<ModbusServerFactory> factory;
};

}  // namespace

TEST_CASE("a peer address with maxConnectionsPerPeer open gets its next connection refused, others do not") {
  ServerOptions o;
  o.maxConnectionsPerPeer = 3;
  Server server(o);
  std::vector<Server::Client> open;
  for (int i = 0; i < 3; ++i) open.push_back(server.accept("127.0.0.2"));
  CHECK(server.accept("127.0.0.2").protocol == nullptr);
  CHECK(server.accept("127.0.0.3").protocol != nullptr);
  CHECK(server.factory->connectionCountFrom("127.0.0.2") == 3);
  CHECK(server.factory->connectionLog().total(ConnectionEvent::RefusedPerPeer) == 1);
  Server::lose(open[0]);  // one closes: the peer may connect once more
  CHECK(server.factory->connectionCountFrom("127.0.0.2") == 2);
  CHECK(server.accept("127.0.0.2").protocol != nullptr);
}

TEST_CASE("with maxConnections open, a newcomer evicts the connection idle the longest instead of being refused") {
  ServerOptions o;
  o.maxConnections = 3;
  Server server(o);
  std::vector<Server::Client> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(server.accept("127.0.0.2"));
    server.clock.advance(1);
  }
  open[0].protocol->dataReceived(std::vector<std::uint8_t>{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1});  // active again
  auto newcomer = server.accept("127.0.0.3");
  REQUIRE(newcomer.protocol != nullptr);
  CHECK(open[1].transport->aborted());  // idle since t=1, the longest
  CHECK_FALSE(open[0].transport->disconnecting());
  CHECK_FALSE(open[2].transport->disconnecting());
  CHECK(server.factory->connectionCount() == 3);
  Server::lose(open[1]);  // its connectionLost later does not count it out twice
  CHECK(server.factory->connectionCount() == 3);
  CHECK(server.factory->connectionCountFrom("127.0.0.2") == 2);
  CHECK(server.factory->connectionLog().total(ConnectionEvent::EvictedIdle) == 1);
  CHECK(server.factory->connectionLog().total(ConnectionEvent::RefusedFull) == 0);
}

TEST_CASE("a connection trickling a frame is staler than one idle since after the frame began") {
  ServerOptions o;
  o.maxConnections = 2;
  Server server(o);
  auto trickler = server.accept("127.0.0.2");
  trickler.protocol->dataReceived(std::vector<std::uint8_t>{0});  // t=0: a frame begins
  server.clock.advance(1);
  auto idle = server.accept("127.0.0.2");  // t=1, silent since
  server.clock.advance(4);
  trickler.protocol->dataReceived(std::vector<std::uint8_t>{1});  // t=5: its last byte is newer than idle's
  server.accept("127.0.0.3");
  CHECK(trickler.transport->aborted());
  CHECK_FALSE(idle.transport->disconnecting());
}

TEST_CASE("10000 connect/disconnect cycles give 20 info lines, then one summary line per window") {
  reactor::testing::LogCapture log;
  Server server(ServerOptions{});
  for (int i = 0; i < 10000; ++i) {
    auto c = server.accept("127.0.0.2");
    Server::lose(c);
  }
  // connectionLogBurst (10) of each kind; the rest went to debug, which LogCapture does not see
  // at the default level.
  CHECK(log.lines.size() == 20);
  CHECK(log.count("client connected: ") == 10);
  CHECK(log.count("client disconnected: ") == 10);
  server.clock.advance(10);
  REQUIRE(log.lines.size() == 21);
  CHECK(log.lines.back().find("10000 connected (9990 lines suppressed); 10000 disconnected (9990 lines suppressed);") !=
        std::string::npos);
  server.clock.advance(10);  // a quiet window says nothing
  CHECK(log.lines.size() == 21);
  CHECK(server.accept("127.0.0.2").protocol != nullptr);  // the next window logs again
  CHECK(log.lines.size() == 22);
}
