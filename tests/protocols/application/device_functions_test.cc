// Tests for protocols/application/device_functions.h through RequestProcessor::process with raw PDUs: FC 7, 8
// (every sub-function), 11, 12, 17, 20, 21, 24, 43, the counters (as exact changes), the event log,
// listen-only mode, and the independence of devices. Examples marked "spec" are those of the Modbus
// Application Protocol v1.1b3 §6.
#include "protocols/application/device_functions.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "datastore/sequential_data_block.h"
#include "protocols/application/pdu.h"
#include "protocols/application/request_processor.h"

namespace modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::shared_ptr<DeviceContext> makeDevice() {
  return std::make_shared<DeviceContext>(DeviceTables{.holdingRegisters = SequentialRegisterBlock::create(0, 10)});
}

// Units 1 and 2, each with ten holding registers.
struct Fixture {
  std::shared_ptr<DeviceContext> d1 = makeDevice();
  std::shared_ptr<DeviceContext> d2 = makeDevice();
  RequestProcessor processor{ServerContext::multiple({{1, d1}, {2, d2}})};

  Bytes run(const Bytes& request, std::uint8_t unit = 1) {
    std::array<std::uint8_t, kMaxPduSize> response{};
    const std::size_t n = processor.process(unit, request, response);
    REQUIRE(n <= response.size());
    return Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
  }
  ControlBlock& c1() { return d1->control(); }
  std::uint16_t counter(DiagnosticCounter which, const std::shared_ptr<DeviceContext>& d) const {
    return d->control().counter(which);
  }
};

// fc, then each 16-bit field big-endian.
Bytes request(std::uint8_t functionCode, std::initializer_list<std::uint16_t> fields) {
  Bytes out{functionCode};
  for (std::uint16_t f : fields) {
    out.push_back(static_cast<std::uint8_t>(f >> 8));
    out.push_back(static_cast<std::uint8_t>(f & 0xFF));
  }
  return out;
}

Bytes diag(std::uint16_t sub, std::uint16_t data = 0) { return request(0x08, {sub, data}); }

Bytes exception(std::uint8_t functionCode, std::uint8_t code) {
  return {static_cast<std::uint8_t>(functionCode | 0x80), code};
}

// The value an FC 8 counter sub-function returns (checked to be a well-formed echo).
std::uint16_t diagValue(const Bytes& answer, std::uint16_t sub) {
  REQUIRE(answer.size() == 5);
  REQUIRE(answer[0] == 0x08);
  REQUIRE(readU16BE(&answer[1]) == sub);
  return readU16BE(&answer[3]);
}

const Bytes kReadOne = request(0x03, {0, 1});
const Bytes kReadBad = request(0x03, {0, 0});  // quantity 0 → exception 03

// All eight counters of a device, in CPT order.
std::array<std::uint16_t, 8> counters(const DeviceContext& d) {
  std::array<std::uint16_t, 8> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = d.control().counter(static_cast<DiagnosticCounter>(i));
  return out;
}

using Counters = std::array<std::uint16_t, 8>;

// --- FC 7 ------------------------------------------------------------------------------------------

TEST_CASE_FIXTURE(Fixture, "FC 7 returns the device's exception status byte (spec example 6D)") {
  CHECK(run({0x07}) == Bytes{0x07, 0x00});
  c1().setExceptionStatus(0x6D);
  CHECK(run({0x07}) == Bytes{0x07, 0x6D});
  CHECK(run({0x07}, 2) == Bytes{0x07, 0x00});
}

TEST_CASE_FIXTURE(Fixture, "FC 7 with data after the function code is exception 03") {
  CHECK(run({0x07, 0x00}) == exception(0x07, 3));
}

// --- FC 8: the sub-functions one by one --------------------------------------------------------------

TEST_CASE_FIXTURE(Fixture, "FC 8/00 echoes the query data, of any length (spec example A5 37)") {
  CHECK(run({0x08, 0x00, 0x00, 0xA5, 0x37}) == Bytes{0x08, 0x00, 0x00, 0xA5, 0x37});
  CHECK(run({0x08, 0x00, 0x00}) == Bytes{0x08, 0x00, 0x00});
  Bytes big{0x08, 0x00, 0x00};
  for (int i = 0; i < 250; ++i) big.push_back(static_cast<std::uint8_t>(i));
  CHECK(run(big) == big);
}

TEST_CASE_FIXTURE(Fixture, "FC 8 shorter than a sub-function is exception 03") {
  CHECK(run({0x08}) == exception(0x08, 3));
  CHECK(run({0x08, 0x00}) == exception(0x08, 3));
}

TEST_CASE_FIXTURE(Fixture, "FC 8 with an undefined sub-function is exception 01") {
  for (std::uint16_t sub : {0x05, 0x06, 0x07, 0x08, 0x09, 0x13, 0x15, 0x16, 0x100, 0xFFFF}) {
    CAPTURE(sub);
    CHECK(run(diag(static_cast<std::uint16_t>(sub))) == exception(0x08, 1));
  }
}

