// Tests for ModbusUdpProtocol (protocols/serving/modbus_udp_protocol.cc) on a recording IUDPTransport:
// every datagram framed on its own, each reply to its own sender. Real sockets:
// tests/integration/udp_test.cc.
#include "protocols/serving/modbus_udp_protocol.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/serving/response_hook.h"
#include "reactor/delayed_call.h"
#include "tests/support/pty_pair.h"

namespace {

using testsupport::Bytes;
using testsupport::hexBytes;
using testsupport::withCrc;

/// Records every datagram written, with its destination.
class RecordingUdpTransport : public reactor::IUDPTransport {
 public:
  void write(reactor::ByteView datagram, const reactor::Address& addr) override {
    sent.emplace_back(Bytes(datagram.begin(), datagram.end()), addr);
  }
  void writeSequence(std::span<const reactor::ByteView> pieces, const reactor::Address& addr) override {
    Bytes all;
    for (const auto& p : pieces) all.insert(all.end(), p.begin(), p.end());
    sent.emplace_back(std::move(all), addr);
  }
  reactor::Address getHost() const override { return {reactor::Address::Type::UDP, "127.0.0.1", 502, false}; }
  void stopListening() override {}
  void setBroadcastAllowed(bool) override {}
  bool getBroadcastAllowed() const override { return false; }
  std::size_t maxPacketSize() const override { return 8192; }
  std::size_t queuedDatagrams() const override { return 0; }

  std::vector<std::pair<Bytes, reactor::Address>> sent;
};

struct Udp {
  std::shared_ptr<modbus::DeviceContext> device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 100),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 100),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100),
  });
  std::shared_ptr<modbus::RequestProcessor> processor =
      std::make_shared<modbus::RequestProcessor>(modbus::ServerContext::multiple({{1, device}}));
  RecordingUdpTransport transport;
  std::shared_ptr<modbus::ModbusUdpProtocol> protocol;

  explicit Udp(modbus::FramerType framer = modbus::FramerType::Socket) {
    device->holdingRegisters()->setValues(0, {0x0102, 0x0304});
    protocol = std::make_shared<modbus::ModbusUdpProtocol>(processor, framer);
    protocol->makeConnection(&transport);
  }
  ~Udp() { protocol->doStop(); }

  void receive(const Bytes& datagram, const reactor::Address& from) { protocol->datagramReceived(datagram, from); }
};

/// A response hook that records what it saw and answers with `plan` (rewriting the answer's first
/// byte when `rewrite` is set); junk is 0xEE bytes.
class ScriptedHook : public modbus::ResponseHook {
 public:
  modbus::ResponsePlan onResponse(std::uint8_t unitId, std::span<const std::uint8_t> request,
                                  std::span<std::uint8_t> response, std::size_t& length) override {
    const auto answer = response.first(length);
    seen.push_back({unitId, Bytes(request.begin(), request.end()), Bytes(answer.begin(), answer.end())});
    if (rewrite) {
      response[0] = 0x83;
      response[1] = 0x04;
      length = 2;
    }
    return plan;
  }
  void fillJunk(std::span<std::uint8_t> bytes) override {
    for (auto& b : bytes) b = 0xEE;
  }
  struct Seen {
    std::uint8_t unitId;
    Bytes request;
    Bytes response;
  };
  std::vector<Seen> seen;
  modbus::ResponsePlan plan;
  bool rewrite = false;
};

reactor::Address peer(std::uint16_t port) { return {reactor::Address::Type::UDP, "127.0.0.1", port, false}; }

}  // namespace

TEST_CASE("modbus udp answers each datagram's request to that datagram's sender") {
  Udp udp;
  udp.receive(hexBytes("00 01 00 00 00 06 01 03 00 00 00 01"), peer(1111));
  udp.receive(hexBytes("00 02 00 00 00 06 01 03 00 01 00 01"), peer(2222));
  REQUIRE(udp.transport.sent.size() == 2);
  CHECK(udp.transport.sent[0].first == hexBytes("00 01 00 00 00 05 01 03 02 01 02"));
  CHECK(udp.transport.sent[0].second == peer(1111));
  CHECK(udp.transport.sent[1].first == hexBytes("00 02 00 00 00 05 01 03 02 03 04"));
  CHECK(udp.transport.sent[1].second == peer(2222));
  CHECK(udp.protocol->requestCount() == 2);
  CHECK(udp.protocol->malformedCount() == 0);
}

