// Tests for bench/loadgen/load_generator (and load_client): runs of the load generator against a
// small in-process Modbus/TCP server on a second reactor thread that can be told to misbehave.
#include "bench/loadgen/load_generator.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "reactor/reactor.h"

namespace {

enum class Misbehaviour { None, ShiftTransactionId, Exception, ShortByteCount, Garbage };

struct ServerConfig {
  Misbehaviour misbehaviour = Misbehaviour::None;
  unsigned batch = 1;  ///< answer only once this many requests are waiting (tests pipelining)
};

/// Answers FC3 with zeros (for any function: the tests only send FC3), frame by frame.
class FakeModbusServer final : public reactor::Protocol {
 public:
  explicit FakeModbusServer(ServerConfig config) : config_(config) {}

  void dataReceived(reactor::ByteView data) override {
    in_.insert(in_.end(), data.begin(), data.end());
    std::size_t offset = 0;
    while (in_.size() - offset >= 12) {
      std::size_t length = static_cast<std::size_t>((in_[offset + 4] << 8) | in_[offset + 5]);
      if (in_.size() - offset < 6 + length) break;
      waiting_.emplace_back(in_.begin() + static_cast<std::ptrdiff_t>(offset),
                            in_.begin() + static_cast<std::ptrdiff_t>(offset + 6 + length));
      offset += 6 + length;
    }
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(offset));
    if (waiting_.size() < config_.batch) return;
    std::vector<std::uint8_t> out;
    for (const auto& request : waiting_) answer(request, out);
    waiting_.clear();
    transport().write(out);
  }

 private:
  void answer(const std::vector<std::uint8_t>& request, std::vector<std::uint8_t>& out) {
    std::uint16_t tid = static_cast<std::uint16_t>((request[0] << 8) | request[1]);
    std::uint8_t quantity = request[11];
    std::vector<std::uint8_t> pdu{request[7], static_cast<std::uint8_t>(2 * quantity)};
    pdu.resize(2 + 2u * quantity, 0);
    switch (config_.misbehaviour) {
      case Misbehaviour::None: break;
      case Misbehaviour::ShiftTransactionId: tid = static_cast<std::uint16_t>(tid + 1); break;
      case Misbehaviour::Exception: pdu = {static_cast<std::uint8_t>(request[7] | 0x80), 2}; break;
      case Misbehaviour::ShortByteCount: pdu[1] = static_cast<std::uint8_t>(pdu[1] - 2); pdu.resize(pdu.size() - 2); break;
      case Misbehaviour::Garbage: out.insert(out.end(), {0, 0, 0, 0, 0x7F, 0xFF, 1, 3}); return;
    }
    std::size_t length = pdu.size() + 1;
    out.insert(out.end(), {static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), 0, 0,
                           static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length), request[6]});
    out.insert(out.end(), pdu.begin(), pdu.end());
  }

  ServerConfig config_;
  std::vector<std::uint8_t> in_;
  std::vector<std::vector<std::uint8_t>> waiting_;
};

/// A reactor on its own thread serving FakeModbusServer on 127.0.0.1:port() until destroyed.
class ServerThread {
 public:
  explicit ServerThread(ServerConfig config, bool listen = true) {
    std::promise<std::uint16_t> ready;
    auto port = ready.get_future();
    thread_ = std::thread([this, config, listen, &ready] {
      reactor::Reactor reactor;
      reactor.setShutdownGracePeriod(0.5);
      auto factory = std::make_shared<reactor::Factory>();
      factory->protocol = [config] { return std::make_shared<FakeModbusServer>(config); };
      auto listening = reactor.listenTCP(0, factory, 1024, "127.0.0.1");
      std::uint16_t bound = listening->getHost().port;
      if (!listen) listening->stopListening();  // a port nobody listens on any more
      reactor_ = &reactor;
      ready.set_value(bound);
      reactor.run(false);
    });
    port_ = port.get();
  }
  ~ServerThread() {
    reactor_->callFromThread([r = reactor_] { r->stop(); });
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  std::thread thread_;
  reactor::Reactor* reactor_ = nullptr;
  std::uint16_t port_ = 0;
};

bench::LoadOptions quickOptions(std::uint16_t port) {
  bench::LoadOptions o;
  o.port = port;
  o.connections = 3;
  o.depth = 4;
  o.duration = 0.3;
  o.warmup = 0.1;
  o.connectTimeout = 3;
  o.settleTimeout = 3;
  return o;
}

}  // namespace

TEST_CASE("closed loop against a correct server counts replies, latencies and no errors") {
  ServerThread server({});
  auto o = quickOptions(server.port());
  o.serverPid = getpid();  // the server runs in this process
  auto r = bench::runLoad(o);
  CHECK(r.ok());
  CHECK(r.connected == 3);
  CHECK(r.errors == 0);
  CHECK(r.requests > 100);
  CHECK(r.measuredSeconds == doctest::Approx(0.3).epsilon(0.2));
  CHECK(r.requestsPerSecond > 0);
  CHECK(r.p50Us > 0);
  CHECK(r.p99Us >= r.p50Us);
  CHECK(r.maxUs >= r.p99Us);
  CHECK(r.haveServer);
  CHECK(r.serverPeakRssKb > 0);
  CHECK(r.serverCpuUsPerRequest >= 0);
}

TEST_CASE("closed loop with busy polling validates every reply and ends on time") {
  ServerThread server({});
  auto o = quickOptions(server.port());
  o.busyPoll = true;
  auto r = bench::runLoad(o);
  CHECK(r.ok());
  CHECK(r.errors == 0);
  CHECK_FALSE(r.timedOut);
  CHECK(r.requests > 100);
  CHECK(r.measuredSeconds == doctest::Approx(0.3).epsilon(0.2));
}

