// ModbusStreamProtocol's extension points (pymodbus name: ModbusTcpProtocol), driven through
// StringTransport: asynchronous units answered in request order with their own transaction ids,
// and the trace hooks (packet, PDU, connect).
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/devices/async_device.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/serving/modbus_stream_protocol.h"
#include "tests/support/reactor_harness.h"

namespace {

using namespace modbus;
using Bytes = std::vector<std::uint8_t>;

/// An asynchronous unit whose answers the test releases by hand.
class ManualDevice final : public AsyncDevice {
 public:
  void submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) override {
    if (throwNext) {
      throwNext = false;
      throw std::runtime_error("device on fire");
    }
    requests.push_back({unitId, Bytes(request.begin(), request.end())});
    completions.push_back(std::move(done));
  }
  /// Answers request `i` with FC3, one register `value`.
  void answer(std::size_t i, std::uint16_t value) {
    Bytes pdu{3, 2, static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
    completions.at(i)(pdu);
  }
  struct Seen {
    std::uint8_t unit;
    Bytes pdu;
  };
  std::vector<Seen> requests;
  std::vector<Completion> completions;
  bool throwNext = false;
};

struct Connection {
  std::shared_ptr<ModbusServerFactory> factory;
  std::shared_ptr<ModbusTcpProtocol> protocol;
  std::shared_ptr<reactor::testing::StringTransport> transport;
};

/// Unit 1: holding registers 0..99 = 0x0102 (synchronous).
Connection connect(ServerOptions options = {}, std::shared_ptr<AsyncDevice> unit2 = nullptr,
                   reactor::IReactorTime* clock = nullptr) {
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 100, 0x0102);
  Connection c;
  c.factory = std::make_shared<ModbusServerFactory>(
      ServerContext::multiple({{1, std::make_shared<DeviceContext>(tables)}}), std::move(options));
  if (unit2) c.factory->setAsyncDevice(2, unit2);
  c.factory->setClock(clock);
  c.protocol = std::static_pointer_cast<ModbusTcpProtocol>(c.factory->buildProtocol(reactor::Address{}));
  c.transport = std::make_shared<reactor::testing::StringTransport>();
  c.protocol->makeConnection(c.transport);
  return c;
}

/// MBAP FC3 request: read one register at `address` of `unit`.
Bytes read(std::uint16_t tid, std::uint8_t unit, std::uint8_t address = 0) {
  return {static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), 0, 0, 0, 6, unit, 3, 0, address, 0, 1};
}

Bytes join(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// The (transaction id, register value) of each 11-byte FC3 answer in `out`.
std::vector<std::pair<int, int>> answers(const Bytes& out) {
  std::vector<std::pair<int, int>> result;
  for (std::size_t at = 0; at + 11 <= out.size(); at += 11) {
    result.emplace_back(out[at] << 8 | out[at + 1], out[at + 9] << 8 | out[at + 10]);
  }
  return result;
}

}  // namespace

TEST_CASE("answers leave in request order, each with its own transaction id, whatever order async units answer in") {
  auto unit2 = std::make_shared<ManualDevice>();
  auto c = connect({}, unit2);
  c.protocol->dataReceived(join({read(10, 2), read(11, 1), read(12, 2), read(13, 1)}));
  CHECK(c.transport->bytes().empty());  // the first answer is not there yet: nothing may overtake it
  CHECK(c.protocol->pendingCount() == 4);
  REQUIRE(unit2->requests.size() == 2);
  CHECK(unit2->requests[0].unit == 2);

  unit2->answer(1, 0xBBBB);  // the second async request answers first
  CHECK(c.transport->bytes().empty());
  unit2->answer(0, 0xAAAA);
  CHECK(answers(c.transport->bytes()) ==
        std::vector<std::pair<int, int>>{{10, 0xAAAA}, {11, 0x0102}, {12, 0xBBBB}, {13, 0x0102}});
  CHECK(c.transport->writeCalls() == 1);  // released together, in one write
  CHECK(c.protocol->pendingCount() == 0);
}

