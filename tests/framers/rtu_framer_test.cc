// Tests for framers/rtu_framer.h: RTU request decode (lengths, CRC, resync, gaps), responseLength, encode.
#include "framers/rtu_framer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "framers/bytes_be.h"
#include "framers/crc16.h"
#include "tests/framers/decode_loop.h"

namespace modbus {
namespace {

using test::Bytes;
using test::concat;
using test::DecodeLoop;
using test::hexBytes;
using test::Seen;

// The spec's read holding registers request: unit 1, 3 registers at 0x006B, CRC 74 17.
const Bytes kReadRequest = hexBytes("01 03 00 6B 00 03 74 17");
const Seen kReadSeen{0x01, hexBytes("03 00 6B 00 03"), 0};
// Write single register: unit 0x11, CRC 9A 9B.
const Bytes kWriteRequest = hexBytes("11 06 00 01 00 03 9A 9B");
const Seen kWriteSeen{0x11, hexBytes("06 00 01 00 03"), 0};

/// unit + PDU + CRC (computed).
Bytes adu(std::uint8_t unit, const Bytes& pdu) {
  Bytes out(1 + pdu.size());  // not {unit} + insert: g++ 12 -O3 reports a false array-bounds there
  out[0] = unit;
  std::copy(pdu.begin(), pdu.end(), out.begin() + 1);
  std::uint8_t crc[2];
  writeU16LE(crc, crc16(out));
  out.push_back(crc[0]);
  out.push_back(crc[1]);
  return out;
}

/// One request PDU per default function code, with its length rule exercised.
const std::vector<Bytes> kRequestPdus{
    hexBytes("01 00 13 00 25"),                                      // read coils
    hexBytes("02 00 C4 00 16"),                                      // read discrete inputs
    hexBytes("03 00 6B 00 03"),                                      // read holding registers
    hexBytes("04 00 08 00 01"),                                      // read input registers
    hexBytes("05 00 AC FF 00"),                                      // write single coil
    hexBytes("06 00 01 00 03"),                                      // write single register
    hexBytes("07"),                                                  // read exception status
    hexBytes("08 00 00 A5 37"),                                      // diagnostics, return query data
    hexBytes("0B"),                                                  // get comm event counter
    hexBytes("0C"),                                                  // get comm event log
    hexBytes("0F 00 13 00 0A 02 CD 01"),                             // write multiple coils
    hexBytes("10 00 01 00 02 04 00 0A 01 02"),                       // write multiple registers
    hexBytes("11"),                                                  // report server id
    hexBytes("14 0E 06 00 04 00 01 00 02 06 00 03 00 09 00 02"),     // read file record
    hexBytes("15 0D 06 00 04 00 07 00 03 06 AF 04 BE 10 0D"),        // write file record
    hexBytes("16 00 04 00 F2 00 25"),                                // mask write register
    hexBytes("17 00 03 00 06 00 0E 00 03 06 00 FF 00 FF 00 FF"),     // read/write multiple registers
    hexBytes("18 04 DE"),                                            // read FIFO queue
    hexBytes("2B 0E 01 00"),                                         // read device identification
};

std::vector<Seen> expectedFor(const std::vector<Bytes>& pdus, std::uint8_t unit) {
  std::vector<Seen> out;
  for (const Bytes& pdu : pdus) out.push_back({unit, pdu, 0});
  return out;
}

Bytes allRequests(std::uint8_t unit) {
  Bytes out;
  for (const Bytes& pdu : kRequestPdus) {
    const Bytes frame = adu(unit, pdu);
    out.insert(out.end(), frame.begin(), frame.end());
  }
  return out;
}

}  // namespace

// --- decode: known lengths --------------------------------------------------------------------

TEST_CASE("rtu framer decodes the spec's read holding registers request fed whole") {
  RtuFramer framer;
  const DecodeResult r = framer.decode(kReadRequest);
  REQUIRE(r.status == DecodeStatus::Frame);
  CHECK(r.consumed == 8);
  CHECK(r.header.unitId == 1);
  CHECK(r.header.transactionId == 0);
  CHECK(Bytes(r.pdu.begin(), r.pdu.end()) == hexBytes("03 00 6B 00 03"));
  CHECK(r.pdu.data() == kReadRequest.data() + 1);  // a view into the input
}

TEST_CASE("rtu framer needs more until every byte of a known-length frame arrived") {
  RtuFramer framer;
  const std::span<const std::uint8_t> all(kReadRequest);
  for (std::size_t n = 0; n < all.size(); ++n) {
    const DecodeResult r = framer.decode(all.first(n));
    CHECK(r.status == DecodeStatus::NeedMore);
    CHECK(r.consumed == 0);
  }
}

TEST_CASE("rtu framer measures every standard request from its function code and byte count") {
  for (const Bytes& pdu : kRequestPdus) {
    CAPTURE(int{pdu[0]});
    RtuFramer framer;
    DecodeLoop loop(framer);
    test::feedByteByByte(loop, adu(0x22, pdu));
    CHECK(loop.frames() == std::vector<Seen>{Seen{0x22, pdu, 0}});
    CHECK(loop.events().size() == 1);
  }
}

TEST_CASE("rtu framer answers every frame of a pipelined batch in order") {
  RtuFramer framer;
  DecodeLoop loop(framer);
  loop.feed(concat({allRequests(1), allRequests(2), allRequests(3)}));
  std::vector<Seen> expected = expectedFor(kRequestPdus, 1);
  for (std::uint8_t unit : {2, 3}) {
    const auto more = expectedFor(kRequestPdus, unit);
    expected.insert(expected.end(), more.begin(), more.end());
  }
  CHECK(loop.frames() == expected);
  CHECK(loop.count(DecodeStatus::Discard) == 0);
}

TEST_CASE("rtu framer decodes the same frames at random split points") {
  const Bytes stream = concat({kReadRequest, allRequests(7), kWriteRequest});
  std::vector<Seen> expected{kReadSeen};
  const auto middle = expectedFor(kRequestPdus, 7);
  expected.insert(expected.end(), middle.begin(), middle.end());
  expected.push_back(kWriteSeen);
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    RtuFramer framer;
    DecodeLoop loop(framer);
    test::feedCuts(loop, stream, test::randomCuts(rng, stream.size(), 24));
    CHECK(loop.frames() == expected);
  }
}

