// redis::Client against a fake Redis (a reactor protocol on loopback port 0): commands pipelined
// (the fake answers only once it holds all of them, so a client that waited for each reply would
// never finish), replies matched in order, the command deadline, and reconnection.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "protocols/redis/redis_client.h"
#include "reactor/protocol.h"
#include "reactor/reactor.h"
#include "tests/support/reactor_harness.h"

using reactor::testing::runReactor;
using reactor::testing::stopIfRunning;

namespace {

/// Answers `+PONG n` to PINGs once `expected` of them have arrived (all at once), or never when
/// `expected` is 0. Counts connections.
struct FakeRedis {
  std::size_t expected = 0;
  int connections = 0;
  std::size_t largestBatch = 0;  // PINGs seen when the fake answered
};

class FakeProtocol final : public reactor::Protocol {
 public:
  explicit FakeProtocol(FakeRedis* fake) : fake_(fake) {}
  void connectionMade() override { ++fake_->connections; }
  void dataReceived(reactor::ByteView data) override {
    input_.append(reactor::asText(data));
    std::size_t pings = 0;
    for (std::size_t at = input_.find("PING"); at != std::string::npos; at = input_.find("PING", at + 1)) ++pings;
    if (fake_->expected == 0 || pings < fake_->expected || answered_) return;
    answered_ = true;
    fake_->largestBatch = pings;
    std::string out;
    for (std::size_t i = 0; i < pings; ++i) out += "+PONG " + std::to_string(i) + "\r\n";
    transport().write(reactor::asBytes(out));
  }

 private:
  FakeRedis* fake_;
  std::string input_;
  bool answered_ = false;
};

std::shared_ptr<reactor::IListeningPort> listenFake(reactor::Reactor& r, FakeRedis& fake) {
  auto factory = std::make_shared<reactor::ServerFactory>();
  factory->protocol = [&fake] { return std::make_shared<FakeProtocol>(&fake); };
  return r.listenTCP(0, factory, 50, "127.0.0.1");
}

redis::ClientOptions optionsFor(const reactor::IListeningPort& port, double timeout) {
  redis::ClientOptions o;
  o.host = "127.0.0.1";
  o.port = port.getHost().port;
  o.timeout = timeout;
  o.initialDelay = 0.01;
  o.logOutages = false;
  return o;
}

}  // namespace

TEST_CASE("redis client: commands asked for in one pass are pipelined and answered in order") {
  reactor::Reactor r;
  FakeRedis fake;
  fake.expected = 10;
  auto port = listenFake(r, fake);
  std::vector<std::string> replies;
  std::shared_ptr<redis::Client> client;
  client = redis::Client::create(r, optionsFor(*port, 3.0), [&](redis::Client& c) {
    for (int i = 0; i < 10; ++i) {
      c.command([](std::string& out) { redis::appendCommand(out, {"PING"}); },
                [&](const redis::Reply* reply) {
                  replies.push_back(reply ? std::string(reply->string()) : "failed");
                  if (replies.size() == 10) stopIfRunning(r);
                });
    }
    CHECK(c.inFlight() == 10);
  });
  REQUIRE(runReactor(r, 5.0));
  REQUIRE(replies.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(replies[static_cast<std::size_t>(i)] == "PONG " + std::to_string(i));
  CHECK(fake.largestBatch == 10);
  CHECK(client->inFlight() == 0);
  client->stop();
}

TEST_CASE("redis client: a command asked for while not connected fails at once") {
  reactor::Reactor r;
  FakeRedis fake;
  auto port = listenFake(r, fake);
  auto client = redis::Client::create(r, optionsFor(*port, 1.0));
  CHECK(client->state() == redis::Client::State::Connecting);
  bool failed = false;
  bool encoded = false;
  client->command([&](std::string&) { encoded = true; }, [&](const redis::Reply* reply) { failed = reply == nullptr; });
  CHECK(failed);
  CHECK_FALSE(encoded);
  client->stop();
}

TEST_CASE("redis client: a command not answered within the timeout fails, and the client reconnects") {
  reactor::Reactor r;
  FakeRedis fake;  // never answers
  auto port = listenFake(r, fake);
  double askedAt = 0;
  double failedAt = -1;
  std::shared_ptr<redis::Client> client;
  client = redis::Client::create(r, optionsFor(*port, 0.2), [&](redis::Client& c) {
    if (c.connectionsMade() == 2) {  // reconnected after the timeout
      stopIfRunning(r);
      return;
    }
    askedAt = r.seconds();
    c.command([](std::string& out) { redis::appendCommand(out, {"PING"}); },
              [&](const redis::Reply* reply) {
                CHECK(reply == nullptr);
                failedAt = r.seconds();
              });
  });
  REQUIRE(runReactor(r, 5.0));
  CHECK(failedAt - askedAt >= 0.2 - 1e-3);
  CHECK(failedAt - askedAt < 2.0);
  CHECK(fake.connections == 2);
  client->stop();
}
