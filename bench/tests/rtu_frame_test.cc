// Tests for bench/loadgen/rtu_frame: CRC-16/MODBUS, RTU read requests, reply checks, line rate.
#include "bench/loadgen/rtu_frame.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

namespace doctest {
template <>
struct StringMaker<bench::RtuReplyStatus> {
  static String convert(bench::RtuReplyStatus s) { return bench::rtuReplyStatusName(s); }
};
}  // namespace doctest

using bench::RtuReadRequest;
using bench::RtuReplyStatus;

namespace {

std::vector<std::uint8_t> withCrc(std::vector<std::uint8_t> frame) {
  std::uint16_t crc = bench::crc16Modbus(frame);
  frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  frame.push_back(static_cast<std::uint8_t>(crc >> 8));
  return frame;
}

/// A correct FC3 reply to `r` whose register i holds i.
std::vector<std::uint8_t> goodReply(const RtuReadRequest& r) {
  std::vector<std::uint8_t> f{r.unit, r.function, static_cast<std::uint8_t>(2 * r.quantity)};
  for (std::uint16_t i = 0; i < r.quantity; ++i) {
    std::uint16_t v = static_cast<std::uint16_t>(r.address + i);
    f.push_back(static_cast<std::uint8_t>(v >> 8));
    f.push_back(static_cast<std::uint8_t>(v & 0xFF));
  }
  return withCrc(f);
}

}  // namespace