TEST_CASE("modbus udp answers every frame of a datagram with a datagram of its own") {
  Udp udp;
  udp.receive(hexBytes("00 01 00 00 00 06 01 03 00 00 00 01 00 02 00 00 00 06 01 03 00 01 00 01"), peer(5));
  REQUIRE(udp.transport.sent.size() == 2);
  CHECK(udp.transport.sent[0].first[1] == 0x01);
  CHECK(udp.transport.sent[1].first[1] == 0x02);
}

TEST_CASE("modbus udp ignores and counts a malformed datagram, and nothing of it carries over") {
  Udp udp;
  // Half a frame: with a stream it would wait for the rest; a datagram is all there is.
  udp.receive(hexBytes("00 01 00 00 00 06 01 03"), peer(7));
  CHECK(udp.transport.sent.empty());
  CHECK(udp.protocol->malformedCount() == 1);
  // The next datagram is framed on its own: the earlier half does not prefix it.
  udp.receive(hexBytes("00 09 00 00 00 06 01 03 00 00 00 01"), peer(7));
  REQUIRE(udp.transport.sent.size() == 1);
  CHECK(udp.transport.sent[0].first == hexBytes("00 09 00 00 00 05 01 03 02 01 02"));
  // An impossible MBAP length, and an empty datagram.
  udp.receive(hexBytes("00 01 00 00 FF FF 01 03 00 00 00 01"), peer(7));
  udp.receive(Bytes{}, peer(7));
  CHECK(udp.protocol->malformedCount() == 2);
  CHECK(udp.transport.sent.size() == 1);
}

TEST_CASE("modbus udp carries RTU frames, including one of unknown length ended by the datagram") {
  Udp udp(modbus::FramerType::Rtu);
  udp.receive(withCrc(hexBytes("01 03 00 00 00 02")), peer(9));
  REQUIRE(udp.transport.sent.size() == 1);
  CHECK(udp.transport.sent[0].first == withCrc(hexBytes("01 03 04 01 02 03 04")));
  // Function code 0x41 has no length rule: the datagram's end is its end. Answer: IllegalFunction.
  udp.receive(withCrc(hexBytes("01 41 00")), peer(9));
  REQUIRE(udp.transport.sent.size() == 2);
  CHECK(udp.transport.sent[1].first == withCrc(hexBytes("01 C1 01")));
  // A bad CRC: ignored and counted.
  Bytes bad = withCrc(hexBytes("01 03 00 00 00 02"));
  bad[7] ^= 1;
  udp.receive(bad, peer(9));
  CHECK(udp.transport.sent.size() == 2);
  CHECK(udp.protocol->malformedCount() == 1);
}

TEST_CASE("modbus udp carries ASCII frames") {
  Udp udp(modbus::FramerType::Ascii);
  udp.receive(Bytes{':', '0', '1', '0', '3', '0', '0', '0', '0', '0', '0', '0', '1', 'F', 'B', '\r', '\n'}, peer(3));
  REQUIRE(udp.transport.sent.size() == 1);
  const Bytes& reply = udp.transport.sent[0].first;
  CHECK(std::string(reply.begin(), reply.end()) == ":0103020102F7\r\n");
  CHECK(udp.protocol->framerType() == modbus::FramerType::Ascii);
}

TEST_CASE("modbus udp ASCII follows FC 8/03: the next datagram's frame ends at CR and the new delimiter") {
  Udp udp(modbus::FramerType::Ascii);
  const std::string change = ":010800032100D3\r\n";
  udp.receive(Bytes(change.begin(), change.end()), peer(3));
  REQUIRE(udp.transport.sent.size() == 1);
  CHECK(std::string(udp.transport.sent[0].first.begin(), udp.transport.sent[0].first.end()) == change);
  const std::string read = ":010300000001FB\r!";
  udp.receive(Bytes(read.begin(), read.end()), peer(3));
  REQUIRE(udp.transport.sent.size() == 2);
  CHECK(std::string(udp.transport.sent[1].first.begin(), udp.transport.sent[1].first.end()) == ":0103020102F7\r\n");
}

