// ModbusStreamProtocol's response hook (ServerOptions::responseHook), driven through StringTransport
// and a ManualClock: each plan (send, rewrite, silence, junk, split, delay) as the client sees the
// bytes, and the answers' order kept behind a delayed one.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/serving/modbus_stream_protocol.h"
#include "protocols/serving/response_hook.h"
#include "reactor/delayed_call.h"
#include "tests/support/reactor_harness.h"

namespace {

using namespace modbus;
using Bytes = std::vector<std::uint8_t>;

/// Plans every answer as `next` says, after rewriting it into exception `rewriteTo` when set.
class ScriptedHook final : public ResponseHook {
 public:
  ResponsePlan onResponse(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                          std::size_t& length) override {
    seen.push_back({unitId, Bytes(request.begin(), request.end()), Bytes(response.begin(), response.begin() + length)});
    if (rewriteTo != 0) {
      response[0] = static_cast<std::uint8_t>(request[0] | 0x80);
      response[1] = rewriteTo;
      length = 2;
    }
    ResponsePlan p = next;
    if (onlyFirst) next = ResponsePlan{};
    return p;
  }
  void fillJunk(std::span<std::uint8_t> bytes) override {
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(0xA0 + i);
  }
  struct Seen {
    std::uint8_t unit;
    Bytes request;
    Bytes response;
  };
  std::vector<Seen> seen;
  ResponsePlan next;
  std::uint8_t rewriteTo = 0;
  bool onlyFirst = false;
};

struct Connection {
  std::shared_ptr<ModbusServerFactory> factory;
  std::shared_ptr<ModbusTcpProtocol> protocol;
  std::shared_ptr<reactor::testing::StringTransport> transport;
};

Connection connect(std::shared_ptr<ResponseHook> hook, reactor::IReactorTime* clock) {
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 100, 0x0102);
  ServerOptions options;
  options.responseHook = std::move(hook);
  Connection c;
  c.factory = std::make_shared<ModbusServerFactory>(ServerContext::multiple({{1, std::make_shared<DeviceContext>(tables)}}),
                                                    options);
  c.factory->setClock(clock);
  c.protocol = std::static_pointer_cast<ModbusTcpProtocol>(c.factory->buildProtocol(reactor::Address{}));
  c.transport = std::make_shared<reactor::testing::StringTransport>();
  c.protocol->makeConnection(c.transport);
  return c;
}

Bytes read(std::uint16_t tid) { return {0, static_cast<std::uint8_t>(tid), 0, 0, 0, 6, 1, 3, 0, 0, 0, 1}; }

Bytes written(const reactor::testing::StringTransport& t) {
  const std::string s = t.value();
  return Bytes(s.begin(), s.end());
}

const Bytes kAnswer1 = {0, 1, 0, 0, 0, 5, 1, 3, 2, 1, 2};  // tid 1: one register 0x0102

}  // namespace

TEST_CASE("response hook: sees each request and answer, and Send leaves the answer as it was") {
  reactor::ManualClock clock;
  auto hook = std::make_shared<ScriptedHook>();
  auto c = connect(hook, &clock);
  c.protocol->dataReceived(read(1));
  CHECK(written(*c.transport) == kAnswer1);
  REQUIRE(hook->seen.size() == 1);
  CHECK(hook->seen[0].unit == 1);
  CHECK(hook->seen[0].request == Bytes{3, 0, 0, 0, 1});
  CHECK(hook->seen[0].response == Bytes{3, 2, 1, 2});
}

TEST_CASE("response hook: a rewritten answer is framed as rewritten (exception 08)") {
  reactor::ManualClock clock;
  auto hook = std::make_shared<ScriptedHook>();
  hook->rewriteTo = 8;
  auto c = connect(hook, &clock);
  c.protocol->dataReceived(read(1));
  CHECK(written(*c.transport) == Bytes{0, 1, 0, 0, 0, 3, 1, 0x83, 8});
}

TEST_CASE("response hook: Silence sends nothing and the next request is answered") {
  reactor::ManualClock clock;
  auto hook = std::make_shared<ScriptedHook>();
  hook->next.kind = ResponsePlan::Kind::Silence;
  hook->onlyFirst = true;
  auto c = connect(hook, &clock);
  c.protocol->dataReceived(read(7));
  CHECK(c.transport->value().empty());
  c.protocol->dataReceived(read(1));
  CHECK(written(*c.transport) == kAnswer1);
}

TEST_CASE("response hook: Junk sends the hook's bytes instead of the framed answer") {
  reactor::ManualClock clock;
  auto hook = std::make_shared<ScriptedHook>();
  hook->next.kind = ResponsePlan::Kind::Junk;
  hook->next.junkBytes = 5;
  auto c = connect(hook, &clock);
  c.protocol->dataReceived(read(1));
  CHECK(written(*c.transport) == Bytes{0xA0, 0xA1, 0xA2, 0xA3, 0xA4});
}

TEST_CASE("response hook: Split writes half the frame now and the rest after the delay") {
  reactor::ManualClock clock;
  auto hook = std::make_shared<ScriptedHook>();
  hook->next.kind = ResponsePlan::Kind::Split;
  hook->next.delay = 0.5;
  auto c = connect(hook, &clock);
  c.protocol->dataReceived(read(1));
  CHECK(written(*c.transport) == Bytes(kAnswer1.begin(), kAnswer1.begin() + 5));
  clock.advance(0.4);
  CHECK(written(*c.transport).size() == 5);
  clock.advance(0.1);
  CHECK(written(*c.transport) == kAnswer1);
}

TEST_CASE("response hook: a delayed answer goes after the delay, and answers behind it wait in order") {
  reactor::ManualClock clock;
  auto hook = std::make_shared<ScriptedHook>();
  hook->next.kind = ResponsePlan::Kind::Delay;
  hook->next.delay = 2;
  hook->onlyFirst = true;
  auto c = connect(hook, &clock);
  Bytes both = read(1);
  const Bytes second = read(2);
  both.insert(both.end(), second.begin(), second.end());
  c.protocol->dataReceived(both);
  CHECK(c.transport->value().empty());
  clock.advance(1.9);
  CHECK(c.transport->value().empty());
  clock.advance(0.1);
  const Bytes out = written(*c.transport);
  REQUIRE(out.size() == 22);
  CHECK(out[1] == 1);   // the delayed answer first...
  CHECK(out[12] == 2);  // ...then the one behind it
}

TEST_CASE("response hook: a delayed answer's timer is cancelled when the connection goes first") {
  reactor::ManualClock clock;
  auto hook = std::make_shared<ScriptedHook>();
  hook->next.kind = ResponsePlan::Kind::Delay;
  hook->next.delay = 1;
  auto c = connect(hook, &clock);
  c.protocol->dataReceived(read(1));
  auto pendingDelay = [&] {
    for (const auto& call : clock.getDelayedCalls()) {
      if (call.active() && call.getTime() == 1.0) return true;
    }
    return false;
  };
  CHECK(pendingDelay());
  c.transport->reportConnectionLost(*c.protocol);
  CHECK_FALSE(pendingDelay());
  clock.advance(2);
  CHECK(c.transport->value().empty());
}

TEST_CASE("response hook: without one the plain path answers and no hook is asked") {
  reactor::ManualClock clock;
  auto c = connect(nullptr, &clock);
  c.protocol->dataReceived(read(1));
  CHECK(written(*c.transport) == kAnswer1);
}
