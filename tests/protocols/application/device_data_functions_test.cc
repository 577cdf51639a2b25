// Tests for protocols/application/device_functions.h, the data-carrying device codes through
// RequestProcessor::process with raw PDUs: FC 20 and 21 (file records), 24 (FIFO queue) and 43/14
// (device identification), and the independence of devices. Examples marked "spec" are those of the Modbus Application Protocol v1.1b3 §6.
#include "protocols/application/device_functions.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "tests/protocols/application/device_fixture.h"

namespace modbus {
namespace {

using namespace devicetest;

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

TEST_CASE_FIXTURE(Fixture, "FC 24 reads an empty queue and up to 31 values, 32 is exception 03") {
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

TEST_CASE_FIXTURE(Fixture, "FC 24 at an address with no queue is 02, a PDU of the wrong length is 03") {
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

TEST_CASE_FIXTURE(Fixture, "FC 43/14 individual access returns one object, an absent one is 02") {
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
}  // namespace modbus