TEST_CASE_FIXTURE(Fixture, "FC 8 counter sub-functions need data 0000 and exactly two data bytes, else 03") {
  CHECK(run(diag(0x0B, 1)) == exception(0x08, 3));
  CHECK(run({0x08, 0x00, 0x0B, 0x00}) == exception(0x08, 3));
  CHECK(run({0x08, 0x00, 0x0B, 0x00, 0x00, 0x00}) == exception(0x08, 3));
  CHECK(run(diag(0x02, 0xFF00)) == exception(0x08, 3));
  CHECK(run(diag(0x0A, 0x0001)) == exception(0x08, 3));
  CHECK(run(diag(0x14, 0x0001)) == exception(0x08, 3));
  CHECK(run(diag(0x04, 0x0001)) == exception(0x08, 3));
  CHECK_FALSE(c1().listenOnly());
}

TEST_CASE_FIXTURE(Fixture, "FC 8/02 returns the diagnostic register") {
  CHECK(run(diag(0x02)) == diag(0x02, 0x0000));
  c1().setDiagnosticRegister(0xA5C3);
  CHECK(run(diag(0x02)) == diag(0x02, 0xA5C3));
}

TEST_CASE_FIXTURE(Fixture, "FC 8/03 sets the ASCII input delimiter and echoes; a non-zero low byte is 03") {
  CHECK(run(diag(0x03, 0x2100)) == diag(0x03, 0x2100));
  CHECK(c1().asciiDelimiter() == '!');
  CHECK(d2->control().asciiDelimiter() == '\n');
  CHECK(run(diag(0x03, 0x2101)) == exception(0x08, 3));
  CHECK(c1().asciiDelimiter() == '!');
  CHECK(run(diag(0x03, 0x0A00)) == diag(0x03, 0x0A00));
  CHECK(c1().asciiDelimiter() == '\n');
}

TEST_CASE_FIXTURE(Fixture, "FC 8/0B..12 return the eight counters in order") {
  // Set each counter to a distinct value through the application's door.
  for (std::size_t i = 0; i < 8; ++i) {
    for (std::size_t k = 0; k < 10 * (i + 1); ++k) c1().count(static_cast<DiagnosticCounter>(i));
  }
  // Each request itself is one more bus message (counted before it runs), and the earlier ones in
  // this loop are server messages, so read them all at once from the counts before.
  const Counters before = counters(*d1);
  for (std::uint16_t sub = 0x0B; sub <= 0x12; ++sub) {
    CAPTURE(sub);
    const std::size_t i = sub - 0x0B;
    const std::uint16_t got = diagValue(run(diag(sub)), sub);
    const std::uint16_t requestsBefore = static_cast<std::uint16_t>(sub - 0x0B);
    if (i == 0) {
      CHECK(got == before[0] + requestsBefore + 1);  // bus message count includes this request
    } else if (i == 3) {
      CHECK(got == before[3] + requestsBefore);  // server messages processed before this one
    } else {
      CHECK(got == before[i]);
    }
  }
}

TEST_CASE_FIXTURE(Fixture, "FC 8/0A clears every counter and the diagnostic register after answering, not the log") {
  run(kReadOne);
  run(kReadBad);
  c1().countBusCharacterOverrun();
  c1().setDiagnosticRegister(0x0101);
  const std::size_t logged = c1().eventCount();
  CHECK(run(diag(0x0A)) == diag(0x0A));
  CHECK(counters(*d1) == Counters{});
  CHECK(c1().eventCounter() == 0);
  CHECK(c1().diagnosticRegister() == 0);
  CHECK(c1().eventCount() == logged + 2);  // its own receive and send events
  // The next request counts from zero.
  CHECK(diagValue(run(diag(0x0B)), 0x0B) == 1);
}

TEST_CASE_FIXTURE(Fixture, "FC 8/14 clears the character overrun counter only") {
  c1().countBusCharacterOverrun();
  c1().countBusCharacterOverrun();
  CHECK(diagValue(run(diag(0x12)), 0x12) == 2);
  const Counters before = counters(*d1);
  CHECK(run(diag(0x14)) == diag(0x14));
  const Counters after = counters(*d1);
  CHECK(after[7] == 0);
  CHECK(after[0] == before[0] + 1);
  CHECK(after[3] == before[3] + 1);
  CHECK(after[2] == before[2]);
}

// --- the counters, as exact changes ---------------------------------------------------------------

TEST_CASE_FIXTURE(Fixture, "a normal answer counts one bus message, one server message and one event") {
  const Counters before = counters(*d1);
  const std::uint16_t events = c1().eventCounter();
  CHECK(run(kReadOne) == Bytes{0x03, 0x02, 0x00, 0x00});
  Counters expected = before;
  expected[0] += 1;
  expected[3] += 1;
  CHECK(counters(*d1) == expected);
  CHECK(c1().eventCounter() == events + 1);
  CHECK(counters(*d2) == Counters{});
}

TEST_CASE_FIXTURE(Fixture, "an exception answer counts a bus exception error and no event") {
  CHECK(run(kReadBad) == exception(0x03, 3));
  CHECK(counters(*d1) == Counters{1, 0, 1, 1, 0, 0, 0, 0});
  CHECK(c1().eventCounter() == 0);
  CHECK(run({0x41}) == exception(0x41, 1));  // unknown function code: an exception too
  CHECK(counters(*d1) == Counters{2, 0, 2, 2, 0, 0, 0, 0});
}

