// ServingMetrics (protocols/serving/serving_metrics.h): the histogram's buckets, and what each
// transport's protocol counts for a known sequence of requests — the stream protocol on a
// StringTransport, the UDP protocol on a recording transport, the serial protocol on a
// StringTransport — with a ManualClock, so latencies are exact.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/devices/async_device.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/serving/modbus_serial_protocol.h"
#include "protocols/serving/modbus_stream_protocol.h"
#include "protocols/serving/modbus_udp_protocol.h"
#include "protocols/serving/serving_metrics.h"
#include "reactor/testing.h"
#include "tests/support/pty_pair.h"

namespace {

using namespace modbus;
using Bytes = std::vector<std::uint8_t>;

std::shared_ptr<ServerContext> unit1() {
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 100, 7);
  return ServerContext::multiple({{1, std::make_shared<DeviceContext>(tables)}});
}

/// MBAP request: `pdu` for unit 1 with transaction id `tid`.
Bytes mbap(std::uint16_t tid, Bytes pdu) {
  Bytes out{static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), 0, 0, 0,
            static_cast<std::uint8_t>(pdu.size() + 1), 1};
  for (std::uint8_t b : pdu) out.push_back(b);  // (not insert: g++ 12 warns wrongly on it, -Warray-bounds)
  return out;
}

const Bytes kRead2{3, 0, 0, 0, 2};         // FC3, 2 registers at 0: answered (4 data bytes)
const Bytes kReadBad{3, 0, 200, 0, 1};     // FC3 at 200: exception 02
const Bytes kUnknown{0x41, 0, 0};          // no such function: exception 01

/// An asynchronous unit whose answer the test releases.
class HeldDevice final : public AsyncDevice {
 public:
  void submit(std::uint8_t, std::span<const std::uint8_t>, Completion done) override { held.push_back(std::move(done)); }
  std::vector<Completion> held;
};

std::size_t bucketOf(double seconds) {
  LatencyHistogram h;
  h.observe(seconds);
  for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    if (h.bucket(i) == 1) return i;
  }
  return LatencyHistogram::kBuckets;
}

}  // namespace

TEST_CASE("serving metrics: a latency on a bucket's bound falls in that bucket, above every bound in the last") {
  CHECK(bucketOf(0) == 0);
  CHECK(bucketOf(-1) == 0);  // a clock set back (in a test) counts as 0
  CHECK(bucketOf(0.00005) == 0);
  CHECK(bucketOf(0.0000501) == 1);
  CHECK(bucketOf(0.003) == 6);  // (0.0025, 0.005]
  CHECK(bucketOf(1.0) == 13);
  CHECK(bucketOf(2.0) == LatencyHistogram::kBuckets - 1);
  LatencyHistogram h;
  h.observe(0.001, 3);
  h.observe(0.5);
  CHECK(h.count() == 4);
  CHECK(h.sumNanoseconds() == 3'000'000 + 500'000'000);
  CHECK(h.bucket(4) == 3);
  CHECK(h.bucket(12) == 1);
}

TEST_CASE("serving metrics: exception codes above 15 share the 'other' slot") {
  ServingMetrics m;
  const Bytes e2{0x83, 0x02}, e8{0x83, 0x08}, e40{0x90, 0x28}, ok{0x03, 0x02, 0, 1};
  m.countAnswer(e2);
  m.countAnswer(e8);
  m.countAnswer(e40);
  m.countAnswer(ok);
  CHECK(m.exceptions[3][2] == 1);
  CHECK(m.exceptions[3][8] == 1);
  CHECK(m.exceptions[0x10][0] == 1);
  std::uint64_t total = 0;
  for (const auto& row : m.exceptions)
    for (auto n : row) total += n;
  CHECK(total == 3);
}

TEST_CASE("serving metrics: a stream connection counts requests, exceptions, bytes, connections and batch latency") {
  reactor::ManualClock clock;
  auto factory = std::make_shared<ModbusServerFactory>(unit1());
  factory->setClock(&clock);
  auto protocol = std::static_pointer_cast<ModbusTcpProtocol>(factory->buildProtocol(reactor::Address{}));
  auto transport = std::make_shared<reactor::testing::StringTransport>();
  protocol->makeConnection(transport);
  const ServingMetrics& m = factory->metrics();
  CHECK(m.connectionsMade == 1);

  Bytes batch = mbap(1, kRead2);
  for (const Bytes& more : {mbap(2, kReadBad), mbap(3, kUnknown)}) batch.insert(batch.end(), more.begin(), more.end());
  protocol->dataReceived(batch);
  CHECK(m.requests[3] == 2);
  CHECK(m.requests[0x41] == 1);
  CHECK(m.exceptions[3][2] == 1);
  CHECK(m.exceptions[0x41][1] == 1);
  CHECK(m.bytesReceived == batch.size());
  CHECK(m.bytesSent == transport->bytes().size());
  CHECK(m.bytesSent == (7 + 6) + (7 + 2) + (7 + 2));
  CHECK(m.latency.count() == 3);  // one batch, one write: the three share its time (0 on a still clock)
  CHECK(m.latency.bucket(0) == 3);

  transport->reportConnectionLost(*protocol);
  CHECK(m.connectionsLost == 1);
}

