// Tests for the load generator's UDP mode (bench/loadgen/udp_client): runs against a small
// in-process Modbus/UDP server on a second reactor thread that answers FC3 and can drop requests.
#include <doctest/doctest.h>

#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "bench/loadgen/load_generator.h"
#include "reactor/datagram_protocol.h"
#include "reactor/reactor.h"

namespace {

struct UdpServerConfig {
  unsigned dropEvery = 0;     ///< drop every Nth request (0: none)
  bool duplicate = false;     ///< send every reply twice
  bool wrongByteCount = false;
};

class FakeUdpServer final : public reactor::DatagramProtocol {
 public:
  explicit FakeUdpServer(UdpServerConfig config) : config_(config) {}

  void datagramReceived(reactor::ByteView d, const reactor::Address& from) override {
    ++seen_;
    if (config_.dropEvery != 0 && seen_ % config_.dropEvery == 0) return;
    std::uint8_t quantity = d[11];
    std::vector<std::uint8_t> pdu{d[7], static_cast<std::uint8_t>(2 * quantity)};
    pdu.resize(2 + 2u * quantity, 0);
    if (config_.wrongByteCount) pdu[1] = static_cast<std::uint8_t>(pdu[1] + 2);
    std::size_t length = pdu.size() + 1;
    std::vector<std::uint8_t> out{d[0], d[1], 0, 0, static_cast<std::uint8_t>(length >> 8),
                                  static_cast<std::uint8_t>(length), d[6]};
    out.insert(out.end(), pdu.begin(), pdu.end());
    transport().write(out, from);
    if (config_.duplicate) transport().write(out, from);
  }

 private:
  UdpServerConfig config_;
  unsigned seen_ = 0;
};

class UdpServerThread {
 public:
  explicit UdpServerThread(UdpServerConfig config) {
    std::promise<std::uint16_t> ready;
    auto port = ready.get_future();
    thread_ = std::thread([this, config, &ready] {
      reactor::Reactor reactor;
      auto listening = reactor.listenUDP(0, std::make_shared<FakeUdpServer>(config), "127.0.0.1");
      reactor_ = &reactor;
      ready.set_value(listening->getHost().port);
      reactor.run(false);
    });
    port_ = port.get();
  }
  ~UdpServerThread() {
    reactor_->callFromThread([r = reactor_] { r->stop(); });
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  std::thread thread_;
  reactor::Reactor* reactor_ = nullptr;
  std::uint16_t port_ = 0;
};

bench::LoadOptions udpOptions(std::uint16_t port) {
  bench::LoadOptions o;
  o.transport = bench::LoadTransport::Udp;
  o.port = port;
  o.connections = 3;
  o.depth = 4;
  o.duration = 0.3;
  o.warmup = 0.1;
  o.udpTimeout = 0.02;
  return o;
}

}  // namespace

TEST_CASE("UDP closed loop against a correct server: replies, no loss, no errors") {
  UdpServerThread server({});
  // A reply later than the timeout counts as lost: on a loaded machine a 20 ms one was (12 of them,
  // once). Nothing is dropped on loopback here, so the timeout only has to exceed any scheduling delay.
  auto options = udpOptions(server.port());
  options.udpTimeout = 5.0;
  auto r = bench::runLoad(options);
  CHECK(r.ok());
  CHECK(r.transport == bench::LoadTransport::Udp);
  CHECK(r.connected == 3);
  CHECK(r.requests > 100);
  CHECK(r.errors == 0);
  CHECK(r.udpLost == 0);
  CHECK(r.p99Us >= r.p50Us);
}

TEST_CASE("UDP: dropped requests are counted as lost and re-issued, the run goes on") {
  UdpServerThread server({10});
  auto r = bench::runLoad(udpOptions(server.port()));
  CHECK(r.ok());
  CHECK(r.errors == 0);
  CHECK(r.udpLost > 0);
  CHECK(r.requests > 20);  // without re-issue every slot would be stuck after ~10 requests
}

TEST_CASE("UDP: a duplicated reply is an unknown transaction, a wrong byte count an error") {
  {
    UdpServerThread server({0, true});
    auto r = bench::runLoad(udpOptions(server.port()));
    CHECK_FALSE(r.ok());
    CHECK(r.errorsByKind[static_cast<std::size_t>(bench::ReplyError::UnknownTransaction)] > 0);
  }
  {
    UdpServerThread server({0, false, true});
    auto r = bench::runLoad(udpOptions(server.port()));
    CHECK_FALSE(r.ok());
    CHECK(r.errorsByKind[static_cast<std::size_t>(bench::ReplyError::BadByteCount)] > 0);
  }
}

TEST_CASE("UDP refuses the modes it has no meaning for") {
  auto o = udpOptions(5020);
  o.mode = bench::LoadMode::Idle;
  CHECK_THROWS_AS(bench::runLoad(o), std::invalid_argument);
  o = udpOptions(5020);
  o.slowClients = 1;
  CHECK_THROWS_AS(bench::runLoad(o), std::invalid_argument);
}