TEST_CASE("with no asynchronous answer pending, synchronous answers go out at once in one write per batch") {
  auto unit2 = std::make_shared<ManualDevice>();
  auto c = connect({}, unit2);
  c.protocol->dataReceived(join({read(1, 1), read(2, 1)}));
  CHECK(answers(c.transport->bytes()) == std::vector<std::pair<int, int>>{{1, 0x0102}, {2, 0x0102}});
  CHECK(c.transport->writeCalls() == 1);
}

TEST_CASE("an asynchronous answer given twice is sent once, and one given after the client left is dropped") {
  auto unit2 = std::make_shared<ManualDevice>();
  auto c = connect({}, unit2);
  c.protocol->dataReceived(join({read(1, 2), read(2, 2)}));
  unit2->answer(0, 7);
  unit2->answer(0, 8);
  CHECK(answers(c.transport->bytes()) == std::vector<std::pair<int, int>>{{1, 7}});
  c.transport->reportConnectionLost(*c.protocol);
  unit2->answer(1, 9);  // no crash, nothing written
  CHECK(answers(c.transport->bytes()).size() == 1);
}

TEST_CASE("an asynchronous unit that throws is answered exception 04 in its place in the line") {
  auto unit2 = std::make_shared<ManualDevice>();
  unit2->throwNext = true;
  auto c = connect({}, unit2);
  c.protocol->dataReceived(join({read(5, 2), read(6, 1)}));
  const Bytes& out = c.transport->bytes();
  REQUIRE(out.size() == 9 + 11);
  CHECK(out[1] == 5);
  CHECK(out[7] == 0x83);
  CHECK(out[8] == 0x04);
  CHECK(out[9 + 1] == 6);
}

TEST_CASE("a connection stops reading past maxPendingRequests and reads again once answers go out") {
  auto unit2 = std::make_shared<ManualDevice>();
  ServerOptions options;
  options.maxPendingRequests = 2;
  auto c = connect(options, unit2);
  using State = reactor::testing::StringTransport::ProducerState;
  c.protocol->dataReceived(read(1, 2));
  CHECK(c.transport->producerState() == State::Producing);
  c.protocol->dataReceived(read(2, 2));
  CHECK(c.transport->producerState() == State::Paused);
  unit2->answer(0, 1);
  CHECK(c.transport->producerState() == State::Producing);
}

TEST_CASE("trace_pdu may replace a request, and its answer, before they are used") {
  ServerOptions options;
  std::vector<std::string> seen;
  options.tracePdu = [&seen](bool sending, std::uint8_t unit, std::vector<std::uint8_t>& pdu) {
    seen.push_back(std::string(sending ? "send " : "recv ") + std::to_string(unit) + " fc " + std::to_string(pdu[0]));
    if (!sending) pdu[2] = 5;  // read address 5 instead
    if (sending) pdu.back() = 0x42;
    return true;
  };
  auto c = connect(options);
  // Address 5 holds 0x0102, like the rest; the answer's last byte is rewritten to 0x42.
  c.protocol->dataReceived(read(3, 1, 0));
  CHECK(answers(c.transport->bytes()) == std::vector<std::pair<int, int>>{{3, 0x0142}});
  CHECK(seen == std::vector<std::string>{"recv 1 fc 3", "send 1 fc 3"});
}

TEST_CASE("trace_pdu returning false drops the request: not executed, not answered, and the next one is") {
  ServerOptions options;
  options.tracePdu = [](bool sending, std::uint8_t, std::vector<std::uint8_t>& pdu) {
    return sending || pdu[0] != 6;  // drop every write
  };
  auto c = connect(options);
  Bytes write{0, 1, 0, 0, 0, 6, 1, 6, 0, 0, 0x12, 0x34};
  c.protocol->dataReceived(join({write, read(2, 1)}));
  CHECK(answers(c.transport->bytes()) == std::vector<std::pair<int, int>>{{2, 0x0102}});
}

