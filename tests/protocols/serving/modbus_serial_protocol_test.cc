// Tests for ModbusSerialProtocol (protocols/serving/modbus_serial_protocol.cc) with a ManualClock and a
// StringTransport: the serial line guide's timing, byte by byte and microsecond by microsecond,
// without a device. Real pseudo-terminals: tests/integration/serial_test.cc.
#include "protocols/serving/modbus_serial_protocol.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "framers/ascii_framer.h"
#include "protocols/serving/response_hook.h"
#include "reactor/delayed_call.h"
#include "tests/support/pty_pair.h"
#include "tests/support/reactor_harness.h"

namespace {

using modbus::ModbusSerialProtocol;
using modbus::SerialLineOptions;
using testsupport::Bytes;
using testsupport::hexBytes;
using testsupport::withCrc;

std::shared_ptr<modbus::DeviceContext> makeDevice(std::uint16_t base) {
  auto holding = modbus::SequentialRegisterBlock::create(0, 100);
  for (std::uint16_t i = 0; i < 10; ++i) holding->setValues(i, {static_cast<std::uint16_t>(base + i)});
  return std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 100),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 100),
      .holdingRegisters = holding,
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100),
  });
}

/// A serial line at 9600 baud (t1.5 = 1.72 ms, t3.5 = 4.01 ms) with units 1 (holding 100..109) and
/// 2 (holding 200..209) behind a protocol, a ManualClock and a StringTransport.
struct Line {
  reactor::ManualClock clock;
  std::shared_ptr<modbus::ServerContext> context =
      modbus::ServerContext::multiple({{1, makeDevice(100)}, {2, makeDevice(200)}});
  std::shared_ptr<modbus::RequestProcessor> processor = std::make_shared<modbus::RequestProcessor>(context);
  std::shared_ptr<reactor::testing::StringTransport> transport = std::make_shared<reactor::testing::StringTransport>();
  std::shared_ptr<ModbusSerialProtocol> protocol;

  explicit Line(SerialLineOptions options = {}) {
    if (options.baudrate == 0) options.baudrate = 9600;
    protocol = std::make_shared<ModbusSerialProtocol>(clock, processor, options);
    protocol->makeConnection(transport);
  }
  ~Line() { transport->reportConnectionLost(*protocol); }

  double charTime() const { return protocol->timing().characterTime; }
  void receive(const Bytes& bytes) { protocol->dataReceived(bytes); }
  void receive(std::string_view text) { protocol->dataReceived(reactor::asBytes(text)); }
  /// One byte every character time, as a line delivers them.
  void receivePaced(const Bytes& bytes) {
    for (std::uint8_t b : bytes) {
      clock.advance(charTime());
      protocol->dataReceived(reactor::ByteView(&b, 1));
    }
  }
  /// Everything written so far, then forgotten.
  Bytes sent() {
    Bytes out = transport->bytes();
    transport->clear();
    return out;
  }
  std::uint16_t holding(std::uint8_t unit, std::uint16_t address) {
    return context->find(unit)->holdingRegisters()->getValues(address, 1).at(0);
  }
  const modbus::SerialLineCounters& counters() const { return protocol->counters(); }
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

const Bytes kReadUnit1 = withCrc(hexBytes("01 03 00 00 00 02"));
const Bytes kAnswerUnit1 = withCrc(hexBytes("01 03 04 00 64 00 65"));

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("RtuTiming follows the guide: 11 bits a character, fixed t1.5 and t3.5 above 19200 baud") {
  auto t9600 = modbus::RtuTiming::forBaudrate(9600);
  CHECK(t9600.characterTime == doctest::Approx(11.0 / 9600));
  CHECK(t9600.t15 == doctest::Approx(1.5 * 11.0 / 9600));
  CHECK(t9600.t35 == doctest::Approx(3.5 * 11.0 / 9600));  // 4.01 ms
  auto t1200 = modbus::RtuTiming::forBaudrate(1200);
  CHECK(t1200.t35 == doctest::Approx(0.0320833).epsilon(1e-4));
  auto t19200 = modbus::RtuTiming::forBaudrate(19200);
  CHECK(t19200.t35 == doctest::Approx(3.5 * 11.0 / 19200));  // 19200 itself still counts characters
  auto t38400 = modbus::RtuTiming::forBaudrate(38400);
  CHECK(t38400.t15 == doctest::Approx(750e-6));
  CHECK(t38400.t35 == doctest::Approx(1750e-6));
  auto t115200 = modbus::RtuTiming::forBaudrate(115200);
  CHECK(t115200.t35 == doctest::Approx(1750e-6));
  CHECK(t115200.characterTime == doctest::Approx(11.0 / 115200));
  CHECK_THROWS_AS(modbus::RtuTiming::forBaudrate(0), std::invalid_argument);
}

TEST_CASE("the socket framer is refused on a serial line with a clear message") {
  reactor::ManualClock clock;
  auto processor = std::make_shared<modbus::RequestProcessor>(modbus::ServerContext::single(makeDevice(0)));
  for (auto framer : {modbus::FramerType::Socket, modbus::FramerType::MbapInTls}) {
    SerialLineOptions o;
    o.framer = framer;
    try {
      ModbusSerialProtocol p(clock, processor, o);
      FAIL("the constructor should have thrown");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find("cannot run on a serial line") != std::string::npos);
    }
  }
  CHECK_THROWS_AS(ModbusSerialProtocol(clock, nullptr), std::invalid_argument);
}