TEST_CASE("rtu framer decodes broadcast and any unit id without filtering") {
  for (unsigned unit : {0U, 1U, 247U, 255U}) {
    RtuFramer framer;
    DecodeLoop loop(framer);
    loop.feed(adu(static_cast<std::uint8_t>(unit), hexBytes("06 00 01 00 03")));
    CHECK(loop.frames() == std::vector<Seen>{Seen{static_cast<std::uint8_t>(unit), hexBytes("06 00 01 00 03"), 0}});
  }
}

TEST_CASE("rtu framer takes the largest legal write multiple registers frame") {
  Bytes pdu = hexBytes("10 00 00 00 7B F6");  // 123 registers, 246 bytes: PDU 252 bytes
  pdu.resize(pdu.size() + 246, 0xA5);
  RtuFramer framer;
  DecodeLoop loop(framer);
  loop.feed(adu(1, pdu));
  CHECK(loop.frames() == std::vector<Seen>{Seen{1, pdu, 0}});
}

// --- decode: corruption and resynchronisation ---------------------------------------------------

TEST_CASE("rtu framer drops one byte on a CRC mismatch, never the whole buffer") {
  RtuFramer framer;
  Bytes bad = kReadRequest;
  bad[7] ^= 0x01;
  const DecodeResult r = framer.decode(concat({bad, kWriteRequest}));
  CHECK(r.status == DecodeStatus::Discard);
  CHECK(r.consumed == 1);
  CHECK(std::string_view(r.reason) == "RTU CRC mismatch");
}