TEST_CASE("serving metrics: an asynchronous answer is timed from its request's read to its write") {
  reactor::ManualClock clock;
  auto factory = std::make_shared<ModbusServerFactory>(unit1());
  factory->setClock(&clock);
  auto device = std::make_shared<HeldDevice>();
  factory->setAsyncDevice(2, device);
  auto protocol = std::static_pointer_cast<ModbusTcpProtocol>(factory->buildProtocol(reactor::Address{}));
  auto transport = std::make_shared<reactor::testing::StringTransport>();
  protocol->makeConnection(transport);
  Bytes request = mbap(9, kRead2);
  request[6] = 2;  // unit 2: the asynchronous one
  protocol->dataReceived(request);
  REQUIRE(device->held.size() == 1);
  CHECK(factory->metrics().latency.count() == 0);
  clock.advance(0.003);
  const Bytes answer{0x83, 0x04};  // the device failed: exception 04
  device->held[0](answer);
  const ServingMetrics& m = factory->metrics();
  CHECK(m.requests[3] == 1);
  CHECK(m.exceptions[3][4] == 1);
  CHECK(m.latency.count() == 1);
  CHECK(m.latency.bucket(6) == 1);  // 3 ms: (2.5 ms, 5 ms]
  CHECK(m.latency.sumNanoseconds() == 3'000'000);
  CHECK(m.bytesSent == 9);
}

namespace {

class RecordingUdp : public reactor::IUDPTransport {
 public:
  void write(reactor::ByteView datagram, const reactor::Address&) override { sent.emplace_back(datagram.begin(), datagram.end()); }
  void writeSequence(std::span<const reactor::ByteView> pieces, const reactor::Address&) override {
    Bytes all;
    for (const auto& p : pieces) all.insert(all.end(), p.begin(), p.end());
    sent.push_back(std::move(all));
  }
  reactor::Address getHost() const override { return {reactor::Address::Type::UDP, "127.0.0.1", 502, false}; }
  void stopListening() override {}
  void setBroadcastAllowed(bool) override {}
  bool getBroadcastAllowed() const override { return false; }
  std::size_t maxPacketSize() const override { return 8192; }
  std::size_t queuedDatagrams() const override { return 0; }
  std::vector<Bytes> sent;
};

}  // namespace

TEST_CASE("serving metrics: a UDP port counts each datagram's requests, answers and bytes") {
  reactor::ManualClock clock;
  auto processor = std::make_shared<RequestProcessor>(unit1());
  auto metrics = std::make_shared<ServingMetrics>();
  RecordingUdp transport;
  auto protocol = std::make_shared<ModbusUdpProtocol>(processor);
  protocol->setMetrics(metrics, &clock);
  protocol->makeConnection(&transport);
  const reactor::Address from{reactor::Address::Type::UDP, "127.0.0.1", 40000, false};
  const Bytes good = mbap(1, kRead2), bad = mbap(2, kReadBad);
  protocol->datagramReceived(good, from);
  protocol->datagramReceived(bad, from);
  CHECK(metrics->requests[3] == 2);
  CHECK(metrics->exceptions[3][2] == 1);
  CHECK(metrics->bytesReceived == good.size() + bad.size());
  REQUIRE(transport.sent.size() == 2);
  CHECK(metrics->bytesSent == transport.sent[0].size() + transport.sent[1].size());
  CHECK(metrics->latency.count() == 2);
  CHECK(metrics->connectionsMade == 0);  // datagrams have no connections
  protocol->doStop();
}

TEST_CASE("serving metrics: a serial line counts requests, exceptions, bytes, its opening and the reply's latency") {
  reactor::ManualClock clock;
  auto processor = std::make_shared<RequestProcessor>(unit1());
  auto metrics = std::make_shared<ServingMetrics>();
  SerialLineOptions options;
  options.baudrate = 19200;
  options.waitT35BeforeReply = true;  // the reply waits t3.5 (2 ms at 19200): that is its latency
  auto protocol = std::make_shared<ModbusSerialProtocol>(clock, processor, options);
  protocol->setMetrics(metrics);
  auto transport = std::make_shared<reactor::testing::StringTransport>();
  protocol->makeConnection(transport);
  CHECK(metrics->connectionsMade == 1);
  const Bytes read = testsupport::withCrc(testsupport::hexBytes("01 03 00 00 00 02"));
  const Bytes bad = testsupport::withCrc(testsupport::hexBytes("01 03 00 C8 00 01"));
  const Bytes other = testsupport::withCrc(testsupport::hexBytes("05 03 00 00 00 01"));  // not our unit
  protocol->dataReceived(read);
  CHECK(transport->bytes().empty());  // waiting t3.5
  clock.advance(0.01);
  REQUIRE(transport->bytes().size() == 9);
  protocol->dataReceived(bad);
  clock.advance(0.01);
  protocol->dataReceived(other);
  clock.advance(0.01);
  CHECK(metrics->requests[3] == 2);  // the other unit's request is not ours to run
  CHECK(metrics->exceptions[3][2] == 1);
  CHECK(metrics->bytesReceived == read.size() + bad.size() + other.size());
  CHECK(metrics->bytesSent == 9 + 5);
  CHECK(metrics->latency.count() == 2);
  CHECK(metrics->latency.sumNanoseconds() >= 2 * 1'800'000);  // at least t3.5 (1.82 ms) each
  transport->reportConnectionLost(*protocol);
  CHECK(metrics->connectionsLost == 1);
}