TEST_CASE("closed loop keeps depth requests in flight on each connection") {
  ServerThread server({Misbehaviour::None, 4});  // answers only when 4 requests wait
  auto o = quickOptions(server.port());
  auto r = bench::runLoad(o);
  CHECK(r.ok());
  CHECK(r.requests > 100);
}

TEST_CASE("a reply whose transaction id matches no request is counted as an error") {
  ServerThread server({Misbehaviour::ShiftTransactionId});
  auto o = quickOptions(server.port());
  o.depth = 1;
  auto r = bench::runLoad(o);
  CHECK_FALSE(r.ok());
  CHECK(r.errors >= 3);
  CHECK(r.errorsByKind[static_cast<std::size_t>(bench::ReplyError::UnknownTransaction)] == r.errors);
  CHECK(r.requests == 0);
}

TEST_CASE("exception responses and short byte counts are errors, and the loop goes on") {
  ServerThread exceptions({Misbehaviour::Exception});
  auto r = bench::runLoad(quickOptions(exceptions.port()));
  CHECK_FALSE(r.ok());
  CHECK(r.errorsByKind[static_cast<std::size_t>(bench::ReplyError::ExceptionResponse)] > 100);
  ServerThread shortCounts({Misbehaviour::ShortByteCount});
  auto s = bench::runLoad(quickOptions(shortCounts.port()));
  CHECK_FALSE(s.ok());
  CHECK(s.errorsByKind[static_cast<std::size_t>(bench::ReplyError::BadByteCount)] > 100);
}

TEST_CASE("an impossible MBAP length is an error and drops that connection") {
  ServerThread server({Misbehaviour::Garbage});
  auto o = quickOptions(server.port());
  o.connections = 2;
  auto r = bench::runLoad(o);
  CHECK_FALSE(r.ok());
  CHECK(r.errorsByKind[static_cast<std::size_t>(bench::ReplyError::Garbage)] == 2);
  CHECK(r.connectionsLost == 2);
}

TEST_CASE("idle mode opens every connection, then each gets its one reply") {
  ServerThread server({});
  auto o = quickOptions(server.port());
  o.mode = bench::LoadMode::Idle;
  o.connections = 200;
  o.connectRate = 0;
  o.serverPid = getpid();
  auto r = bench::runLoad(o);
  CHECK(r.ok());
  CHECK(r.connected == 200);
  CHECK(r.replied == 200);
  CHECK(r.serverRssAfterKb > 0);
  CHECK(r.serverRssBeforeKb > 0);
}

TEST_CASE("first-reply mode counts the connections answered within the deadline") {
  ServerThread server({});
  auto o = quickOptions(server.port());
  o.mode = bench::LoadMode::FirstReply;
  o.connections = 100;
  o.connectRate = 0;
  o.firstReplyDeadline = 2.0;
  auto r = bench::runLoad(o);
  CHECK(r.ok());
  CHECK(r.replied == 100);
  CHECK(r.firstReplyWithin == 100);
  CHECK(r.slowestFirstReplyMs > 0);
  CHECK(r.slowestFirstReplyMs < 2000);
}

TEST_CASE("a slow client dribbling one byte at a time gets its replies beside the closed loop") {
  ServerThread server({});
  auto o = quickOptions(server.port());
  o.slowClients = 1;
  o.slowInterval = 0.002;
  o.duration = 0.5;
  auto r = bench::runLoad(o);
  CHECK(r.ok());
  CHECK(r.connected == 4);
  CHECK(r.slowReplies >= 1);
  CHECK(r.requests > 100);
}

TEST_CASE("paced connects open every connection at the requested rate") {
  ServerThread server({});
  auto o = quickOptions(server.port());
  o.connections = 20;
  o.connectRate = 200;  // 20 connections in about 0.1 s
  auto r = bench::runLoad(o);
  CHECK(r.ok());
  CHECK(r.connected == 20);
}

TEST_CASE("refused connections are counted as failed and the run ends") {
  ServerThread server({}, false);
  auto o = quickOptions(server.port());
  o.connections = 5;
  auto r = bench::runLoad(o);
  CHECK_FALSE(r.ok());
  CHECK(r.connectFailed == 5);
  CHECK(r.connected == 0);
  CHECK_FALSE(r.timedOut);
}

TEST_CASE("load generator rejects options out of range") {
  bench::LoadOptions o;
  o.depth = 0;
  CHECK_THROWS_AS(bench::runLoad(o), std::invalid_argument);
  o.depth = 1;
  o.mix.clear();
  CHECK_THROWS_AS(bench::runLoad(o), std::invalid_argument);
  bench::LoadOptions idle;
  idle.mode = bench::LoadMode::Idle;
  idle.slowClients = 1;
  CHECK_THROWS_AS(bench::runLoad(idle), std::invalid_argument);
}

TEST_CASE("reconnect mode: connect, one request, close, again, counts cycles") {
  ServerThread server({});
  auto o = quickOptions(server.port());
  o.mode = bench::LoadMode::Reconnect;
  o.connections = 2;
  auto r = bench::runLoad(o);
  CHECK(r.ok());
  CHECK(r.errors == 0);
  CHECK(r.connectionsLost == 0);
  CHECK(r.requests > 10);
  CHECK(r.connected > r.requests);  // warmup cycles too
  CHECK(r.requestsPerSecond > 0);
}