TEST_CASE("rtu framer serves the good frame behind a corrupted one without waiting for a gap") {
  Bytes bad = kReadRequest;
  bad[7] ^= 0x0F;  // corrupt the CRC: resynchronisation hunts past the unknown codes inside it
  std::mt19937 rng(55);
  for (int round = 0; round < 100; ++round) {
    RtuFramer framer;
    DecodeLoop loop(framer);
    const Bytes stream = concat({bad, kReadRequest, kWriteRequest});
    test::feedCuts(loop, stream, test::randomCuts(rng, stream.size()));
    CHECK(loop.frames() == std::vector<Seen>{kReadSeen, kWriteSeen});
    CHECK(loop.discardedBytes() == bad.size());
    CHECK(loop.count(DecodeStatus::Discard) == bad.size());  // one byte at a time
  }
}

TEST_CASE("rtu framer serves the good frames behind a corrupted one once the gap is marked") {
  // A corrupted payload can make resynchronisation read a long frame length that the bytes at hand
  // do not fill; the gap settles it.
  Bytes bad = kReadRequest;
  bad[4] ^= 0x40;
  std::mt19937 rng(56);
  for (int round = 0; round < 100; ++round) {
    RtuFramer framer;
    DecodeLoop loop(framer);
    const Bytes stream = concat({bad, kReadRequest, kWriteRequest});
    test::feedCuts(loop, stream, test::randomCuts(rng, stream.size()));
    framer.markFrameGap();
    loop.drain();
    CHECK(loop.frames() == std::vector<Seen>{kReadSeen, kWriteSeen});
    CHECK(loop.discardedBytes() == bad.size());
    CHECK(loop.input().readableBytes() == 0);
  }
}

TEST_CASE("rtu framer finds a frame behind a noise byte") {
  RtuFramer framer;
  DecodeLoop loop(framer);
  loop.feed(concat({hexBytes("FF"), kReadRequest}));
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
  CHECK(loop.discardedBytes() == 1);
}

TEST_CASE("rtu framer drops one byte when a byte count makes the PDU longer than 253 bytes") {
  RtuFramer framer;
  const Bytes frame = hexBytes("01 10 00 00 00 7D FA");  // byte count 250: PDU 256 bytes
  const DecodeResult r = framer.decode(frame);
  CHECK(r.status == DecodeStatus::Discard);
  CHECK(r.consumed == 1);
}

TEST_CASE("rtu framer waits for more bytes on an unknown function code with no gap") {
  RtuFramer framer;
  const Bytes custom = adu(1, hexBytes("41 AA BB"));
  CHECK(framer.decode(custom).status == DecodeStatus::NeedMore);
}

TEST_CASE("rtu framer cannot be wedged by unknown function codes: over 256 bytes without a gap resync") {
  RtuFramer framer;
  DecodeLoop loop(framer);
  loop.feed(Bytes(256, 0x00));  // unit 0, function code 0: no rule; could still be one largest frame
  CHECK(loop.events().empty());
  loop.feed(Bytes(44, 0x00));
  CHECK(loop.discardedBytes() == 299);  // the first discard starts resynchronisation; 1 byte waits
  loop.feed(kReadRequest);
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
  CHECK(loop.discardedBytes() == 300);
}

TEST_CASE("rtu framer survives random bytes at random splits and serves the frame after the gap") {
  std::mt19937 rng(4242);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 300; ++round) {
    Bytes noise(1 + round % 300);
    for (auto& b : noise) b = static_cast<std::uint8_t>(byte(rng));
    RtuFramer framer;
    DecodeLoop loop(framer);  // checks the Framer contract on every result
    test::feedCuts(loop, noise, test::randomCuts(rng, noise.size()));
    CHECK(loop.input().readableBytes() <= RtuFramer::kMaxAduSize);  // never holds more than one ADU
    framer.markFrameGap();
    loop.drain();
    CHECK(loop.input().readableBytes() == 0);  // a gap consumes everything before it
    const std::size_t before = loop.frames().size();
    loop.feed(kReadRequest);
    REQUIRE(loop.frames().size() == before + 1);
    CHECK(loop.frames().back() == kReadSeen);
  }
}

// --- decode: inter-frame gap and length rules ----------------------------------------------------

