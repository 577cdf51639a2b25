// Tests for protocols/application/device_functions.h through RequestProcessor::process with raw PDUs: FC 7, 8
// (every sub-function), 11, 12, 17, the counters (as exact changes), the event log and listen-only
// mode (FC 20, 21, 24, 43 and the independence of devices: device_data_functions_test.cc). Examples marked "spec" are those of the Modbus
// Application Protocol v1.1b3 §6.
#include "protocols/application/device_functions.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tests/protocols/application/device_fixture.h"

namespace modbus {
namespace {

using namespace devicetest;

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

TEST_CASE("changesDeviceState is true exactly for FC 8 sub-functions 01, 03, 04, 0A and 14") {
  for (unsigned sub = 0; sub <= 0x16; ++sub) {
    const Bytes request{0x08, 0x00, static_cast<std::uint8_t>(sub), 0x00, 0x00};
    const bool expected = sub == 0x01 || sub == 0x03 || sub == 0x04 || sub == 0x0A || sub == 0x14;
    CHECK_MESSAGE(changesDeviceState(request) == expected, "sub-function ", sub);
  }
  CHECK_FALSE(changesDeviceState(Bytes{0x03, 0x00, 0x04, 0x00, 0x00}));  // FC 3, same bytes after the code
  CHECK_FALSE(changesDeviceState(Bytes{0x08, 0x00}));                    // no whole sub-function
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

TEST_CASE_FIXTURE(Fixture, "FC 8/03 sets the ASCII input delimiter and echoes, a non-zero low byte is 03") {
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
