// Tests for bench/loadgen/modbus_request: request ADUs, MBAP splitting, and reply validation.
#include "bench/loadgen/modbus_request.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "reactor/bytes.h"

namespace doctest {
template <>
struct StringMaker<bench::ReplyError> {
  static String convert(bench::ReplyError error) { return bench::replyErrorName(error); }
};
}  // namespace doctest

using bench::checkReply;
using bench::FrameSplit;
using bench::ReplyError;
using bench::RequestSpec;
using bench::RequestTemplate;

namespace {

std::vector<std::uint8_t> adu(const RequestTemplate& t, std::uint16_t tid) {
  std::vector<std::uint8_t> out(t.size());
  t.writeTo(out.data(), tid);
  return out;
}

std::vector<std::uint8_t> reply(std::uint16_t tid, std::uint8_t unit, const std::vector<std::uint8_t>& pdu) {
  const std::size_t length = pdu.size() + 1;
  std::vector<std::uint8_t> out(7 + pdu.size());
  out[0] = static_cast<std::uint8_t>(tid >> 8);
  out[1] = static_cast<std::uint8_t>(tid);
  out[4] = static_cast<std::uint8_t>(length >> 8);
  out[5] = static_cast<std::uint8_t>(length);
  out[6] = unit;
  for (std::size_t i = 0; i < pdu.size(); ++i) out[7 + i] = pdu[i];
  return out;
}

std::string hex(const std::vector<std::uint8_t>& bytes) { return reactor::toHex(bytes); }

}  // namespace

TEST_CASE("request template encodes an FC3 read with the transaction id patched in") {
  RequestTemplate t(RequestSpec{3, 10, 0x0102, 1}, 5);
  CHECK(hex(adu(t, 0xABCD)) == "ab cd 00 00 00 06 05 03 01 02 00 0a");
}

TEST_CASE("request template encodes the write function codes") {
  CHECK(hex(adu(RequestTemplate({5, 1, 7, 1}, 1), 1)) == "00 01 00 00 00 06 01 05 00 07 ff 00");
  CHECK(hex(adu(RequestTemplate({6, 1, 7, 1}, 1), 1)) == "00 01 00 00 00 06 01 06 00 07 12 34");
  CHECK(hex(adu(RequestTemplate({15, 10, 0, 1}, 1), 2)) == "00 02 00 00 00 09 01 0f 00 00 00 0a 02 55 01");
  CHECK(hex(adu(RequestTemplate({16, 2, 0, 1}, 1), 3)) == "00 03 00 00 00 0b 01 10 00 00 00 02 04 00 00 00 01");
  RequestTemplate big({16, 123, 0, 1}, 1);
  CHECK(big.size() == 7 + 6 + 246);
}

TEST_CASE("split frame waits for the whole ADU and rejects impossible lengths") {
  std::vector<std::uint8_t> frame = reply(1, 1, {3, 2, 0, 0});
  CHECK(bench::splitFrame(std::span(frame).first(5)).status == FrameSplit::Status::NeedMore);
  CHECK(bench::splitFrame(std::span(frame).first(frame.size() - 1)).status == FrameSplit::Status::NeedMore);
  auto whole = bench::splitFrame(frame);
  CHECK(whole.status == FrameSplit::Status::Complete);
  CHECK(whole.size == frame.size());
  std::vector<std::uint8_t> bad{0, 1, 0, 0, 0x01, 0x00, 1};
  CHECK(bench::splitFrame(bad).status == FrameSplit::Status::Garbage);
  std::vector<std::uint8_t> tiny{0, 1, 0, 0, 0, 1, 1};
  CHECK(bench::splitFrame(tiny).status == FrameSplit::Status::Garbage);
}

TEST_CASE("check reply accepts a consistent FC3 answer and names each inconsistency") {
  RequestTemplate t({3, 2, 0, 1}, 1);
  CHECK(checkReply(t, reply(1, 1, {3, 4, 0, 1, 0, 2})) == ReplyError::None);
  CHECK(checkReply(t, reply(1, 2, {3, 4, 0, 1, 0, 2})) == ReplyError::WrongUnit);
  CHECK(checkReply(t, reply(1, 1, {0x83, 2})) == ReplyError::ExceptionResponse);
  CHECK(checkReply(t, reply(1, 1, {4, 4, 0, 1, 0, 2})) == ReplyError::WrongFunction);
  CHECK(checkReply(t, reply(1, 1, {3, 2, 0, 1})) == ReplyError::BadByteCount);
  CHECK(checkReply(t, reply(1, 1, {3, 4, 0, 1, 0})) == ReplyError::BadLength);
  CHECK(checkReply(t, reply(1, 1, {3})) == ReplyError::BadLength);
  auto wrongProtocol = reply(1, 1, {3, 4, 0, 1, 0, 2});
  wrongProtocol[3] = 1;
  CHECK(checkReply(t, wrongProtocol) == ReplyError::BadProtocolId);
}

TEST_CASE("check reply verifies coil byte counts and zero padding") {
  RequestTemplate t({1, 10, 0, 1}, 1);
  CHECK(checkReply(t, reply(1, 1, {1, 2, 0xFF, 0x03})) == ReplyError::None);
  CHECK(checkReply(t, reply(1, 1, {1, 2, 0xFF, 0x07})) == ReplyError::BadPadding);
  CHECK(checkReply(t, reply(1, 1, {1, 1, 0xFF})) == ReplyError::BadByteCount);
  RequestTemplate eight({2, 8, 0, 1}, 1);
  CHECK(checkReply(eight, reply(1, 1, {2, 1, 0xFF})) == ReplyError::None);
}

TEST_CASE("check reply requires write replies to echo the request") {
  RequestTemplate t({16, 2, 9, 1}, 1);
  CHECK(checkReply(t, reply(1, 1, {16, 0, 9, 0, 2})) == ReplyError::None);
  CHECK(checkReply(t, reply(1, 1, {16, 0, 9, 0, 3})) == ReplyError::BadEcho);
  CHECK(checkReply(t, reply(1, 1, {16, 0, 9, 0, 2, 0})) == ReplyError::BadLength);
  RequestTemplate single({6, 1, 4, 1}, 1);
  CHECK(checkReply(single, reply(1, 1, {6, 0, 4, 0x12, 0x34})) == ReplyError::None);
  CHECK(checkReply(single, reply(1, 1, {6, 0, 4, 0x12, 0x35})) == ReplyError::BadEcho);
}