TEST_CASE("trace_packet sees and may rewrite the raw bytes received and the frames sent") {
  ServerOptions options;
  std::vector<std::pair<bool, std::size_t>> seen;
  options.tracePacket = [&seen](bool sending, std::vector<std::uint8_t>& bytes) {
    seen.emplace_back(sending, bytes.size());
    if (!sending && bytes.size() >= 12) bytes[11] = 1;  // quantity 2 → 1 (a fix-up proxy)
    if (sending) bytes[0] = 0x99;                        // stamp the transaction id's high byte
  };
  auto c = connect(options);
  Bytes twoRegisters = read(4, 1);
  twoRegisters[11] = 2;
  c.protocol->dataReceived(twoRegisters);
  const Bytes& out = c.transport->bytes();
  REQUIRE(out.size() == 11);
  CHECK(out[0] == 0x99);
  CHECK(out[1] == 4);
  CHECK(out[8] == 2);  // one register: the rewritten request was executed
  CHECK(seen == std::vector<std::pair<bool, std::size_t>>{{false, 12}, {true, 11}});
}

TEST_CASE("trace_connect is told of the connection and of its end, with the peer") {
  ServerOptions options;
  std::vector<std::string> seen;
  options.traceConnect = [&seen](bool connected, const reactor::Address& peer) {
    seen.push_back((connected ? "up " : "down ") + peer.host);
  };
  auto c = connect(options);
  c.transport->reportConnectionLost(*c.protocol);
  CHECK(seen == std::vector<std::string>{"up 192.168.1.1", "down 192.168.1.1"});
}

TEST_CASE("FC 8/03 over ASCII framing changes the input delimiter the connection expects") {
  ServerOptions options;
  options.framer = FramerType::Ascii;
  auto c = connect(options);
  // 01 08 0003 2100: the delimiter becomes '!' (LRC D3); the answer echoes and ends with CR LF.
  c.protocol->dataReceived(reactor::asBytes(std::string_view(":010800032100D3\r\n")));
  CHECK(c.transport->value() == ":010800032100D3\r\n");
  c.transport->clear();
  // CR LF no longer ends a frame; CR '!' does, in the same batch too.
  c.protocol->dataReceived(reactor::asBytes(std::string_view(":010300000001FB\r\n:010300000001FB\r!")));
  CHECK(c.transport->value() == ":0103020102F7\r\n");
  c.transport->clear();
  // Back to LF (01 08 0003 0A00, LRC EA), sent with '!' as the delimiter still in force.
  c.protocol->dataReceived(reactor::asBytes(std::string_view(":010800030A00EA\r!:010300000001FB\r\n")));
  CHECK(c.transport->value() == ":010800030A00EA\r\n:0103020102F7\r\n");
}

TEST_CASE("an asynchronous unit removed with a request waiting answers it 0x0A instead of wedging the connection") {
  reactor::ManualClock clock;
  auto unit2 = std::make_shared<DelayedDevice>(
      clock,
      std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 10)}),
      0.5);
  auto c = connect({}, unit2);
  c.protocol->dataReceived(join({read(1, 2), read(2, 1)}));
  CHECK(c.transport->bytes().empty());  // the unit 1 answer waits behind unit 2's
  c.factory->setAsyncDevice(2, nullptr);
  unit2.reset();  // the device is gone with a request of this connection still waiting
  clock.advance(0.5);
  CHECK(c.transport->bytes() == join({Bytes{0, 1, 0, 0, 0, 3, 2, 0x83, 0x0A}, Bytes{0, 2, 0, 0, 0, 5, 1, 3, 2, 1, 2}}));
  CHECK(c.protocol->pendingCount() == 0);
}

namespace {

/// A transport whose client never reads: every byte written stays buffered, and past the
/// high-water mark the registered producer is paused, as TcpTransport does. drain() is the client
/// reading it all (the producer is resumed, as after TcpTransport's write completion).
class NonReadingTransport final : public reactor::testing::StringTransport {
 public:
  void write(reactor::ByteView data) override {
    StringTransport::write(data);
    setBufferedAmount(bufferedAmount() + data.size());
    if (!paused_ && bufferedAmount() > writeHighWaterMark()) {
      paused_ = true;
      producer()->pauseProducing();
    }
  }
  void drain() {
    setBufferedAmount(0);
    paused_ = false;
    producer()->resumeProducing();
  }

 private:
  bool paused_ = false;
};

/// Unit 1 with 200 holding registers; maxBufferedOutput 4096.
std::shared_ptr<ModbusServerFactory> bigRegisterFactory() {
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 200, 7);
  ServerOptions options;
  options.maxBufferedOutput = 4096;
  return std::make_shared<ModbusServerFactory>(ServerContext::multiple({{1, std::make_shared<DeviceContext>(tables)}}),
                                               options);
}

