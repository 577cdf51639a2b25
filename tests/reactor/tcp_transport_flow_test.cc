// Tests for reactor/detail/tcp_transport.cc, flow and addresses: the high-water mark and push
// producers, pausing the transport's reading, writeSequence, getHost/getPeer over IPv4 and IPv6,
// and the TCP options. Loopback only, port 0.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/reactor.h"
#include "tests/support/reactor_harness.h"

using reactor::asBytes;
using reactor::ByteView;
using reactor::Failure;
using reactor::FailureType;
using reactor::IProducer;
using reactor::Reactor;
using namespace reactor::testing;

TEST_CASE("the high-water mark pauses a push producer and resumes it only on a full drain") {
  LoopCleanCheck clean;
  Reactor r;
  struct Producer : IProducer {
    reactor::ITransport* transport = nullptr;
    AccumulatingProtocol* server = nullptr;
    int pauses = 0;
    int resumes = 0;
    bool paused = false;
    std::size_t bufferedAtPause = 0;
    std::size_t bufferedAtResume = 1;
    void pauseProducing() override {
      ++pauses;
      paused = true;
      bufferedAtPause = transport->bufferedAmount();
      server->transport().resumeProducing();  // the reader wakes up: the buffer can drain now
    }
    void resumeProducing() override {
      ++resumes;
      paused = false;
      bufferedAtResume = transport->bufferedAmount();
      transport->unregisterProducer();
      transport->loseConnection();
    }
    void stopProducing() override {}
  };
  auto producer = std::make_shared<Producer>();
  auto client = std::make_shared<AccumulatingProtocol>();
  auto server = std::make_shared<AccumulatingProtocol>();
  std::size_t written = 0;
  server->onMade = [](AccumulatingProtocol& p) { p.transport().pauseProducing(); };
  whenBothConnected(client, server, [&] {
    producer->transport = &client->transport();
    producer->server = server.get();
    client->transport().setWriteHighWaterMark(64 * 1024);
    client->transport().registerProducer(producer, true);
    const std::string chunk(16 * 1024, 'p');
    for (int i = 0; i < 4000 && !producer->paused; ++i) {  // bounded: at most 64 MiB
      client->transport().write(asBytes(chunk));
      written += chunk.size();
    }
  });
  REQUIRE(runProtocolsWithReactor(r, server, client, 20.0));
  CHECK(producer->pauses == 1);
  CHECK(producer->resumes == 1);
  CHECK(producer->bufferedAtPause > 64 * 1024);
  CHECK(producer->bufferedAtResume == 0);
  CHECK(server->data.size() == written);
}

TEST_CASE("pauseProducing on the transport stops dataReceived until resumeProducing") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  std::string seenWhilePaused = "unset";
  server->onMade = [](AccumulatingProtocol& p) { p.transport().pauseProducing(); };
  whenBothConnected(client, server, [&] {
    client->transport().write(asBytes("hello"));
    // A window of several loop passes in which the bytes sit in the server's socket unread.
    r.callLater(0.1, [&] {
      seenWhilePaused = server->data;
      server->transport().resumeProducing();
    });
  });
  server->onData = [](AccumulatingProtocol& p, ByteView) { p.transport().loseConnection(); };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(seenWhilePaused.empty());
  CHECK(server->data == "hello");
}

// --- writeSequence ----------------------------------------------------------------------------------------

TEST_CASE("writeSequence sends every piece in order, few pieces or many") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  std::string expected;
  std::vector<std::string> few{"Some ", "sequence ", "splitted"};
  std::vector<std::string> many;
  for (int i = 0; i < 40; ++i) many.push_back(std::to_string(i) + ",");
  for (const auto& s : few) expected += s;
  for (const auto& s : many) expected += s;
  expected += std::string(300000, 'z');
  client->onMade = [&](AccumulatingProtocol& p) {
    std::vector<ByteView> a, b;
    for (const auto& s : few) a.push_back(asBytes(s));
    for (const auto& s : many) b.push_back(asBytes(s));
    p.transport().writeSequence(a);
    p.transport().writeSequence(b);
    std::string big(300000, 'z');
    std::vector<ByteView> c{asBytes(std::string_view(big).substr(0, 100000)),
                            asBytes(std::string_view(big).substr(100000))};
    p.transport().writeSequence(c);
    p.transport().writeSequence({});
    p.transport().loseConnection();
  };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(server->data == expected);
}

// --- addresses and options -----------------------------------------------------------------------------

TEST_CASE("getHost and getPeer report both ends over IPv4") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  whenBothConnected(client, server, [&] { client->transport().loseConnection(); });
  REQUIRE(runProtocolsWithReactor(r, server, client));
  reactor::Address serverHost = server->transport().getHost();
  reactor::Address serverPeer = server->transport().getPeer();
  reactor::Address clientHost = client->transport().getHost();
  reactor::Address clientPeer = client->transport().getPeer();
  CHECK(serverHost.type == reactor::Address::Type::TCP);
  CHECK(serverHost.host == "127.0.0.1");
  CHECK_FALSE(serverHost.ipv6);
  CHECK(serverHost.port != 0);
  CHECK(clientPeer == serverHost);
  CHECK(serverPeer == clientHost);
  CHECK(clientHost.host == "127.0.0.1");
  CHECK(clientHost.port != serverHost.port);
  CHECK(serverHost.toString() == "127.0.0.1:" + std::to_string(serverHost.port));
}

TEST_CASE("getHost and getPeer report both ends over IPv6 (::1)") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  whenBothConnected(client, server, [&] { server->transport().loseConnection(); });
  REQUIRE(runProtocolsWithReactor(r, server, client, 5.0, "::1"));
  reactor::Address serverHost = server->transport().getHost();
  reactor::Address clientHost = client->transport().getHost();
  CHECK(serverHost.host == "::1");
  CHECK(serverHost.ipv6);
  CHECK(serverHost.port != 0);
  CHECK(client->transport().getPeer() == serverHost);
  CHECK(server->transport().getPeer() == clientHost);
  CHECK(clientHost.host == "::1");
  CHECK(clientHost.ipv6);
  CHECK(serverHost.toString() == "[::1]:" + std::to_string(serverHost.port));
}

TEST_CASE("setTcpNoDelay and setTcpKeepAlive are reported by their getters") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  std::vector<bool> seen;
  server->onMade = [&](AccumulatingProtocol& p) {
    auto& tcp = dynamic_cast<reactor::ITCPTransport&>(p.transport());
    seen.push_back(tcp.getTcpNoDelay());
    seen.push_back(tcp.getTcpKeepAlive());
    tcp.setTcpNoDelay(true);
    tcp.setTcpKeepAlive(true);
    seen.push_back(tcp.getTcpNoDelay());
    seen.push_back(tcp.getTcpKeepAlive());
    tcp.setTcpNoDelay(false);
    seen.push_back(tcp.getTcpNoDelay());
    seen.push_back(tcp.getTcpKeepAlive());
    tcp.setTcpKeepAlive(false);
    seen.push_back(tcp.getTcpKeepAlive());
    p.transport().loseConnection();
  };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(seen == std::vector<bool>{false, false, true, true, false, true, false});
}