TEST_CASE_FIXTURE(Fixture, "exception 06 counts busy, exception 07 counts NAK") {
  processor.registerFunction(0x41, [](DeviceContext&, std::span<const std::uint8_t> q, std::span<std::uint8_t> r) {
    return exceptionResponse(q[0], ExceptionCode::ServerDeviceBusy, r);
  });
  processor.registerFunction(0x42, [](DeviceContext&, std::span<const std::uint8_t> q, std::span<std::uint8_t> r) {
    return exceptionResponse(q[0], static_cast<ExceptionCode>(7), r);
  });
  CHECK(run({0x41}) == exception(0x41, 6));
  CHECK(counters(*d1) == Counters{1, 0, 1, 1, 0, 0, 1, 0});
  CHECK(run({0x42}) == exception(0x42, 7));
  CHECK(counters(*d1) == Counters{2, 0, 2, 2, 0, 1, 1, 0});
  CHECK(diagValue(run(diag(0x10)), 0x10) == 1);
  CHECK(diagValue(run(diag(0x11)), 0x11) == 1);
  CHECK(diagValue(run(diag(0x0D)), 0x0D) == 2);
}

TEST_CASE_FIXTURE(Fixture, "a handler that chooses silence counts a no-response") {
  processor.registerFunction(0x41, [](DeviceContext&, std::span<const std::uint8_t>, std::span<std::uint8_t>) {
    return std::size_t{0};
  });
  CHECK(run({0x41}).empty());
  CHECK(counters(*d1) == Counters{1, 0, 0, 1, 1, 0, 0, 0});
  CHECK(diagValue(run(diag(0x0F)), 0x0F) == 1);
}

TEST_CASE_FIXTURE(Fixture, "a request for a missing unit touches no device's counters") {
  CHECK(run(kReadOne, 9) == exception(0x03, 0x0B));
  CHECK(counters(*d1) == Counters{});
  CHECK(counters(*d2) == Counters{});
}

// --- FC 11 and 12 ---------------------------------------------------------------------------------

TEST_CASE_FIXTURE(Fixture, "FC 11 returns the status word and the event counter, and does not count itself") {
  CHECK(run({0x0B}) == Bytes{0x0B, 0x00, 0x00, 0x00, 0x00});
  run(kReadOne);
  run(kReadOne);
  run(kReadBad);  // exceptions are not events
  CHECK(run({0x0B}) == Bytes{0x0B, 0x00, 0x00, 0x00, 0x02});
  CHECK(run({0x0B}) == Bytes{0x0B, 0x00, 0x00, 0x00, 0x02});
  c1().setBusy(true);
  CHECK(run({0x0B}) == Bytes{0x0B, 0xFF, 0xFF, 0x00, 0x02});
  CHECK(run({0x0B, 0x00}) == exception(0x0B, 3));
}

TEST_CASE_FIXTURE(Fixture, "FC 12 returns status, event count, message count and the events, newest first") {
  run(kReadOne);   // receive 80, send 40
  run(kReadBad);   // receive 80, send 41 (exception 01..03)
  const Bytes answer = run({0x0C});
  // Its own receive event is already logged; the bus message count includes it.
  CHECK(answer == Bytes{0x0C, 6 + 5, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 0x80, 0x41, 0x80, 0x40, 0x80});
  CHECK(run({0x0C, 0x01}) == exception(0x0C, 3));
}

TEST_CASE_FIXTURE(Fixture, "FC 12 logs the send event flags of exceptions 04, 05-06 and 07") {
  processor.registerFunction(0x41, [](DeviceContext&, std::span<const std::uint8_t> q, std::span<std::uint8_t> r) {
    return exceptionResponse(q[0], static_cast<ExceptionCode>(q.size() > 1 ? q[1] : 4), r);
  });
  run({0x41, 4});
  run({0x41, 5});
  run({0x41, 6});
  run({0x41, 7});
  run({0x41, 0x0A});  // a code the log has no flag for
  CHECK(c1().events() == Bytes{0x40, 0x80, 0x48, 0x80, 0x44, 0x80, 0x44, 0x80, 0x42, 0x80});
}

TEST_CASE_FIXTURE(Fixture, "FC 12 returns at most 64 events, the newest") {
  for (int i = 0; i < 40; ++i) run(kReadOne);  // 80 events
  const Bytes answer = run({0x0C});
  REQUIRE(answer.size() == 8 + 64);
  CHECK(answer[1] == 6 + 64);
  CHECK(readU16BE(&answer[4]) == 40);   // event counter
  CHECK(readU16BE(&answer[6]) == 41);   // messages
  CHECK(answer[8] == 0x80);
  CHECK(answer[9] == 0x40);
  CHECK(answer.back() == 0x40);
}

// --- listen-only mode and restart -------------------------------------------------------------------

TEST_CASE_FIXTURE(Fixture, "FC 8/04 enters listen-only mode without answering") {
  CHECK(run(diag(0x04)).empty());
  CHECK(c1().listenOnly());
  CHECK(counters(*d1) == Counters{1, 0, 0, 1, 1, 0, 0, 0});
  CHECK(c1().events() == Bytes{0x04, 0x40, 0x80});
}