/// MBAP FC3 request for 125 registers (the largest read): a 12-byte request, a 259-byte answer.
Bytes read125(std::uint16_t tid) {
  return {static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), 0, 0, 0, 6, 1, 3, 0, 0, 0, 125};
}

}  // namespace

TEST_CASE("a client pipelining FC3x125 without reading gets maxBufferedOutput worth of answers, then nothing is decoded or read") {
  auto factory = bigRegisterFactory();
  auto protocol = std::static_pointer_cast<ModbusTcpProtocol>(factory->buildProtocol(reactor::Address{}));
  auto transport = std::make_shared<NonReadingTransport>();
  protocol->makeConnection(transport);

  Bytes chunk;  // one 64 KiB read: 5461 requests
  for (std::uint16_t tid = 0; tid < 5461; ++tid) {
    Bytes r = read125(tid);
    chunk.insert(chunk.end(), r.begin(), r.end());
  }
  protocol->dataReceived(chunk);
  // 16 answers pass 4096 bytes (16 * 259 = 4144): decoding stops there, in one write.
  CHECK(transport->bytes().size() == 4144);
  CHECK(transport->writeCalls() == 1);
  CHECK(protocol->requestCount() == 16);
  CHECK(protocol->bufferedInput() == (5461 - 16) * 12);
  CHECK(transport->producerState() == reactor::testing::StringTransport::ProducerState::Paused);

  transport->drain();  // the client reads: the next 16 held requests are answered, still unread
  CHECK(transport->bytes().size() == 2 * 4144);
  CHECK(protocol->requestCount() == 32);
  CHECK(protocol->bufferedInput() == (5461 - 32) * 12);
  CHECK(transport->producerState() == reactor::testing::StringTransport::ProducerState::Paused);
  CHECK(transport->bytes()[4144 + 1] == 16);  // the 17th answer carries transaction id 16

  while (protocol->bufferedInput() > 0) transport->drain();
  CHECK(protocol->requestCount() == 5461);
  CHECK(transport->bytes().size() == 5461 * 259);
  transport->drain();  // all answered and read: the socket is read again
  CHECK(transport->producerState() == reactor::testing::StringTransport::ProducerState::Producing);
}

TEST_CASE("when the transport takes a full output at once, the rest of the batch is answered in further writes") {
  auto factory = bigRegisterFactory();
  auto protocol = std::static_pointer_cast<ModbusTcpProtocol>(factory->buildProtocol(reactor::Address{}));
  auto transport = std::make_shared<reactor::testing::StringTransport>();  // the kernel takes every write
  protocol->makeConnection(transport);
  Bytes chunk;
  for (std::uint16_t tid = 0; tid < 40; ++tid) {
    Bytes r = read125(tid);
    chunk.insert(chunk.end(), r.begin(), r.end());
  }
  protocol->dataReceived(chunk);
  CHECK(transport->bytes().size() == 40 * 259);
  CHECK(transport->writeCalls() == 3);  // 16 + 16 + 8 answers: the output never held more than 4144 bytes
  CHECK(protocol->bufferedInput() == 0);
}

TEST_CASE("by default a connection that sends nothing for 300 s is closed, and any byte restarts the count") {
  reactor::ManualClock clock;
  auto c = connect({}, nullptr, &clock);
  clock.advance(299);
  c.protocol->dataReceived(read(1, 1));
  clock.advance(299);
  CHECK_FALSE(c.transport->disconnecting());
  clock.advance(1);
  CHECK(c.transport->disconnecting());
  CHECK_FALSE(c.transport->aborted());  // a graceful close: the last answers still go out
  CHECK(c.factory->connectionLog().total(ConnectionEvent::IdleTimeout) == 1);
}

TEST_CASE("an idle client that does not read its answers is aborted, not closed gracefully") {
  reactor::ManualClock clock;
  ServerOptions o;
  o.idleTimeout = 5;
  auto c = connect(o, nullptr, &clock);
  c.protocol->pauseProducing();  // the transport's output passed the high-water mark
  clock.advance(5);
  CHECK(c.transport->aborted());
  CHECK(c.factory->connectionLog().total(ConnectionEvent::OutputPaused) == 1);
}