TEST_CASE("serial RTU answers a request for its unit as soon as the frame is complete") {
  Line line;
  line.receive(kReadUnit1);
  CHECK(line.sent() == kAnswerUnit1);
  CHECK(line.counters().busMessages == 1);
  CHECK(line.counters().slaveMessages == 1);
  CHECK(line.counters().slaveNoResponses == 0);
}

TEST_CASE("serial RTU stays silent for other units and for a served unit with no device") {
  SUBCASE("units taken from the context") {
    Line line;
    line.receive(withCrc(hexBytes("09 03 00 00 00 01")));
    CHECK(line.sent().empty());
    CHECK(line.counters().foreignRequests == 1);
    CHECK_FALSE(line.protocol->serves(9));
    CHECK(line.protocol->serves(2));
    CHECK_FALSE(line.protocol->serves(0));
  }
  SUBCASE("units listed in the options") {
    SerialLineOptions o;
    o.unitIds = {2, 5};
    Line line(o);
    line.receive(kReadUnit1);  // unit 1 has a device but is not ours on this line
    CHECK(line.sent().empty());
    line.receive(withCrc(hexBytes("05 03 00 00 00 01")));  // ours, but no device: silence, never 0x0B
    CHECK(line.sent().empty());
    CHECK(line.counters().slaveNoResponses == 1);
    line.receive(withCrc(hexBytes("02 03 00 01 00 01")));
    CHECK(line.sent() == withCrc(hexBytes("02 03 02 00 C9")));
  }
}

TEST_CASE("serial RTU skips another device's response, even one that hides a valid request") {
  Line line;
  // Unit 7 is asked for 4 registers; its answer's data bytes happen to be a valid "write register 1
  // of unit 1" frame. Without recognising the response, a resynchronising framer would run it.
  Bytes foreignRequest = withCrc(hexBytes("07 03 00 00 00 04"));
  Bytes hidden = withCrc(hexBytes("01 06 00 01 00 03"));
  Bytes foreignResponse = withCrc(concat({hexBytes("07 03 08"), hidden}));
  line.receive(concat({foreignRequest, foreignResponse}));
  CHECK(line.sent().empty());
  CHECK(line.holding(1, 1) == 101);
  CHECK(line.counters().foreignRequests == 1);
  CHECK(line.counters().foreignResponses == 1);
  CHECK(line.counters().busCommunicationErrors == 0);
  // An exception response from the other device is skipped too, and we stay in step.
  line.receive(concat({withCrc(hexBytes("07 10 00 00 00 01 02 00 01")), withCrc(hexBytes("07 90 02")), kReadUnit1}));
  CHECK(line.sent() == kAnswerUnit1);
  CHECK(line.counters().foreignResponses == 2);
  CHECK(line.counters().busMessages == 5);
}