TEST_CASE_FIXTURE(Fixture, "in listen-only mode nothing is executed or answered, but every message is counted") {
  run(diag(0x04));
  const Counters before = counters(*d1);
  CHECK(run(request(0x06, {2, 0x1234})).empty());
  CHECK(d1->holdingRegisters()->getValues(2, 1) == std::vector<std::uint16_t>{0});
  CHECK(run(kReadOne).empty());
  CHECK(run(diag(0x0B)).empty());
  CHECK(run(diag(0x0A)).empty());  // not executed: the counters are not cleared
  CHECK(run({0x0C}).empty());
  Counters expected = before;
  expected[0] += 5;  // bus messages
  expected[4] += 5;  // no response
  CHECK(counters(*d1) == expected);
  CHECK(c1().event(0) == 0x60);  // send event with the listen-only flag
  CHECK(c1().event(1) == 0xA0);  // receive event with the listen-only flag
  // The other device is not in listen-only mode.
  CHECK(run(kReadOne, 2) == Bytes{0x03, 0x02, 0x00, 0x00});
}

TEST_CASE_FIXTURE(Fixture, "FC 8/01 in listen-only mode leaves it without answering, clears counters, keeps the log") {
  run(kReadOne);
  run(diag(0x04));
  run(kReadOne);
  CHECK(run(diag(0x01, 0x0000)).empty());  // no response in listen-only mode
  CHECK_FALSE(c1().listenOnly());
  CHECK(counters(*d1) == Counters{});
  CHECK(c1().eventCounter() == 0);
  CHECK(c1().events() == Bytes{0x00, 0x60, 0xA0, 0x60, 0xA0, 0x04, 0x40, 0x80, 0x40, 0x80});
  CHECK(run(kReadOne) == Bytes{0x03, 0x02, 0x00, 0x00});
}

TEST_CASE_FIXTURE(Fixture, "FC 8/01 with data FF00 also clears the event log") {
  run(kReadOne);
  run(diag(0x04));
  CHECK(run(diag(0x01, 0xFF00)).empty());
  CHECK_FALSE(c1().listenOnly());
  CHECK(c1().events() == Bytes{0x00});
}

TEST_CASE_FIXTURE(Fixture, "FC 8/01 outside listen-only mode echoes first, then restarts") {
  run(kReadOne);
  c1().setDiagnosticRegister(0x0004);
  CHECK(run(diag(0x01, 0xFF00)) == diag(0x01, 0xFF00));
  CHECK(counters(*d1) == Counters{});
  CHECK(c1().events() == Bytes{0x00});
  CHECK(run(diag(0x01, 0x0000)) == diag(0x01, 0x0000));
  CHECK(c1().events() == Bytes{0x00, 0x40, 0x80, 0x00});
}

TEST_CASE_FIXTURE(Fixture, "FC 8/01 with data other than 0000 or FF00 is 03 and does not restart") {
  run(diag(0x04));
  CHECK(run(diag(0x01, 0x1234)).empty());  // executed, but the exception is not sent: listen-only
  CHECK(c1().listenOnly());
  c1().setListenOnly(false);
  CHECK(run(diag(0x01, 0x00FF)) == exception(0x08, 3));
}

TEST_CASE_FIXTURE(Fixture, "after a restart FC 12 shows the restart event and counts from zero") {
  run(kReadOne);
  run(diag(0x01, 0x0000));
  CHECK(run({0x0C}) == Bytes{0x0C, 6 + 6, 0, 0, 0, 0, 0, 1, 0x80, 0x00, 0x40, 0x80, 0x40, 0x80});
}

// --- broadcast --------------------------------------------------------------------------------------

TEST_CASE("a broadcast write is counted on every device with the broadcast flag and no response") {
  auto a = makeDevice();
  auto b = makeDevice();
  RequestProcessor p(ServerContext::multiple({{1, a}, {2, b}}), ProcessorOptions{.broadcastEnable = true});
  std::array<std::uint8_t, kMaxPduSize> response{};
  const Bytes write = request(0x06, {1, 7});
  CHECK(p.process(0, write, response) == 0);
  for (const auto& d : {a, b}) {
    CHECK(counters(*d) == Counters{1, 0, 0, 1, 1, 0, 0, 0});
    CHECK(d->control().eventCounter() == 1);
    CHECK(d->control().events() == Bytes{0x40, 0xC0});
    CHECK(d->holdingRegisters()->getValues(1, 1) == std::vector<std::uint16_t>{7});
  }
}

// --- FC 17 ------------------------------------------------------------------------------------------

TEST_CASE_FIXTURE(Fixture, "FC 17 reports server id, run indicator and additional data") {
  CHECK(run({0x11}) == Bytes{0x11, 0x02, 0x00, 0xFF});
  c1().setServerId({0x42, 0x43});
  c1().setAdditionalData({'a', 'b', 'c'});
  c1().setRunIndicator(false);
  CHECK(run({0x11}) == Bytes{0x11, 0x06, 0x42, 0x43, 0x00, 'a', 'b', 'c'});
  CHECK(run({0x11}, 2) == Bytes{0x11, 0x02, 0x00, 0xFF});
  CHECK(run({0x11, 0x00}) == exception(0x11, 3));
}