TEST_CASE("modbus udp answers a missing unit with exception 0x0B, or silence when told to") {
  Udp udp;
  udp.receive(hexBytes("00 01 00 00 00 06 09 03 00 00 00 01"), peer(4));
  REQUIRE(udp.transport.sent.size() == 1);
  CHECK(udp.transport.sent[0].first == hexBytes("00 01 00 00 00 03 09 83 0B"));

  auto silent = std::make_shared<modbus::RequestProcessor>(modbus::ServerContext::multiple({{1, udp.device}}),
                                                           modbus::ProcessorOptions{true});
  auto protocol = std::make_shared<modbus::ModbusUdpProtocol>(silent);
  RecordingUdpTransport t;
  protocol->makeConnection(&t);
  protocol->datagramReceived(hexBytes("00 01 00 00 00 06 09 03 00 00 00 01"), peer(4));
  CHECK(t.sent.empty());
  CHECK(protocol->requestCount() == 1);
  protocol->doStop();
  CHECK_THROWS_AS(modbus::ModbusUdpProtocol(nullptr), std::invalid_argument);
}

TEST_CASE("modbus udp passes each answer through the response hook which may rewrite or silence it") {
  Udp udp;
  auto hook = std::make_shared<ScriptedHook>();
  reactor::ManualClock clock;
  udp.protocol->setResponseHook(hook, &clock);
  udp.receive(hexBytes("00 01 00 00 00 06 01 03 00 00 00 01"), peer(1111));
  REQUIRE(hook->seen.size() == 1);
  CHECK(hook->seen[0].unitId == 1);
  CHECK(hook->seen[0].request == hexBytes("03 00 00 00 01"));
  CHECK(hook->seen[0].response == hexBytes("03 02 01 02"));
  REQUIRE(udp.transport.sent.size() == 1);
  CHECK(udp.transport.sent[0].first == hexBytes("00 01 00 00 00 05 01 03 02 01 02"));

  hook->rewrite = true;  // an exception answer instead, framed as such
  udp.receive(hexBytes("00 02 00 00 00 06 01 03 00 00 00 01"), peer(1111));
  REQUIRE(udp.transport.sent.size() == 2);
  CHECK(udp.transport.sent[1].first == hexBytes("00 02 00 00 00 03 01 83 04"));

  hook->rewrite = false;
  hook->plan.kind = modbus::ResponsePlan::Kind::Silence;
  udp.receive(hexBytes("00 03 00 00 00 06 01 03 00 00 00 01"), peer(1111));
  CHECK(udp.transport.sent.size() == 2);
  CHECK(udp.protocol->requestCount() == 3);

  udp.protocol->setResponseHook(nullptr, nullptr);  // taken out: answers go straight out again
  udp.receive(hexBytes("00 04 00 00 00 06 01 03 00 00 00 01"), peer(1111));
  CHECK(hook->seen.size() == 3);
  REQUIRE(udp.transport.sent.size() == 3);
  CHECK(udp.transport.sent[2].first == hexBytes("00 04 00 00 00 05 01 03 02 01 02"));
}

TEST_CASE("modbus udp response hook plans: junk instead of the answer and delayed or split answers on the clock") {
  Udp udp;
  auto hook = std::make_shared<ScriptedHook>();
  reactor::ManualClock clock;
  udp.protocol->setResponseHook(hook, &clock);

  hook->plan = {modbus::ResponsePlan::Kind::Junk, 0, 3};
  udp.receive(hexBytes("00 01 00 00 00 06 01 03 00 00 00 01"), peer(1111));
  REQUIRE(udp.transport.sent.size() == 1);
  CHECK(udp.transport.sent[0].first == hexBytes("ee ee ee"));
  CHECK(udp.transport.sent[0].second == peer(1111));

  hook->plan = {modbus::ResponsePlan::Kind::Delay, 0.5, 0};
  udp.receive(hexBytes("00 02 00 00 00 06 01 03 00 00 00 01"), peer(2222));
  CHECK(udp.transport.sent.size() == 1);
  clock.advance(0.4);
  CHECK(udp.transport.sent.size() == 1);
  clock.advance(0.1);
  REQUIRE(udp.transport.sent.size() == 2);
  CHECK(udp.transport.sent[1].first == hexBytes("00 02 00 00 00 05 01 03 02 01 02"));
  CHECK(udp.transport.sent[1].second == peer(2222));

  hook->plan = {modbus::ResponsePlan::Kind::Split, 0.25, 0};
  udp.receive(hexBytes("00 03 00 00 00 06 01 03 00 00 00 01"), peer(3333));
  REQUIRE(udp.transport.sent.size() == 3);
  CHECK(udp.transport.sent[2].first == hexBytes("00 03 00 00 00"));
  clock.advance(0.25);
  REQUIRE(udp.transport.sent.size() == 4);
  CHECK(udp.transport.sent[3].first == hexBytes("05 01 03 02 01 02"));
  CHECK(udp.transport.sent[3].second == peer(3333));
}