TEST_CASE("serial RTU skips another device's response delivered in pieces") {
  Line line;
  Bytes foreignRequest = withCrc(hexBytes("07 03 00 00 00 02"));
  Bytes foreignResponse = withCrc(hexBytes("07 03 04 01 06 00 01"));
  line.receive(foreignRequest);
  line.receive(Bytes(foreignResponse.begin(), foreignResponse.begin() + 2));
  line.receive(Bytes(foreignResponse.begin() + 2, foreignResponse.end()));
  line.receive(kReadUnit1);
  CHECK(line.sent() == kAnswerUnit1);
  CHECK(line.counters().foreignResponses == 1);
}

TEST_CASE("a request for a unit that never answers does not swallow the next request") {
  Line line;
  line.receive(withCrc(hexBytes("07 03 00 00 00 02")));  // unit 7 is not on the line: no response
  line.clock.advance(0.2);                                // the master's timeout
  line.receive(kReadUnit1);
  CHECK(line.sent() == kAnswerUnit1);
  CHECK(line.counters().foreignResponses == 0);
}

TEST_CASE("serial RTU broadcast writes are applied to every unit and never answered") {
  Line line;
  line.receive(withCrc(hexBytes("00 06 00 05 12 34")));
  CHECK(line.sent().empty());
  CHECK(line.holding(1, 5) == 0x1234);
  CHECK(line.holding(2, 5) == 0x1234);
  line.receive(withCrc(hexBytes("00 10 00 06 00 02 04 00 0A 00 0B")));
  CHECK(line.sent().empty());
  CHECK(line.holding(1, 7) == 0x000B);
  CHECK(line.holding(2, 6) == 0x000A);
  // A broadcast read does nothing at all.
  line.receive(withCrc(hexBytes("00 03 00 00 00 01")));
  CHECK(line.sent().empty());
  CHECK(line.counters().slaveMessages == 3);
  CHECK(line.counters().slaveNoResponses == 3);
}

TEST_CASE("serial RTU broadcast on a single context writes its one device once") {
  reactor::ManualClock clock;
  auto device = makeDevice(0);
  auto processor = std::make_shared<modbus::RequestProcessor>(modbus::ServerContext::single(device));
  auto transport = std::make_shared<reactor::testing::StringTransport>();
  SerialLineOptions o;
  o.baudrate = 9600;
  auto protocol = std::make_shared<ModbusSerialProtocol>(clock, processor, o);
  protocol->makeConnection(transport);
  // FC 22 mask write: applied once it gives (0x0012 & 0xF2) | (0x25 & ~0xF2) = 0x0017.
  device->holdingRegisters()->setValues(4, {0x0012});
  protocol->dataReceived(withCrc(hexBytes("00 16 00 04 00 F2 00 25")));
  CHECK(transport->bytes().empty());
  CHECK(device->holdingRegisters()->getValues(4, 1).at(0) == 0x0017);
  CHECK(protocol->serves(42));  // a single context answers every unit id
  transport->reportConnectionLost(*protocol);
}

TEST_CASE("serial RTU joins a frame split across deliveries and answers back-to-back frames in order") {
  Line line;
  line.receive(Bytes(kReadUnit1.begin(), kReadUnit1.begin() + 3));
  line.clock.advance(0.0005);
  CHECK(line.sent().empty());
  line.receive(Bytes(kReadUnit1.begin() + 3, kReadUnit1.end()));
  CHECK(line.sent() == kAnswerUnit1);
  Bytes second = withCrc(hexBytes("02 03 00 00 00 01"));
  line.receive(concat({kReadUnit1, second}));
  CHECK(line.sent() == concat({kAnswerUnit1, withCrc(hexBytes("02 03 02 00 C8"))}));
}