TEST_CASE("rtu framer takes an unknown function code frame whole once the gap is marked") {
  RtuFramer framer;
  DecodeLoop loop(framer);
  const Bytes custom = adu(5, hexBytes("41 AA BB CC"));
  test::feedByteByByte(loop, custom);
  CHECK(loop.events().empty());
  framer.markFrameGap();
  loop.drain();
  CHECK(loop.frames() == std::vector<Seen>{Seen{5, hexBytes("41 AA BB CC"), 0}});
  CHECK(loop.input().readableBytes() == 0);
}

TEST_CASE("rtu framer discards an unknown frame whose CRC fails at the gap, then serves the next") {
  RtuFramer framer;
  DecodeLoop loop(framer);
  Bytes custom = adu(5, hexBytes("41 AA BB CC"));
  custom.back() ^= 0xFF;
  loop.feed(custom);
  framer.markFrameGap();
  loop.drain();
  CHECK(loop.frames().empty());
  CHECK(loop.discardedBytes() == custom.size());
  loop.feed(kWriteRequest);
  CHECK(loop.frames() == std::vector<Seen>{kWriteSeen});
}

TEST_CASE("rtu framer discards a truncated known frame at the gap") {
  RtuFramer framer;
  DecodeLoop loop(framer);
  loop.feed(std::span<const std::uint8_t>(kReadRequest).first(6));
  CHECK(loop.events().empty());
  framer.markFrameGap();
  loop.drain();
  CHECK(loop.discardedBytes() == 6);
  CHECK(loop.frames().empty());
  loop.feed(kReadRequest);
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
}

TEST_CASE("rtu framer discards a fragment shorter than a frame at the gap in one go") {
  RtuFramer framer;
  for (std::size_t n = 1; n < RtuFramer::kMinAduSize; ++n) {
    framer.markFrameGap();
    const DecodeResult r = framer.decode(std::span<const std::uint8_t>(kReadRequest).first(n));
    CHECK(r.status == DecodeStatus::Discard);
    CHECK(r.consumed == n);
    framer.reset();
  }
}

TEST_CASE("rtu framer serves known frames before the gap and discards trailing garbage") {
  RtuFramer framer;
  DecodeLoop loop(framer);
  loop.feed(concat({kReadRequest, kWriteRequest, hexBytes("01 03 00")}));
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen, kWriteSeen});
  framer.markFrameGap();
  loop.drain();
  CHECK(loop.discardedBytes() == 3);
  CHECK(loop.input().readableBytes() == 0);
}

TEST_CASE("rtu framer forgets the gap once it has drained, so the next partial frame waits") {
  RtuFramer framer;
  DecodeLoop loop(framer);
  loop.feed(kReadRequest);
  framer.markFrameGap();
  loop.drain();  // empty input: NeedMore clears the gap
  loop.feed(std::span<const std::uint8_t>(kWriteRequest).first(4));
  CHECK(loop.discardedBytes() == 0);
  loop.feed(std::span<const std::uint8_t>(kWriteRequest).subspan(4));
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen, kWriteSeen});
}

TEST_CASE("rtu framer reset forgets a pending gap") {
  RtuFramer framer;
  const Bytes custom = adu(5, hexBytes("41 AA"));
  framer.markFrameGap();
  framer.reset();
  CHECK(framer.decode(custom).status == DecodeStatus::NeedMore);
}

TEST_CASE("rtu framer finds a good frame after a corrupted one when the gap follows both") {
  // A custom function code cannot be hunted for without a gap: the gap finds it.
  RtuFramer framer;
  DecodeLoop loop(framer);
  loop.feed(hexBytes("FF"));
  framer.markFrameGap();
  loop.drain();
  const Bytes custom = adu(9, hexBytes("44 01 02 03"));
  loop.feed(concat({hexBytes("07"), custom}));  // noise byte stuck to the frame
  framer.markFrameGap();
  loop.drain();
  CHECK(loop.frames() == std::vector<Seen>{Seen{9, hexBytes("44 01 02 03"), 0}});
  CHECK(loop.discardedBytes() == 2);
}

