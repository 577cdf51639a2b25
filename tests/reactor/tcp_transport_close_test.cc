// Tests for reactor/detail/tcp_transport.cc, closing: connectionLost exactly once and never
// re-entrantly, loseConnection flushing what was written (also right after it), producers holding
// the close back, the peer's close, and an exception in dataReceived. Loopback only, port 0.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/reactor.h"
#include "tests/reactor/when.h"
#include "tests/support/reactor_harness.h"

using reactor::asBytes;
using reactor::ByteView;
using reactor::Failure;
using reactor::FailureType;
using reactor::IProducer;
using reactor::Reactor;
using namespace reactor::testing;

namespace {

/// What a buggy protocol throws.
struct ZeroDivisionError : std::runtime_error {
  ZeroDivisionError() : std::runtime_error("ONO") {}
};

}  // namespace

// --- closing ------------------------------------------------------------------------------------------

TEST_CASE("connectionLost is delivered exactly once and never re-entrantly") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  bool disconnectingAfter = false;
  bool connectedAfter = false;
  server->onData = [&](AccumulatingProtocol& p, ByteView) {
    // Every close path in a row, inside a reactor method: none may deliver connectionLost here.
    p.transport().loseConnection();
    p.transport().loseConnection();
    p.transport().abortConnection();
    p.transport().abortConnection();
    p.transport().loseConnection();
    p.transport().write(asBytes("dropped"));
    p.transport().stopProducing();
    disconnectingAfter = p.transport().disconnecting();
    connectedAfter = p.transport().connected();  // still true until connectionLost
  };
  client->onMade = [](AccumulatingProtocol& p) {
    p.busy([&] {
      p.transport().write(asBytes("go"));
      p.transport().loseConnection();
      p.transport().loseConnection();
    });
  };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(disconnectingAfter);
  CHECK(connectedAfter);
  CHECK(server->lostCount == 1);
  CHECK(client->lostCount == 1);
  CHECK_FALSE(server->reentrantLoss);
  CHECK_FALSE(client->reentrantLoss);
  CHECK(server->closedReason->check(FailureType::ConnectionAborted));
  CHECK(client->data.empty());
}

TEST_CASE("loseConnection flushes a large buffered write before closing") {
  LoopCleanCheck clean;
  Reactor r;
  const std::size_t size = 4 * 1024 * 1024;
  std::string payload(size, '\0');
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  std::size_t bufferedAtClose = 0;
  server->onMade = [&](AccumulatingProtocol& p) {
    p.transport().write(asBytes(payload));
    bufferedAtClose = p.transport().bufferedAmount();
    p.transport().loseConnection();
  };
  REQUIRE(runProtocolsWithReactor(r, server, client, 20.0));
  INFO("buffered when loseConnection was called: " << bufferedAtClose);
  CHECK(client->data.size() == size);
  CHECK(client->data == payload);
  CHECK(client->closedReason->check(FailureType::ConnectionDone));
  CHECK(server->closedReason->check(FailureType::ConnectionDone));
}

TEST_CASE("a write right after loseConnection is still flushed before the close") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  server->onMade = [](AccumulatingProtocol& p) {
    p.transport().loseConnection();
    p.transport().write(asBytes("goodbye"));
  };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(client->data == "goodbye");
  CHECK(server->closedReason->check(FailureType::ConnectionDone));
  CHECK(client->closedReason->check(FailureType::ConnectionDone));
}

TEST_CASE("loseConnection waits for a registered pull producer to be unregistered") {
  LoopCleanCheck clean;
  Reactor r;
  struct Idle : IProducer {
    void resumeProducing() override { ++resumes; }
    void stopProducing() override { ++stops; }
    int resumes = 0;
    int stops = 0;
  };
  auto producer = std::make_shared<Idle>();
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  bool connectedBeforeUnregister = false;
  server->onMade = [&](AccumulatingProtocol& p) {
    p.transport().registerProducer(producer, false);
    p.transport().write(asBytes("data"));
    p.transport().loseConnection();
    // Once the data has arrived (a condition, not a delay) the close is still held back.
    reactortest::when(
        r, [&] { return client->data == "data"; },
        [&] {
          connectedBeforeUnregister = server->transport().connected() && server->lostCount == 0;
          server->transport().unregisterProducer();
        });
  };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(connectedBeforeUnregister);
  CHECK(producer->resumes >= 1);
  CHECK(producer->stops == 0);  // unregistered before the close: never stopped
  CHECK(client->data == "data");
  CHECK(server->closedReason->check(FailureType::ConnectionDone));
}

TEST_CASE("loseConnection with an unpaused push producer closes after the drain and stops it") {
  LoopCleanCheck clean;
  Reactor r;
  struct Push : IProducer {
    void resumeProducing() override {}
    void stopProducing() override { ++stops; }
    int stops = 0;
  };
  auto producer = std::make_shared<Push>();
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  int stopsAtLoss = -1;
  server->onMade = [&](AccumulatingProtocol& p) {
    p.transport().registerProducer(producer, true);
    p.transport().write(asBytes("data"));
    p.transport().loseConnection();
  };
  server->onLost = [&](AccumulatingProtocol&, const Failure&) { stopsAtLoss = producer->stops; };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(client->data == "data");
  CHECK(stopsAtLoss == 1);  // stopProducing comes before connectionLost
  CHECK(server->closedReason->check(FailureType::ConnectionDone));
}

TEST_CASE("the peer's close flushes what was written, then connectionLost(ConnectionDone)") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  client->onMade = [](AccumulatingProtocol& p) {
    p.transport().write(asBytes("request"));
  };
  server->onData = [](AccumulatingProtocol& p, ByteView) {
    p.transport().write(asBytes("reply"));
  };
  client->onData = [](AccumulatingProtocol& p, ByteView) { p.transport().loseConnection(); };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(server->data == "request");
  CHECK(client->data == "reply");
  CHECK(server->closedReason->check(FailureType::ConnectionDone));
  CHECK(client->closedReason->check(FailureType::ConnectionDone));
}

TEST_CASE("an exception in dataReceived closes the connection with the exception as the reason") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  server->onData = [](AccumulatingProtocol&, ByteView) { throw ZeroDivisionError(); };
  client->onMade = [](AccumulatingProtocol& p) { p.transport().write(asBytes("boom")); };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(server->closedReason->check(FailureType::UserError));
  CHECK_THROWS_AS(server->closedReason->raiseException(), ZeroDivisionError);
  CHECK(isOneOf(client->closedReason, {FailureType::ConnectionDone, FailureType::ConnectionLost}));
  CHECK(logs.count("ONO") == 1);
}