TEST_CASE("serial RTU drops noise and a bad CRC and serves the next frame") {
  Line line;
  line.receive(hexBytes("FF 00 12"));  // line noise: function code 0 has no length, the gap ends it
  line.clock.advance(0.006);
  CHECK(line.sent().empty());
  CHECK(line.counters().busCommunicationErrors == 1);
  Bytes bad = kReadUnit1;
  bad.back() ^= 0xFF;
  line.receive(concat({bad, kReadUnit1}));  // a bad CRC drops one byte and resynchronises at once
  CHECK(line.sent() == kAnswerUnit1);
  CHECK(line.counters().busCommunicationErrors == 2);  // one per run of garbage
  CHECK(line.counters().busMessages == 1);
}

TEST_CASE("serial RTU answers a frame glued to noise once the gap after it comes") {
  Line line;
  line.receive(concat({hexBytes("FF 00 12"), kReadUnit1}));
  CHECK(line.sent().empty());  // noise of unknown length: only the gap tells where it ends
  line.clock.advance(0.006);
  CHECK(line.sent() == kAnswerUnit1);
}

TEST_CASE("serial RTU discards a frame with more than t1.5 of silence between two characters") {
  Line line;
  line.receivePaced(Bytes(kReadUnit1.begin(), kReadUnit1.begin() + 4));
  // 2.5 ms of silence: above t1.5 (1.72 ms), below t3.5 (4.01 ms).
  line.clock.advance(0.0025);
  line.receivePaced(Bytes(kReadUnit1.begin() + 4, kReadUnit1.end()));
  CHECK(line.sent().empty());
  CHECK(line.counters().timingDiscards == 1);
  // Until t3.5 of silence everything belongs to the bad frame, even a whole request.
  line.receivePaced(kReadUnit1);
  CHECK(line.sent().empty());
  line.clock.advance(0.0045);
  line.receivePaced(kReadUnit1);
  CHECK(line.sent() == kAnswerUnit1);
}

TEST_CASE("serial RTU keeps a frame whose characters are less than t1.5 apart") {
  Line line;
  for (std::uint8_t b : kReadUnit1) {
    line.clock.advance(line.charTime() + 0.0012);  // 1.2 ms of silence after each character
    line.receive(Bytes{b});
  }
  CHECK(line.sent() == kAnswerUnit1);
  CHECK(line.counters().timingDiscards == 0);
}

TEST_CASE("serial RTU with enforceT15 off keeps a frame interrupted for more than t1.5") {
  SerialLineOptions o;
  o.enforceT15 = false;
  Line line(o);
  line.receivePaced(Bytes(kReadUnit1.begin(), kReadUnit1.begin() + 4));
  line.clock.advance(0.0025);
  line.receivePaced(Bytes(kReadUnit1.begin() + 4, kReadUnit1.end()));
  CHECK(line.sent() == kAnswerUnit1);
}

TEST_CASE("serial RTU drops a partial frame after t3.5 of silence and serves the next one") {
  Line line;
  line.receivePaced(Bytes(kReadUnit1.begin(), kReadUnit1.begin() + 5));
  line.clock.advance(0.005);  // t3.5 has passed, but a character started now would still be on the wire
  CHECK(line.counters().busCommunicationErrors == 0);
  line.clock.advance(0.001);  // t3.5 + one character: the fragment ended at a frame boundary
  CHECK(line.sent().empty());
  CHECK(line.counters().busCommunicationErrors == 1);
  line.receive(kReadUnit1);
  CHECK(line.sent() == kAnswerUnit1);
}