TEST_CASE("rtu framer uses a fixed length rule registered for a custom function code") {
  RtuFramer framer;
  framer.setLengthRule(0x41, LengthRule::fixedPdu(4));
  CHECK(framer.lengthRule(0x41) == LengthRule::fixedPdu(4));
  DecodeLoop loop(framer);
  const Bytes custom = adu(1, hexBytes("41 AA BB CC"));
  loop.feed(concat({custom, custom}));
  CHECK(loop.frames() == std::vector<Seen>{Seen{1, hexBytes("41 AA BB CC"), 0}, Seen{1, hexBytes("41 AA BB CC"), 0}});
}

TEST_CASE("rtu framer uses a byte count length rule registered for a custom function code") {
  RtuFramer framer;
  framer.setLengthRule(0x42, LengthRule::byteCount(2, 3));  // fc, sub-code, byte count, data
  const Bytes pdu = hexBytes("42 01 03 AA BB CC");
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    DecodeLoop loop(framer);
    const Bytes stream = concat({adu(1, pdu), kReadRequest});
    test::feedCuts(loop, stream, test::randomCuts(rng, stream.size()));
    CHECK(loop.frames() == std::vector<Seen>{Seen{1, pdu, 0}, kReadSeen});
  }
}

TEST_CASE("rtu framer makes FC 8 gap-delimited when its rule is set to untilGap") {
  RtuFramer framer;
  framer.setLengthRule(8, LengthRule::untilGap());
  const Bytes pdu = hexBytes("08 00 00 01 02 03 04 05 06");  // return query data, 6 bytes
  DecodeLoop loop(framer);
  test::feedByteByByte(loop, adu(1, pdu));
  CHECK(loop.events().empty());
  framer.markFrameGap();
  loop.drain();
  CHECK(loop.frames() == std::vector<Seen>{Seen{1, pdu, 0}});
}

TEST_CASE("rtu framer treats an impossible fixed rule as garbage") {
  RtuFramer framer;
  framer.setLengthRule(0x41, LengthRule::fixedPdu(0));
  const DecodeResult r = framer.decode(adu(1, hexBytes("41")));
  CHECK(r.status == DecodeStatus::Discard);
  CHECK(r.consumed == 1);
}

// --- responseLength ---------------------------------------------------------------------------

TEST_CASE("rtu responseLength knows exception responses are 5 bytes") {
  RtuFramer framer;
  CHECK(framer.responseLength(hexBytes("0A 83")) == 5u);
  CHECK(framer.responseLength(hexBytes("0A 90 02")) == 5u);
}

TEST_CASE("rtu responseLength measures read responses from their byte count") {
  RtuFramer framer;
  for (std::uint8_t fc : {1, 2, 3, 4, 12, 17, 20, 21, 23}) {
    CAPTURE(int{fc});
    CHECK(framer.responseLength(Bytes{0x01, fc, 0x06}) == 3u + 6u + 2u);
    CHECK_FALSE(framer.responseLength(Bytes{0x01, fc}).has_value());  // byte count not here yet
  }
  CHECK(framer.responseLength(hexBytes("01 03 02 00 0A 38 43")) == 7u);
}

TEST_CASE("rtu responseLength knows the fixed-size responses") {
  RtuFramer framer;
  for (std::uint8_t fc : {5, 6, 8, 11, 15, 16}) {
    CAPTURE(int{fc});
    CHECK(framer.responseLength(Bytes{0x01, fc}) == 8u);
  }
  CHECK(framer.responseLength(hexBytes("01 07")) == 5u);
  CHECK(framer.responseLength(hexBytes("01 16")) == 10u);
}

TEST_CASE("rtu responseLength reads the 16-bit byte count of a FIFO queue response") {
  RtuFramer framer;
  CHECK(framer.responseLength(hexBytes("01 18 00 06 00 02 01 B8 12 84")) == 1u + 3u + 6u + 2u);
  CHECK_FALSE(framer.responseLength(hexBytes("01 18 00")).has_value());
  CHECK_FALSE(framer.responseLength(hexBytes("01 18 01 00")).has_value());  // 256 + ... > 256 bytes
}