TEST_CASE_FIXTURE(Fixture, "FC 17 with the largest server id fills a whole PDU") {
  c1().setServerId(Bytes(250, 0x33));
  const Bytes answer = run({0x11});
  REQUIRE(answer.size() == 253);
  CHECK(answer[1] == 251);
  CHECK(answer[252] == 0xFF);
}

// --- FC 20 and 21 -----------------------------------------------------------------------------------

struct Sub {
  std::uint16_t file;
  std::uint16_t record;
  std::uint16_t length;
  std::uint8_t type = 6;
};

Bytes readFile(std::initializer_list<Sub> subs) {
  Bytes out{0x14, 0};
  for (const Sub& s : subs) {
    out.push_back(s.type);
    for (std::uint16_t v : {s.file, s.record, s.length}) {
      out.push_back(static_cast<std::uint8_t>(v >> 8));
      out.push_back(static_cast<std::uint8_t>(v & 0xFF));
    }
  }
  out[1] = static_cast<std::uint8_t>(out.size() - 2);
  return out;
}

TEST_CASE_FIXTURE(Fixture, "FC 20 reads two sub-requests in one PDU (spec example)") {
  d1->files().addFile(4, std::vector<std::uint16_t>{0, 0x0DFE, 0x0020});
  d1->files().addFile(3, 12);
  d1->files().setRecords(3, 9, std::vector<std::uint16_t>{0x33CD, 0x0040});
  CHECK(run(readFile({{4, 1, 2}, {3, 9, 2}})) ==
        Bytes{0x14, 0x0C, 0x05, 0x06, 0x0D, 0xFE, 0x00, 0x20, 0x05, 0x06, 0x33, 0xCD, 0x00, 0x40});
}

TEST_CASE_FIXTURE(Fixture, "FC 21 writes records and echoes the request (spec example)") {
  d1->files().addFile(4, 10);
  const Bytes write{0x15, 0x0D, 0x06, 0x00, 0x04, 0x00, 0x07, 0x00, 0x03, 0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D};
  CHECK(run(write) == write);
  CHECK(d1->files().getRecords(4, 7, 3) == std::vector<std::uint16_t>{0x06AF, 0x04BE, 0x100D});
  CHECK(run(readFile({{4, 7, 3}})) == Bytes{0x14, 0x08, 0x07, 0x06, 0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D});
  CHECK_FALSE(d2->files().hasFile(4));
}

TEST_CASE_FIXTURE(Fixture, "FC 20 byte count outside 0x07..0xF5, not whole sub-requests, or not the PDU's is 03") {
  d1->files().addFile(1, 10);
  Bytes six = readFile({{1, 0, 1}});
  six[1] = 6;
  six.pop_back();
  CHECK(run(six) == exception(0x14, 3));
  Bytes bigCount{0x14, 0xF6};
  bigCount.resize(2 + 0xF6, 0);
  CHECK(run(bigCount) == exception(0x14, 3));
  Bytes notWhole = readFile({{1, 0, 1}});
  notWhole.push_back(6);
  notWhole[1] = 8;
  CHECK(run(notWhole) == exception(0x14, 3));
  Bytes mismatch = readFile({{1, 0, 1}});
  mismatch[1] = 14;
  CHECK(run(mismatch) == exception(0x14, 3));
  CHECK(run({0x14}) == exception(0x14, 3));
}

TEST_CASE_FIXTURE(Fixture, "FC 20 with 35 sub-requests (byte count 0xF5) is served") {
  d1->files().addFile(1, 10, 0x0102);
  Bytes req{0x14, 0xF5};
  for (int i = 0; i < 35; ++i) {
    const Bytes one = readFile({{1, static_cast<std::uint16_t>(i % 10), 1}});
    req.insert(req.end(), one.begin() + 2, one.end());
  }
  const Bytes answer = run(req);
  REQUIRE(answer.size() == 2 + 35 * 4);
  CHECK(answer[1] == 35 * 4);
  CHECK(Bytes(answer.begin() + 2, answer.begin() + 6) == Bytes{0x03, 0x06, 0x01, 0x02});
}

TEST_CASE_FIXTURE(Fixture, "FC 20 on an absent file, a record past the file or 9999, type other than 6, file 0 is 02") {
  d1->files().addFile(1, 10);
  d1->files().addFile(2, 10000);
  CHECK(run(readFile({{3, 0, 1}})) == exception(0x14, 2));
  CHECK(run(readFile({{1, 9, 2}})) == exception(0x14, 2));
  CHECK(run(readFile({{1, 10, 1}})) == exception(0x14, 2));
  CHECK(run(readFile({{2, 9999, 1}})) == Bytes{0x14, 0x04, 0x03, 0x06, 0x00, 0x00});
  CHECK(run(readFile({{2, 10000, 1}})) == exception(0x14, 2));
  CHECK(run(readFile({{1, 0, 1, 5}})) == exception(0x14, 2));
  CHECK(run(readFile({{0, 0, 1}})) == exception(0x14, 2));
  CHECK(run(readFile({{1, 0, 0}})) == exception(0x14, 2));
  // One bad sub-request fails the whole PDU.
  CHECK(run(readFile({{1, 0, 1}, {3, 0, 1}})) == exception(0x14, 2));
}