TEST_CASE("serial RTU ends a frame of unknown length at t3.5 of silence plus the next character's time") {
  Line line;
  // Function code 0x41 has no length rule: only the gap ends it. Unit 1 answers IllegalFunction.
  line.receivePaced(withCrc(hexBytes("01 41 01 02")));
  line.clock.advance(0.005);
  CHECK(line.sent().empty());  // 5 ms < t3.5 + one character time (5.16 ms)
  line.clock.advance(0.0005);
  CHECK(line.sent() == withCrc(hexBytes("01 C1 01")));
  CHECK(line.counters().exceptionResponses == 1);
}

TEST_CASE("serial RTU latency allowance lets a delayed piece of a frame through") {
  SerialLineOptions o;
  o.latency = 0.016;  // an FTDI adapter's default latency timer
  Line line(o);
  line.receive(Bytes(kReadUnit1.begin(), kReadUnit1.begin() + 4));
  line.clock.advance(0.015);
  line.receive(Bytes(kReadUnit1.begin() + 4, kReadUnit1.end()));
  CHECK(line.sent() == kAnswerUnit1);
}

TEST_CASE("serial RTU drops the local echo of its own answer") {
  SerialLineOptions o;
  o.dropLocalEcho = true;
  Line line(o);
  line.receive(kReadUnit1);
  Bytes answer = line.sent();
  CHECK(answer == kAnswerUnit1);
  // The adapter echoes our answer, then the master's next request follows.
  line.clock.advance(0.01);
  line.receive(concat({answer, withCrc(hexBytes("02 03 00 00 00 01"))}));
  CHECK(line.sent() == withCrc(hexBytes("02 03 02 00 C8")));
  CHECK(line.counters().echoBytesDropped == answer.size());
  CHECK(line.counters().busCommunicationErrors == 0);
}

TEST_CASE("serial RTU waits t3.5 before answering when asked to") {
  SerialLineOptions o;
  o.waitT35BeforeReply = true;
  Line line(o);
  line.receive(kReadUnit1);
  CHECK(line.sent().empty());
  line.clock.advance(0.003);
  CHECK(line.sent().empty());
  line.clock.advance(0.0011);
  CHECK(line.sent() == kAnswerUnit1);
}

TEST_CASE("serial RTU counts exception answers and overruns") {
  SerialLineOptions o;
  o.maxInputBuffer = 100;
  Line line(o);
  line.receive(withCrc(hexBytes("01 03 00 00 00 00")));  // quantity 0 → exception 03
  CHECK(line.sent() == withCrc(hexBytes("01 83 03")));
  CHECK(line.counters().exceptionResponses == 1);
  Bytes flood = hexBytes("01 41");  // no length rule: the framer waits for a gap
  flood.resize(150, 0x00);
  line.receive(flood);
  CHECK(line.counters().characterOverruns == 1);
  line.clock.advance(0.005);
  line.receive(kReadUnit1);
  CHECK(line.sent() == kAnswerUnit1);
}

TEST_CASE("requestFilter can silence a unit (the listen-only hook)") {
  Line line;
  std::vector<int> seen;
  line.protocol->requestFilter = [&seen](std::uint8_t unit, std::span<const std::uint8_t> pdu) {
    seen.push_back(unit * 1000 + pdu[0]);
    return unit != 1;
  };
  line.receive(kReadUnit1);
  CHECK(line.sent().empty());
  line.receive(withCrc(hexBytes("00 06 00 05 00 01")));  // broadcast goes through the filter too
  line.receive(withCrc(hexBytes("02 03 00 00 00 01")));
  CHECK(line.sent() == withCrc(hexBytes("02 03 02 00 C8")));
  CHECK(seen == std::vector<int>{1003, 6, 2003});
  CHECK(line.holding(2, 5) == 1);
}