TEST_CASE("rtu responseLength walks the objects of a read device identification response") {
  RtuFramer framer;
  // fc 2B, MEI 0E, code 01, conformity 01, more 00, next 00, 3 objects: "Co" "P1" "V2.1"
  const Bytes pdu = hexBytes("2B 0E 01 01 00 00 03  00 02 43 6F  01 02 50 31  02 04 56 32 2E 31");
  const Bytes frame = adu(1, pdu);
  CHECK(framer.responseLength(frame) == frame.size());
  CHECK_FALSE(framer.responseLength(std::span<const std::uint8_t>(frame).first(12)).has_value());
  CHECK_FALSE(framer.responseLength(hexBytes("01 2B 0D 01 01 00 00 00")).has_value());  // MEI 13
}

TEST_CASE("rtu responseLength does not know unknown codes unless told") {
  RtuFramer framer;
  CHECK_FALSE(framer.responseLength(hexBytes("01 41 00 00")).has_value());
  CHECK_FALSE(framer.responseLength(hexBytes("01")).has_value());
  CHECK_FALSE(framer.responseLength({}).has_value());
  framer.setResponseLengthRule(0x41, LengthRule::byteCount(1, 2));
  CHECK(framer.responseLength(hexBytes("01 41 04")) == 9u);
}

TEST_CASE("rtu responseLength lets a multidrop server skip another device's response") {
  RtuFramer framer;
  const Bytes response = adu(2, hexBytes("03 02 00 0A"));
  const Bytes stream = concat({response, kReadRequest});
  const auto skip = framer.responseLength(stream);
  REQUIRE(skip.has_value());
  CHECK(*skip == response.size());
  CHECK(framer.decode(std::span<const std::uint8_t>(stream).subspan(*skip)).status == DecodeStatus::Frame);
}

// --- encode -------------------------------------------------------------------------------------

TEST_CASE("rtu framer encodes the spec's request bytes with the CRC low byte first") {
  RtuFramer framer;
  CHECK(test::encoded(framer, FrameHeader{0, 0, 1}, hexBytes("03 00 6B 00 03")) == kReadRequest);
  CHECK(test::encoded(framer, FrameHeader{0, 0, 1}, hexBytes("03 02 00 0A")) == hexBytes("01 03 02 00 0A 38 43"));
  CHECK(test::encoded(framer, FrameHeader{0, 0, 1}, hexBytes("83 02")) == hexBytes("01 83 02 C0 F1"));
}

TEST_CASE("rtu framer beginFrame writes the unit id and commitFrame appends the CRC") {
  RtuFramer framer;
  Buffer out(8);
  std::span<std::uint8_t> room = framer.beginFrame(out, FrameHeader{77, 0, 0x11});
  CHECK(room.size() == kMaxPduSize);
  CHECK(out.readableBytes() == 0);
  const Bytes pdu = hexBytes("06 00 01 00 03");
  std::copy(pdu.begin(), pdu.end(), room.begin());
  framer.commitFrame(out, pdu.size());
  CHECK(Bytes(out.readable().begin(), out.readable().end()) == kWriteRequest);
}

TEST_CASE("rtu framer round-trips encode and decode for every PDU size at the gap") {
  RtuFramer framer;
  framer.setLengthRule(0x64, LengthRule::untilGap());
  for (std::size_t size = 1; size <= kMaxPduSize; ++size) {
    Bytes pdu(size, static_cast<std::uint8_t>(size));
    pdu[0] = 0x64;
    const Bytes frame = test::encoded(framer, FrameHeader{0, 0, 3}, pdu);
    CHECK(frame.size() == size + 3);
    DecodeLoop loop(framer);
    loop.feed(frame);
    framer.markFrameGap();
    loop.drain();
    CHECK(loop.frames() == std::vector<Seen>{Seen{3, pdu, 0}});
  }
}

TEST_CASE("rtu framer refuses misuse of beginFrame and commitFrame") {
  RtuFramer framer;
  Buffer out;
  CHECK_THROWS_AS(framer.commitFrame(out, 1), std::logic_error);
  CHECK_THROWS_AS(framer.beginFrame(out, FrameHeader{}, 254), std::length_error);
  framer.beginFrame(out, FrameHeader{}, 2);
  CHECK_THROWS_AS(framer.commitFrame(out, 3), std::length_error);
  framer.commitFrame(out, 2);
  CHECK(out.readableBytes() == 5);
}

}  // namespace modbus