TEST_CASE("crc16Modbus matches the published check value and the guide's example") {
  const std::vector<std::uint8_t> check{'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  CHECK(bench::crc16Modbus(check) == 0x4B37);  // CRC-16/MODBUS check value
  // 01 03 00 00 00 0A -> CRC C5 CD (low byte first on the wire), a well-known frame.
  const std::vector<std::uint8_t> read10{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A};
  CHECK(bench::crc16Modbus(read10) == 0xCDC5);
  CHECK(bench::crc16Modbus({}) == 0xFFFF);
}

TEST_CASE("an FC3 x10 request is 8 bytes with the CRC low byte first") {
  RtuReadRequest r;  // unit 1, FC3, address 0, 10 registers
  auto bytes = r.encode();
  CHECK(bytes == std::array<std::uint8_t, 8>{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD});
  CHECK(r.replyLength() == 25);
  RtuReadRequest high{17, 4, 0x1234, 125};
  auto b = high.encode();
  CHECK(b[0] == 17);
  CHECK(b[1] == 4);
  CHECK(b[2] == 0x12);
  CHECK(b[3] == 0x34);
  CHECK(b[5] == 125);
  CHECK(high.replyLength() == 255);
}

TEST_CASE("requests out of the spec's range are refused") {
  CHECK_THROWS_AS((RtuReadRequest{1, 6, 0, 1}.encode()), std::invalid_argument);
  CHECK_THROWS_AS((RtuReadRequest{1, 3, 0, 0}.encode()), std::invalid_argument);
  CHECK_THROWS_AS((RtuReadRequest{1, 3, 0, 126}.encode()), std::invalid_argument);
  CHECK_THROWS_AS((RtuReadRequest{0, 3, 0, 1}.encode()), std::invalid_argument);    // broadcast: no reply
  CHECK_THROWS_AS((RtuReadRequest{248, 3, 0, 1}.encode()), std::invalid_argument);  // reserved
  CHECK_THROWS_AS((RtuReadRequest{1, 3, 65530, 10}.encode()), std::invalid_argument);
  CHECK_NOTHROW((RtuReadRequest{1, 3, 65526, 10}.encode()));
}

TEST_CASE("a correct reply passes, byte by byte it needs more") {
  RtuReadRequest r{1, 3, 100, 10};
  auto reply = goodReply(r);
  REQUIRE(reply.size() == 25);
  CHECK(bench::checkRtuReply(r, reply, true) == RtuReplyStatus::Ok);
  for (std::size_t n = 0; n < reply.size(); ++n) {
    CHECK(bench::checkRtuReply(r, std::span(reply).first(n), true) == RtuReplyStatus::NeedMore);
  }
}

TEST_CASE("reply checks: CRC, unit, function, byte count, content, length") {
  RtuReadRequest r{1, 3, 0, 10};
  auto reply = goodReply(r);

  auto badCrc = reply;
  badCrc.back() ^= 0x01;
  CHECK(bench::checkRtuReply(r, badCrc, true) == RtuReplyStatus::BadCrc);

  auto flipped = reply;  // a data bit flipped in transit: the CRC catches it
  flipped[5] ^= 0x10;
  CHECK(bench::checkRtuReply(r, flipped, true) == RtuReplyStatus::BadCrc);

  std::vector<std::uint8_t> body(reply.begin(), reply.end() - 2);
  auto other = body;
  other[0] = 2;
  CHECK(bench::checkRtuReply(r, withCrc(other), true) == RtuReplyStatus::WrongUnit);
  other = body;
  other[1] = 4;
  CHECK(bench::checkRtuReply(r, withCrc(other), true) == RtuReplyStatus::WrongFunction);

  auto wrongValue = body;
  wrongValue[4] = 0x63;  // register 0 holds 99 instead of 0
  CHECK(bench::checkRtuReply(r, withCrc(wrongValue), true) == RtuReplyStatus::BadValue);
  CHECK(bench::checkRtuReply(r, withCrc(wrongValue), false) == RtuReplyStatus::Ok);

  // A short byte count is reported as soon as it shows, not after a timeout.
  std::vector<std::uint8_t> shortCount{1, 3, 18};
  CHECK(bench::checkRtuReply(r, shortCount, true) == RtuReplyStatus::BadByteCount);

  auto tooLong = reply;
  tooLong.push_back(0);
  CHECK(bench::checkRtuReply(r, tooLong, true) == RtuReplyStatus::TooLong);
}

TEST_CASE("an exception reply is recognised at 5 bytes") {
  RtuReadRequest r{1, 3, 0, 10};
  auto ex = withCrc({1, 0x83, 0x02});
  CHECK(bench::checkRtuReply(r, std::span(ex).first(4), true) == RtuReplyStatus::NeedMore);
  CHECK(bench::checkRtuReply(r, ex, true) == RtuReplyStatus::Exception);
  ex[2] = 0x03;  // CRC no longer matches
  CHECK(bench::checkRtuReply(r, ex, true) == RtuReplyStatus::BadCrc);
}

TEST_CASE("line rate at 115200 baud for FC3 x10: 11-bit and 10-bit characters") {
  // 8E1: 33 characters x 11 bits / 115200 = 3.151 ms, plus 2 x t3.5 (fixed 1.75 ms above 19200).
  auto e = bench::rtuLineRate(115200, 11, 8, 25);
  CHECK(e.characterSeconds == doctest::Approx(11.0 / 115200));
  CHECK(e.t35Seconds == doctest::Approx(1.75e-3));
  CHECK(e.secondsPerPair == doctest::Approx(33 * 11.0 / 115200 + 3.5e-3));
  CHECK(e.pairsPerSecond == doctest::Approx(150.35).epsilon(0.001));
  // 8N1: 10-bit characters.
  auto n = bench::rtuLineRate(115200, 10, 8, 25);
  CHECK(n.pairsPerSecond == doctest::Approx(1.0 / (33 * 10.0 / 115200 + 3.5e-3)));
  CHECK(n.pairsPerSecond > e.pairsPerSecond);
}

TEST_CASE("line rate at or below 19200 baud uses 3.5 characters for t3.5") {
  auto r = bench::rtuLineRate(9600, 11, 8, 25);
  CHECK(r.t35Seconds == doctest::Approx(3.5 * 11 / 9600.0));
  CHECK(r.secondsPerPair == doctest::Approx(33 * 11 / 9600.0 + 7 * 11 / 9600.0));
  auto at19200 = bench::rtuLineRate(19200, 11, 8, 25);
  CHECK(at19200.t35Seconds == doctest::Approx(3.5 * 11 / 19200.0));  // not above 19200: not fixed
  CHECK_THROWS_AS(bench::rtuLineRate(0, 11, 8, 25), std::invalid_argument);
  CHECK_THROWS_AS(bench::rtuLineRate(9600, 13, 8, 25), std::invalid_argument);
}