TEST_CASE("serial ASCII answers a request and drops a bad LRC or bad hex") {
  SerialLineOptions o;
  o.framer = modbus::FramerType::Ascii;
  Line line(o);
  line.receive(std::string_view(":010300000002FA\r\n"));
  CHECK(line.transport->value() == ":010304006400652F\r\n");
  line.transport->clear();
  line.receive(std::string_view(":010300000002FB\r\n:01030000000ZFA\r\n:010300000002FA\r\n"));
  CHECK(line.transport->value() == ":010304006400652F\r\n");
  CHECK(line.counters().busCommunicationErrors == 2);  // each bad ASCII frame counts
  CHECK(dynamic_cast<modbus::AsciiFramer*>(&line.protocol->framer()) != nullptr);
}

TEST_CASE("serial ASCII drops a frame interrupted for longer than the character timeout") {
  SerialLineOptions o;
  o.framer = modbus::FramerType::Ascii;
  Line line(o);
  line.receive(std::string_view(":0103"));
  line.clock.advance(1.5);
  line.receive(std::string_view("00000002FA\r\n"));
  CHECK(line.transport->value().empty());
  CHECK(line.counters().timingDiscards == 1);
  line.receive(std::string_view(":0103"));
  line.clock.advance(0.5);  // below the 1 s timeout
  line.receive(std::string_view("00000002FA\r\n"));
  CHECK(line.transport->value() == ":010304006400652F\r\n");
}

TEST_CASE("serial ASCII ignores other units' traffic and broadcasts silently") {
  SerialLineOptions o;
  o.framer = modbus::FramerType::Ascii;
  Line line(o);
  // Unit 7's request and its answer, then a broadcast write, then our request.
  line.receive(std::string_view(":070300000001F5\r\n:0703020005EF\r\n:000600050007EE\r\n:010300000002FA\r\n"));
  CHECK(line.transport->value() == ":010304006400652F\r\n");
  CHECK(line.holding(1, 5) == 7);
  CHECK(line.holding(2, 5) == 7);
  CHECK(line.counters().foreignRequests == 2);
}

TEST_CASE("the serial line takes its baud rate from the options, or 19200") {
  reactor::ManualClock clock;
  auto processor = std::make_shared<modbus::RequestProcessor>(modbus::ServerContext::single(makeDevice(0)));
  auto transport = std::make_shared<reactor::testing::StringTransport>();
  auto p = std::make_shared<ModbusSerialProtocol>(clock, processor);
  p->makeConnection(transport);
  CHECK(p->timing().characterTime == doctest::Approx(11.0 / 19200));
  transport->reportConnectionLost(*p);
  SerialLineOptions o;
  o.baudrate = 1200;
  auto q = std::make_shared<ModbusSerialProtocol>(clock, processor, o);
  auto t2 = std::make_shared<reactor::testing::StringTransport>();
  q->makeConnection(t2);
  CHECK(q->timing().t35 == doctest::Approx(3.5 * 11 / 1200.0));
  int lost = 0;
  q->onConnectionLost = [&lost](const reactor::Failure&) { ++lost; };
  t2->reportConnectionLost(*q, reactor::Failure(reactor::FailureType::ConnectionLost));
  CHECK(lost == 1);
}

TEST_CASE("serial ASCII follows FC 8/03: the device's new input delimiter ends the next frames") {
  SerialLineOptions o;
  o.framer = modbus::FramerType::Ascii;
  Line line(o);
  line.receive(std::string_view(":010800032100D3\r\n"));
  CHECK(line.transport->value() == ":010800032100D3\r\n");
  line.transport->clear();
  line.receive(std::string_view(":010300000002FA\r!"));
  CHECK(line.transport->value() == ":010304006400652F\r\n");
  CHECK(line.context->find(1)->control().asciiDelimiter() == '!');
}

TEST_CASE("a serial broadcast is counted by each device as a broadcast it did not answer") {
  Line line;
  line.receive(withCrc(hexBytes("00 06 00 05 12 34")));
  CHECK(line.sent().empty());
  for (std::uint8_t unit : {1, 2}) {
    const modbus::ControlBlock& c = line.context->find(unit)->control();
    CHECK(c.counter(modbus::DiagnosticCounter::BusMessage) == 1);
    CHECK(c.counter(modbus::DiagnosticCounter::ServerMessage) == 1);
    CHECK(c.counter(modbus::DiagnosticCounter::ServerNoResponse) == 1);
    CHECK(c.eventCounter() == 1);
    CHECK(c.events() == std::vector<std::uint8_t>{0x40, 0xC0});  // receive event with the broadcast flag
  }
}