TEST_CASE("a frame trickled one byte every 4 s is closed 10 s after its first byte") {
  reactor::ManualClock clock;
  auto c = connect({}, nullptr, &clock);
  const Bytes request = read(1, 1);
  clock.advance(100);  // connected for a while: the frame deadline runs from the frame's first byte
  for (std::size_t i = 0; i < 3; ++i) {  // bytes at 100, 104, 108
    c.protocol->dataReceived(Bytes{request[i]});
    clock.advance(i < 2 ? 4 : 1.999);
  }
  CHECK_FALSE(c.transport->disconnecting());  // 109.999: 9.999 s into the frame
  clock.advance(0.001);
  CHECK(c.transport->aborted());
  CHECK(c.factory->connectionLog().total(ConnectionEvent::FrameDeadline) == 1);
  CHECK(c.factory->connectionLog().total(ConnectionEvent::IdleTimeout) == 0);
}

TEST_CASE("the frame deadline starts again with every frame that completes") {
  reactor::ManualClock clock;
  auto c = connect({}, nullptr, &clock);
  const Bytes request = read(1, 1);
  // Every read ends 6 bytes into the next frame, for 60 s: each frame completes within 8 s.
  c.protocol->dataReceived(Bytes(request.begin(), request.begin() + 6));
  for (int i = 0; i < 10; ++i) {
    clock.advance(6);
    c.protocol->dataReceived(join({Bytes(request.begin() + 6, request.end()), Bytes(request.begin(), request.begin() + 6)}));
  }
  CHECK_FALSE(c.transport->disconnecting());
  CHECK(c.protocol->requestCount() == 10);
  clock.advance(10);  // the last frame never completes
  CHECK(c.transport->aborted());
}

TEST_CASE("requests held back for a non-reading client do not count as an overdue frame") {
  reactor::ManualClock clock;
  auto factory = bigRegisterFactory();
  factory->setClock(&clock);
  auto protocol = std::static_pointer_cast<ModbusTcpProtocol>(factory->buildProtocol(reactor::Address{}));
  auto transport = std::make_shared<NonReadingTransport>();
  protocol->makeConnection(transport);
  Bytes chunk;
  for (std::uint16_t tid = 0; tid < 100; ++tid) chunk = join({chunk, read125(tid)});
  protocol->dataReceived(chunk);
  CHECK(protocol->bufferedInput() == (100 - 16) * 12);
  clock.advance(60);  // well past the 10 s frame deadline, before the idle timeout
  CHECK_FALSE(transport->disconnecting());
  CHECK(factory->connectionLog().total(ConnectionEvent::OutputPaused) == 1);
}

TEST_CASE("on a reactor, the rest of a batch past maxBufferedOutput is answered on the next turns, reading nothing meanwhile") {
  reactor::ManualClock clock;
  auto factory = bigRegisterFactory();
  factory->setClock(&clock);
  auto protocol = std::static_pointer_cast<ModbusTcpProtocol>(factory->buildProtocol(reactor::Address{}));
  auto transport = std::make_shared<reactor::testing::StringTransport>();  // the kernel takes every write
  protocol->makeConnection(transport);
  Bytes chunk;
  for (std::uint16_t tid = 0; tid < 40; ++tid) chunk = join({chunk, read125(tid)});
  protocol->dataReceived(chunk);
  // One turn answers 16 (4144 bytes, past 4096), then yields to the other connections.
  CHECK(transport->bytes().size() == 16 * 259);
  CHECK(transport->producerState() == reactor::testing::StringTransport::ProducerState::Paused);
  CHECK(transport->writeCalls() == 1);
  clock.advance(0);  // the next turns (ManualClock runs each zero-delay continuation in one advance)
  CHECK(transport->bytes().size() == 40 * 259);
  CHECK(transport->writeCalls() == 3);  // 16 + 16 + 8
  CHECK(protocol->bufferedInput() == 0);
  CHECK(transport->producerState() == reactor::testing::StringTransport::ProducerState::Producing);
}