TEST_CASE_FIXTURE(Fixture, "FC 20 whose answer would not fit a PDU is 03") {
  d1->files().addFile(1, 300);
  const Bytes fits = run(readFile({{1, 0, 124}}));  // 2 + 2 + 248 = 252 bytes
  CHECK(fits.size() == 252);
  CHECK(run(readFile({{1, 0, 125}})) == exception(0x14, 3));
  CHECK(run(readFile({{1, 0, 60}, {1, 60, 64}})) == exception(0x14, 3));  // 2 + 122 + 130 = 254
}

Bytes writeFile(std::uint16_t file, std::uint16_t record, std::initializer_list<std::uint16_t> values,
                std::uint8_t type = 6) {
  Bytes out{0x15, 0, type, static_cast<std::uint8_t>(file >> 8), static_cast<std::uint8_t>(file & 0xFF),
            static_cast<std::uint8_t>(record >> 8), static_cast<std::uint8_t>(record & 0xFF), 0,
            static_cast<std::uint8_t>(values.size())};
  for (std::uint16_t v : values) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xFF));
  }
  out[1] = static_cast<std::uint8_t>(out.size() - 2);
  return out;
}

Bytes join(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin() + 2, b.end());
  out[1] = static_cast<std::uint8_t>(out.size() - 2);
  return out;
}

TEST_CASE_FIXTURE(Fixture, "FC 21 checks every sub-request before writing any (02), and nothing changes") {
  d1->files().addFile(1, 5);
  CHECK(run(join(writeFile(1, 0, {1, 2}), writeFile(2, 0, {3}))) == exception(0x15, 2));
  CHECK(run(join(writeFile(1, 0, {1, 2}), writeFile(1, 4, {3, 4}))) == exception(0x15, 2));
  CHECK(run(writeFile(1, 0, {1}, 7)) == exception(0x15, 2));
  CHECK(run(writeFile(0, 0, {1})) == exception(0x15, 2));
  CHECK(d1->files().getRecords(1, 0, 5) == std::vector<std::uint16_t>(5, 0));
  const Bytes two = join(writeFile(1, 0, {1, 2}), writeFile(1, 3, {4, 5}));
  CHECK(run(two) == two);
  CHECK(d1->files().getRecords(1, 0, 5) == std::vector<std::uint16_t>{1, 2, 0, 4, 5});
}

TEST_CASE_FIXTURE(Fixture, "FC 21 with a byte count outside 0x09..0xFB or sub-requests that do not tile it is 03") {
  d1->files().addFile(1, 200);
  Bytes shortCount = writeFile(1, 0, {1});
  shortCount[1] = 8;
  shortCount.pop_back();
  CHECK(run(shortCount) == exception(0x15, 3));
  Bytes lengthPastData = writeFile(1, 0, {1});
  lengthPastData[8] = 2;  // says two records, carries one
  CHECK(run(lengthPastData) == exception(0x15, 3));
  Bytes trailing = writeFile(1, 0, {1});
  trailing.push_back(0);
  trailing[1] = static_cast<std::uint8_t>(trailing.size() - 2);
  CHECK(run(trailing) == exception(0x15, 3));
  Bytes mismatch = writeFile(1, 0, {1});
  mismatch[1] = 20;
  CHECK(run(mismatch) == exception(0x15, 3));
  CHECK(d1->files().getRecords(1, 0, 1) == std::vector<std::uint16_t>{0});
}

// --- FC 24 ------------------------------------------------------------------------------------------

TEST_CASE_FIXTURE(Fixture, "FC 24 reads the queue, oldest first, without consuming it (spec example)") {
  d1->fifos().addQueue(0x04DE, {0x01B8, 0x1284});
  const Bytes expected{0x18, 0x00, 0x06, 0x00, 0x02, 0x01, 0xB8, 0x12, 0x84};
  CHECK(run({0x18, 0x04, 0xDE}) == expected);
  CHECK(run({0x18, 0x04, 0xDE}) == expected);
  d1->fifos().push(0x04DE, 0x0001);
  CHECK(d1->fifos().pop(0x04DE) == 0x01B8);
  CHECK(run({0x18, 0x04, 0xDE}) == Bytes{0x18, 0x00, 0x06, 0x00, 0x02, 0x12, 0x84, 0x00, 0x01});
}

TEST_CASE_FIXTURE(Fixture, "FC 24 reads an empty queue and up to 31 values; 32 is exception 03") {
  d1->fifos().addQueue(7);
  CHECK(run({0x18, 0x00, 0x07}) == Bytes{0x18, 0x00, 0x02, 0x00, 0x00});
  for (std::uint16_t i = 0; i < 31; ++i) d1->fifos().push(7, i);
  const Bytes full = run({0x18, 0x00, 0x07});
  REQUIRE(full.size() == 5 + 62);
  CHECK(readU16BE(&full[1]) == 64);
  CHECK(readU16BE(&full[3]) == 31);
  CHECK(readU16BE(&full[5 + 60]) == 30);
  d1->fifos().push(7, 31);
  CHECK(run({0x18, 0x00, 0x07}) == exception(0x18, 3));
  d1->fifos().pop(7);
  CHECK(run({0x18, 0x00, 0x07}).size() == 5 + 62);
}