TEST_CASE("serial line errors, overruns and other units' messages reach every served device's counters") {
  SerialLineOptions o;
  o.maxInputBuffer = 100;
  Line line(o);
  auto counter = [&line](std::uint8_t unit, modbus::DiagnosticCounter which) {
    return line.context->find(unit)->control().counter(which);
  };
  line.receive(withCrc(hexBytes("09 03 00 00 00 01")));  // another unit's request: a bus message
  Bytes bad = kReadUnit1;
  bad.back() ^= 0xFF;
  line.receive(concat({bad, kReadUnit1}));  // one run of garbage, then our request
  CHECK(line.sent() == kAnswerUnit1);
  Bytes flood = hexBytes("01 41");
  flood.resize(150, 0x00);
  line.receive(flood);  // a character overrun
  for (std::uint8_t unit : {1, 2}) {
    CAPTURE(unit);
    CHECK(counter(unit, modbus::DiagnosticCounter::BusCommunicationError) == 1);
    CHECK(counter(unit, modbus::DiagnosticCounter::BusCharacterOverrun) == 1);
  }
  CHECK(counter(1, modbus::DiagnosticCounter::BusMessage) == 2);     // unit 9's and its own
  CHECK(counter(2, modbus::DiagnosticCounter::BusMessage) == 1);     // unit 9's
  CHECK(counter(1, modbus::DiagnosticCounter::ServerMessage) == 1);
  CHECK(counter(2, modbus::DiagnosticCounter::ServerMessage) == 0);
  // FC 8/0C and 8/12 over the line return them.
  line.clock.advance(0.005);
  line.receive(withCrc(hexBytes("01 08 00 0C 00 00")));
  CHECK(line.sent() == withCrc(hexBytes("01 08 00 0C 00 01")));
  line.receive(withCrc(hexBytes("01 08 00 12 00 00")));
  CHECK(line.sent() == withCrc(hexBytes("01 08 00 12 00 01")));
}

TEST_CASE("serial RTU answers a request whose header does not give its length at the t3.5 gap (FC 8/00, 16 bytes)") {
  // Serial line guide §2.5.1.1: the frame ends at t3.5 of silence. The RTU length rule of FC 8 (four
  // data bytes) cuts Return Query Data with a longer payload short; the gap still ends it.
  Line line;
  const Bytes request =
      withCrc(hexBytes("01 08 00 00 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"));  // 2 + 16 bytes of data
  line.receivePaced(request);
  CHECK(line.sent().empty());  // the bytes alone do not say where the frame ends
  line.clock.advance(0.0055);  // t3.5 + one character time at 9600 baud
  CHECK(line.sent() == request);  // Return Query Data echoes the request
  CHECK(line.counters().busMessages == 1);
  // The next request of known length is answered at once, as before.
  line.clock.advance(0.01);
  line.receive(kReadUnit1);
  CHECK(line.sent() == kAnswerUnit1);
}

TEST_CASE("serial RTU answers FC 8/00 with a long payload delivered in one piece, at the gap") {
  Line line;
  const Bytes request = withCrc(hexBytes("02 08 00 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00"));
  line.receive(request);
  CHECK(line.sent().empty());
  line.clock.advance(0.006);
  CHECK(line.sent() == request);
}

