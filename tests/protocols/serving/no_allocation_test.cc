// "Nothing on this path allocates in steady state" (DESIGN.md, the path of one request), shown with a
// counting allocator: a real TCP connection on loopback, client and server on one reactor, and not
// one heap allocation in 2000 requests once the connection is warm.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/simulator/simulator_call_stream.h"
#include "protocols/simulator/simulator_calls.h"
#include "reactor/reactor.h"

namespace {
std::atomic<std::size_t> gAllocations{0};
}

// Counts every allocation in this test program (the other tests in it are unaffected).
void* operator new(std::size_t size) {
  ++gAllocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace modbus;

// Sends FC3 "read 10 holding registers" requests, `depth` in flight, and checks each reply's
// transaction id. Measures allocations between request `warmup` and request `warmup + measured`.
class LoadClient final : public reactor::Protocol {
 public:
  LoadClient(reactor::Reactor& r, int depth, int warmup, int measured)
      : reactor_(r), depth_(depth), warmup_(warmup), measured_(measured) {}

  void connectionMade() override {
    for (int i = 0; i < depth_; ++i) sendNext();
  }

  void dataReceived(reactor::ByteView data) override {
    for (std::uint8_t b : data) {
      if (have_ < sizeof reply_) reply_[have_++] = b;
      if (have_ == sizeof reply_) {
        onReply();
        have_ = 0;
      }
    }
  }

  std::size_t measuredAllocations() const { return allocationsAfter_ - allocationsBefore_; }
  int replies() const { return replies_; }
  int badReplies() const { return bad_; }

 private:
  // MBAP reply to FC3 x10: 7 header + fc + byte count + 20 data bytes.
  void onReply() {
    std::uint16_t tid = static_cast<std::uint16_t>(reply_[0] << 8 | reply_[1]);
    if (tid != static_cast<std::uint16_t>(replies_) || reply_[7] != 3 || reply_[8] != 20) ++bad_;
    ++replies_;
    if (replies_ == warmup_) allocationsBefore_ = gAllocations.load();
    if (replies_ == warmup_ + measured_) {
      allocationsAfter_ = gAllocations.load();
      transport().loseConnection();
      reactor_.stop();
      return;
    }
    if (sent_ < warmup_ + measured_) sendNext();
  }

  void sendNext() {
    std::uint8_t request[12] = {static_cast<std::uint8_t>(sent_ >> 8), static_cast<std::uint8_t>(sent_), 0, 0, 0, 6, 1,
                                3, 0, 0, 0, 10};
    ++sent_;
    transport().write(request);
  }

  reactor::Reactor& reactor_;
  int depth_, warmup_, measured_;
  int sent_ = 0;
  int replies_ = 0;
  int bad_ = 0;
  std::uint8_t reply_[29] = {};
  std::size_t have_ = 0;
  std::size_t allocationsBefore_ = 0;
  std::size_t allocationsAfter_ = 0;
};

class LoadClientFactory final : public reactor::ClientFactory {
 public:
  explicit LoadClientFactory(std::shared_ptr<LoadClient> client) : client_(std::move(client)) {}
  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address&) override { return client_; }

 private:
  std::shared_ptr<LoadClient> client_;
};

std::size_t allocationsFor(int depth) {
  reactor::Reactor r;
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 1000);
  auto context = ServerContext::single(std::make_shared<DeviceContext>(tables));
  ModbusTcpServer server(r, context);
  auto addr = server.listen("tcp:0:interface=127.0.0.1");
  auto client = std::make_shared<LoadClient>(r, depth, 500, 2000);
  auto connector = r.connectTCP("127.0.0.1", addr.port, std::make_shared<LoadClientFactory>(client));
  auto guard = r.callLater(30.0, [&r] { r.stop(); });
  r.run(false);
  REQUIRE(client->replies() == 2500);
  CHECK(client->badReplies() == 0);
  // The counters and the latency clock (serving_metrics.h) ran on every one of those requests.
  CHECK(server.metrics().requests[3] == 2500);
  CHECK(server.metrics().latency.count() == 2500);
  return client->measuredAllocations();
}

}  // namespace

TEST_CASE("a warm TCP connection answers 2000 requests without one heap allocation") {
  CHECK(allocationsFor(1) == 0);
}

TEST_CASE("a warm TCP connection with 16 requests in flight allocates nothing per request") {
  CHECK(allocationsFor(16) == 0);
}

TEST_CASE("with the simulator's response hook set and its monitor off, requests allocate nothing") {
  reactor::Reactor r;
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 1000);
  auto context = ServerContext::single(std::make_shared<DeviceContext>(tables));
  ServerOptions options;
  auto store = std::make_shared<simulator::SimulatorStore>(1000);
  simulator::SimulatorLayout layout;
  layout.holdingRegisters = 1000;
  auto calls = std::make_shared<SimulatorCalls>(store, layout, std::nullopt, nullptr);
  options.responseHook = calls;
  ModbusTcpServer server(r, context, options);
  auto addr = server.listen("tcp:0:interface=127.0.0.1");
  auto client = std::make_shared<LoadClient>(r, 16, 500, 2000);
  auto connector = r.connectTCP("127.0.0.1", addr.port, std::make_shared<LoadClientFactory>(client));
  auto guard = r.callLater(30.0, [&r] { r.stop(); });
  r.run(false);
  REQUIRE(client->replies() == 2500);
  CHECK(client->badReplies() == 0);
  CHECK(client->measuredAllocations() == 0);
  CHECK(calls->requestCount(3) == 2500);  // the hook did run: it counted every request
}

TEST_CASE("with the /api/v1 call stream present but nobody listening, and another unit's device fault, requests allocate nothing") {
  reactor::Reactor r;
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 1000);
  auto context = ServerContext::single(std::make_shared<DeviceContext>(tables));
  ServerOptions options;
  auto store = std::make_shared<simulator::SimulatorStore>(1000);
  simulator::SimulatorLayout layout;
  layout.holdingRegisters = 1000;
  auto calls = std::make_shared<SimulatorCalls>(store, layout, std::nullopt, nullptr);
  CallStream stream(*calls);  // what SimulatorApiV1 holds: no client, so no tap
  calls->setDeviceFault(7, CallSimulation{});  // the client's unit is 1: the lookup misses
  options.responseHook = calls;
  ModbusTcpServer server(r, context, options);
  auto addr = server.listen("tcp:0:interface=127.0.0.1");
  auto client = std::make_shared<LoadClient>(r, 16, 500, 2000);
  auto connector = r.connectTCP("127.0.0.1", addr.port, std::make_shared<LoadClientFactory>(client));
  auto guard = r.callLater(30.0, [&r] { r.stop(); });
  r.run(false);
  REQUIRE(client->replies() == 2500);
  CHECK(client->badReplies() == 0);
  CHECK(client->measuredAllocations() == 0);
  CHECK(calls->tap() == nullptr);
  CHECK(calls->requestCount(3) == 2500);
}