TEST_CASE_FIXTURE(Fixture, "FC 24 at an address with no queue is 02; a PDU of the wrong length is 03") {
  d1->fifos().addQueue(7);
  CHECK(run({0x18, 0x00, 0x08}) == exception(0x18, 2));
  CHECK(run({0x18, 0x00, 0x07}, 2) == exception(0x18, 2));
  CHECK(run({0x18, 0x00}) == exception(0x18, 3));
  CHECK(run({0x18, 0x00, 0x07, 0x00}) == exception(0x18, 3));
}

// --- FC 43 / 14 -------------------------------------------------------------------------------------

// A device whose objects need three PDUs in extended stream access: small basic and regular objects,
// then three private objects of 200 bytes (202 on the wire each; a PDU carries 246 after its header).
void identify(DeviceContext& d) {
  auto& id = d.identity();
  id.setVendorName("Acme");
  id.setProductCode("P1");
  id.setMajorMinorRevision("1.0");
  id.setProductName("Pump");
  id.set(0x80, std::string(200, 'a'));
  id.set(0x81, std::string(200, 'b'));
  id.set(0x82, std::string(200, 'c'));
}

Bytes object(std::uint8_t id, const std::string& value) {
  Bytes out;
  out.reserve(2 + value.size());
  out.push_back(id);
  out.push_back(static_cast<std::uint8_t>(value.size()));
  for (char ch : value) out.push_back(static_cast<std::uint8_t>(ch));
  return out;
}

Bytes mei(std::uint8_t code, std::uint8_t conformity, std::uint8_t more, std::uint8_t next,
          std::initializer_list<Bytes> objects) {
  Bytes out{0x2B, 0x0E, code, conformity, more, next, static_cast<std::uint8_t>(objects.size())};
  for (const Bytes& o : objects) out.insert(out.end(), o.begin(), o.end());
  return out;
}

TEST_CASE_FIXTURE(Fixture, "FC 43/14 basic stream returns objects 0..2 (spec example shape)") {
  identify(*d1);
  CHECK(run({0x2B, 0x0E, 0x01, 0x00}) ==
        mei(0x01, 0x83, 0x00, 0x00, {object(0, "Acme"), object(1, "P1"), object(2, "1.0")}));
  // From object 1 on.
  CHECK(run({0x2B, 0x0E, 0x01, 0x01}) == mei(0x01, 0x83, 0x00, 0x00, {object(1, "P1"), object(2, "1.0")}));
}

TEST_CASE_FIXTURE(Fixture, "FC 43/14 regular stream returns the basic and regular objects") {
  identify(*d1);
  CHECK(run({0x2B, 0x0E, 0x02, 0x00}) ==
        mei(0x02, 0x83, 0x00, 0x00, {object(0, "Acme"), object(1, "P1"), object(2, "1.0"), object(4, "Pump")}));
  CHECK(run({0x2B, 0x0E, 0x02, 0x04}) == mei(0x02, 0x83, 0x00, 0x00, {object(4, "Pump")}));
}

TEST_CASE_FIXTURE(Fixture, "FC 43/14 extended stream pages with more-follows across three PDUs") {
  identify(*d1);
  const std::string a(200, 'a'), b(200, 'b'), c(200, 'c');
  CHECK(run({0x2B, 0x0E, 0x03, 0x00}) ==
        mei(0x03, 0x83, 0xFF, 0x81,
            {object(0, "Acme"), object(1, "P1"), object(2, "1.0"), object(4, "Pump"), object(0x80, a)}));
  CHECK(run({0x2B, 0x0E, 0x03, 0x81}) == mei(0x03, 0x83, 0xFF, 0x82, {object(0x81, b)}));
  CHECK(run({0x2B, 0x0E, 0x03, 0x82}) == mei(0x03, 0x83, 0x00, 0x00, {object(0x82, c)}));
}

TEST_CASE_FIXTURE(Fixture, "FC 43/14 stream access from an absent object restarts at object 0") {
  identify(*d1);
  const Bytes fromZero = run({0x2B, 0x0E, 0x02, 0x00});
  CHECK(run({0x2B, 0x0E, 0x02, 0x05}) == fromZero);   // ModelName absent
  CHECK(run({0x2B, 0x0E, 0x02, 0x80}) == fromZero);   // beyond the regular category
  CHECK(run({0x2B, 0x0E, 0x01, 0x03}) == run({0x2B, 0x0E, 0x01, 0x00}));
  CHECK(run({0x2B, 0x0E, 0x03, 0x90}) == run({0x2B, 0x0E, 0x03, 0x00}));
}