TEST_CASE("serial RTU timing at 600 baud: a gap above t1.5 inside a frame discards it, a shorter one does not") {
  // The rule the pty integration test used to check with wall-clock gaps (tests/integration/serial_test.cc),
  // on the ManualClock: a character takes 18.3 ms, t1.5 = 27.5 ms, t3.5 = 64.2 ms.
  SerialLineOptions o;
  o.baudrate = 600;
  Line line(o);
  auto receiveWithGap = [&](double extraSilence) {
    line.receivePaced(Bytes(kReadUnit1.begin(), kReadUnit1.begin() + 4));
    line.clock.advance(extraSilence);
    line.receivePaced(Bytes(kReadUnit1.begin() + 4, kReadUnit1.end()));
  };
  SUBCASE("below t1.5: answered") {
    receiveWithGap(0.005);
    CHECK(line.sent() == kAnswerUnit1);
    CHECK(line.counters().timingDiscards == 0);
  }
  SUBCASE("between t1.5 and t3.5: discarded") {
    receiveWithGap(0.046);
    line.clock.advance(0.3);
    CHECK(line.sent().empty());
    CHECK(line.counters().timingDiscards == 1);
    // After t3.5 of silence the line is clean again.
    line.receivePaced(kReadUnit1);
    CHECK(line.sent() == kAnswerUnit1);
  }
  SUBCASE("above t3.5: the two halves are two frames, both bad") {
    receiveWithGap(0.120);
    line.clock.advance(0.3);
    CHECK(line.sent().empty());
    CHECK(line.counters().busCommunicationErrors >= 1);
    line.receivePaced(kReadUnit1);
    CHECK(line.sent() == kAnswerUnit1);
  }
}

TEST_CASE("serial line passes each answer through the response hook which may rewrite or silence it") {
  Line line;
  auto hook = std::make_shared<ScriptedHook>();
  line.protocol->setResponseHook(hook);
  line.receive(kReadUnit1);
  CHECK(line.sent() == kAnswerUnit1);
  REQUIRE(hook->seen.size() == 1);
  CHECK(hook->seen[0].unitId == 1);
  CHECK(hook->seen[0].request == hexBytes("03 00 00 00 02"));
  CHECK(hook->seen[0].response == hexBytes("03 04 00 64 00 65"));

  hook->rewrite = true;  // an exception answer instead, counted as one
  line.clock.advance(0.1);
  line.receive(kReadUnit1);
  CHECK(line.sent() == withCrc(hexBytes("01 83 04")));
  CHECK(line.counters().exceptionResponses == 1);

  hook->rewrite = false;
  hook->plan.kind = modbus::ResponsePlan::Kind::Silence;
  line.clock.advance(0.1);
  line.receive(kReadUnit1);
  CHECK(line.sent().empty());
  CHECK(line.counters().slaveNoResponses == 1);

  line.protocol->setResponseHook(nullptr);
  line.clock.advance(0.1);
  line.receive(kReadUnit1);
  CHECK(line.sent() == kAnswerUnit1);
  CHECK(hook->seen.size() == 3);
}

TEST_CASE("serial line response hook plans: junk on the line and delayed or split answers on the clock") {
  Line line;
  auto hook = std::make_shared<ScriptedHook>();
  line.protocol->setResponseHook(hook);

  hook->plan = {modbus::ResponsePlan::Kind::Junk, 0, 4};
  line.receive(kReadUnit1);
  CHECK(line.sent() == hexBytes("ee ee ee ee"));

  hook->plan = {modbus::ResponsePlan::Kind::Delay, 0.5, 0};
  line.clock.advance(0.1);
  line.receive(kReadUnit1);
  CHECK(line.sent().empty());
  line.clock.advance(0.5);
  CHECK(line.sent() == kAnswerUnit1);

  hook->plan = {modbus::ResponsePlan::Kind::Split, 0.25, 0};
  line.clock.advance(0.1);
  line.receive(kReadUnit1);
  const Bytes first(kAnswerUnit1.begin(), kAnswerUnit1.begin() + 4);
  const Bytes second(kAnswerUnit1.begin() + 4, kAnswerUnit1.end());
  CHECK(line.sent() == first);
  line.clock.advance(0.25);
  CHECK(line.sent() == second);
}