TEST_CASE_FIXTURE(Fixture, "FC 43/14 individual access returns one object; an absent one is 02") {
  identify(*d1);
  CHECK(run({0x2B, 0x0E, 0x04, 0x04}) == mei(0x04, 0x83, 0x00, 0x00, {object(4, "Pump")}));
  CHECK(run({0x2B, 0x0E, 0x04, 0x81}) == mei(0x04, 0x83, 0x00, 0x00, {object(0x81, std::string(200, 'b'))}));
  CHECK(run({0x2B, 0x0E, 0x04, 0x05}) == exception(0x2B, 2));
  CHECK(run({0x2B, 0x0E, 0x04, 0x07}) == exception(0x2B, 2));
  CHECK(run({0x2B, 0x0E, 0x04, 0x00}, 2) == mei(0x04, 0x81, 0x00, 0x00, {object(0, "")}));
}

TEST_CASE_FIXTURE(Fixture, "FC 43/14 with a read device id code other than 1..4 or a wrong length is 03") {
  CHECK(run({0x2B, 0x0E, 0x00, 0x00}) == exception(0x2B, 3));
  CHECK(run({0x2B, 0x0E, 0x05, 0x00}) == exception(0x2B, 3));
  CHECK(run({0x2B, 0x0E, 0x01}) == exception(0x2B, 3));
  CHECK(run({0x2B, 0x0E, 0x01, 0x00, 0x00}) == exception(0x2B, 3));
  CHECK(run({0x2B}) == exception(0x2B, 3));
}

TEST_CASE_FIXTURE(Fixture, "FC 43/13 (CANopen) and unknown MEI types are exception 01") {
  CHECK(run({0x2B, 0x0D, 0x00}) == exception(0x2B, 1));
  CHECK(run({0x2B, 0x0F, 0x01, 0x00}) == exception(0x2B, 1));
}

TEST_CASE_FIXTURE(Fixture, "FC 43/14 conformity level follows the device's objects") {
  CHECK(run({0x2B, 0x0E, 0x01, 0x00})[3] == 0x81);
  d1->identity().setVendorUrl("u");
  CHECK(run({0x2B, 0x0E, 0x01, 0x00})[3] == 0x82);
}

// --- per-device independence -----------------------------------------------------------------------

TEST_CASE_FIXTURE(Fixture, "identity, server id, exception status, files, FIFOs and counters belong to one device") {
  d1->identity().setVendorName("One");
  d2->identity().setVendorName("Two");
  d1->control().setServerId({1});
  d2->control().setServerId({2});
  d2->control().setExceptionStatus(0x22);
  d1->files().addFile(1, 1, 0x1111);
  d2->files().addFile(1, 1, 0x2222);
  d2->fifos().addQueue(1, {9});
  CHECK(run({0x2B, 0x0E, 0x04, 0x00}, 1) == mei(0x04, 0x81, 0, 0, {object(0, "One")}));
  CHECK(run({0x2B, 0x0E, 0x04, 0x00}, 2) == mei(0x04, 0x81, 0, 0, {object(0, "Two")}));
  CHECK(run({0x11}, 1) == Bytes{0x11, 2, 1, 0xFF});
  CHECK(run({0x11}, 2) == Bytes{0x11, 2, 2, 0xFF});
  CHECK(run({0x07}, 1) == Bytes{0x07, 0x00});
  CHECK(run({0x07}, 2) == Bytes{0x07, 0x22});
  CHECK(run(readFile({{1, 0, 1}}), 1) == Bytes{0x14, 4, 3, 6, 0x11, 0x11});
  CHECK(run(readFile({{1, 0, 1}}), 2) == Bytes{0x14, 4, 3, 6, 0x22, 0x22});
  CHECK(run({0x18, 0, 1}, 1) == exception(0x18, 2));
  CHECK(run({0x18, 0, 1}, 2) == Bytes{0x18, 0, 4, 0, 1, 0, 9});
  CHECK(counters(*d1) == Counters{5, 0, 1, 5, 0, 0, 0, 0});
  CHECK(counters(*d2) == Counters{5, 0, 0, 5, 0, 0, 0, 0});
  run(diag(0x04), 1);
  CHECK(run({0x0B}, 2) == Bytes{0x0B, 0, 0, 0, 5});
}

TEST_CASE("one device shared by two unit ids shares its counters and mode") {
  auto d = makeDevice();
  RequestProcessor p(ServerContext::multiple({{1, d}, {2, d}}));
  std::array<std::uint8_t, kMaxPduSize> response{};
  p.process(1, kReadOne, response);
  p.process(2, kReadOne, response);
  CHECK(d->control().counter(DiagnosticCounter::BusMessage) == 2);
  CHECK(p.process(1, diag(0x04), response) == 0);
  CHECK(p.process(2, kReadOne, response) == 0);
}

}  // namespace
TEST_CASE("deviceFunctions lists the device function codes, each a public code, and a processor has them all") {
  std::vector<std::uint8_t> codes;
  RequestProcessor processor(ServerContext::single(std::make_shared<DeviceContext>(DeviceTables{})));
  for (const DeviceFunction& f : deviceFunctions()) {
    codes.push_back(f.functionCode);
    CHECK(isKnownFunctionCode(f.functionCode));
    CHECK(processor.hasFunction(f.functionCode));
  }
  CHECK(codes == std::vector<std::uint8_t>{7, 8, 11, 12, 17, 20, 21, 24, 43});
}

}  // namespace modbus
