// Tests for framers/ascii_framer.h: ASCII decode (whole, split, hostile, delimiter) and encode.
#include "framers/ascii_framer.h"

#include <doctest/doctest.h>

#include <random>
#include <stdexcept>
#include <string>

#include "framers/lrc.h"
#include "tests/framers/decode_loop.h"

namespace modbus {
namespace {

using test::Bytes;
using test::concat;
using test::DecodeLoop;
using test::hexBytes;
using test::Seen;
using test::textBytes;

// Read 1 holding register at 0 from unit 1 (LRC FB), and the serial-line guide's unit F7 request.
const Bytes kReadRequest = textBytes(":010300000001FB\r\n");
const Seen kReadSeen{0x01, hexBytes("03 00 00 00 01"), 0};
const Bytes kGuideRequest = textBytes(":F7031389000A60\r\n");
const Seen kGuideSeen{0xF7, hexBytes("03 13 89 00 0A"), 0};

/// ':' + hex(unit, pdu, lrc) + CR LF, built independently of the framer.
Bytes asciiFrame(std::uint8_t unit, const Bytes& pdu, const char* end = "\r\n") {
  static const char* const kHex = "0123456789ABCDEF";
  Bytes body{unit};
  body.insert(body.end(), pdu.begin(), pdu.end());
  body.push_back(lrc(body));
  std::string text = ":";
  for (std::uint8_t b : body) {
    text += kHex[b >> 4];
    text += kHex[b & 15];
  }
  text += end;
  return textBytes(text);
}

std::vector<Seen> decodeWhole(AsciiFramer& framer, const Bytes& bytes) {
  DecodeLoop loop(framer);
  loop.feed(bytes);
  return loop.frames();
}

}  // namespace

// --- decode -------------------------------------------------------------------------------------

TEST_CASE("ascii framer decodes the read holding registers example fed whole") {
  AsciiFramer framer;
  const DecodeResult r = framer.decode(kReadRequest);
  REQUIRE(r.status == DecodeStatus::Frame);
  CHECK(r.consumed == kReadRequest.size());
  CHECK(r.header.unitId == 1);
  CHECK(Bytes(r.pdu.begin(), r.pdu.end()) == hexBytes("03 00 00 00 01"));
}

TEST_CASE("ascii framer decodes the serial-line guide example") {
  AsciiFramer framer;
  CHECK(decodeWhole(framer, kGuideRequest) == std::vector<Seen>{kGuideSeen});
}

TEST_CASE("ascii framer needs more until CR and the delimiter arrived") {
  AsciiFramer framer;
  const std::span<const std::uint8_t> all(kReadRequest);
  for (std::size_t n = 0; n < all.size(); ++n) {
    const DecodeResult r = framer.decode(all.first(n));
    CHECK(r.status == DecodeStatus::NeedMore);
    CHECK(r.consumed == 0);
  }
}

TEST_CASE("ascii framer decodes frames fed one byte at a time") {
  AsciiFramer framer;
  DecodeLoop loop(framer);
  test::feedByteByByte(loop, concat({kReadRequest, kGuideRequest}));
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen, kGuideSeen});
  CHECK(loop.count(DecodeStatus::Discard) == 0);
}

TEST_CASE("ascii framer decodes the same frames at random split points") {
  const Bytes write = asciiFrame(0x11, hexBytes("10 00 01 00 02 04 00 0A 01 02"));
  const Bytes stream = concat({kReadRequest, write, kGuideRequest});
  const std::vector<Seen> expected{kReadSeen, Seen{0x11, hexBytes("10 00 01 00 02 04 00 0A 01 02"), 0}, kGuideSeen};
  std::mt19937 rng(8080);
  for (int round = 0; round < 300; ++round) {
    AsciiFramer framer;
    DecodeLoop loop(framer);
    test::feedCuts(loop, stream, test::randomCuts(rng, stream.size(), 16));
    CHECK(loop.frames() == expected);
  }
}

TEST_CASE("ascii framer answers every frame of a pipelined batch in order") {
  Bytes batch;
  std::vector<Seen> expected;
  for (unsigned i = 0; i < 60; ++i) {
    const Bytes pdu{0x06, 0x00, static_cast<std::uint8_t>(i), 0x12, 0x34};
    const Bytes frame = asciiFrame(static_cast<std::uint8_t>(i + 1), pdu);
    batch.insert(batch.end(), frame.begin(), frame.end());
    expected.push_back({static_cast<std::uint8_t>(i + 1), pdu, 0});
  }
  AsciiFramer framer;
  CHECK(decodeWhole(framer, batch) == expected);
}

TEST_CASE("ascii framer accepts lower-case hex digits") {
  AsciiFramer framer;
  CHECK(decodeWhole(framer, textBytes(":f7031389000a60\r\n")) == std::vector<Seen>{kGuideSeen});
}

TEST_CASE("ascii framer decodes the largest legal frame of 513 characters") {
  Bytes pdu(kMaxPduSize, 0x3C);
  pdu[0] = 0x10;
  const Bytes frame = asciiFrame(1, pdu);
  CHECK(frame.size() == AsciiFramer::kMaxFrameChars);
  AsciiFramer framer;
  CHECK(decodeWhole(framer, frame) == std::vector<Seen>{Seen{1, pdu, 0}});
}

// --- decode: hostile input ------------------------------------------------------------------------

TEST_CASE("ascii framer discards the bytes before ':' and serves the frame") {
  AsciiFramer framer;
  DecodeLoop loop(framer);
  loop.feed(concat({textBytes("\r\nnoise 12 \n"), kReadRequest}));
  REQUIRE(loop.events().size() == 2);
  CHECK(loop.events()[0].status == DecodeStatus::Discard);
  CHECK(loop.events()[0].consumed == 12);
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
}

TEST_CASE("ascii framer discards input without any ':' entirely") {
  AsciiFramer framer;
  const DecodeResult r = framer.decode(textBytes("garbage\r\n"));
  CHECK(r.status == DecodeStatus::Discard);
  CHECK(r.consumed == 9);
}

TEST_CASE("ascii framer restarts the frame at a ':' in the middle") {
  AsciiFramer framer;
  DecodeLoop loop(framer);
  loop.feed(concat({textBytes(":0103"), kReadRequest}));
  REQUIRE(loop.events().size() == 2);
  CHECK(loop.events()[0].status == DecodeStatus::Discard);
  CHECK(loop.events()[0].consumed == 5);
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
}

TEST_CASE("ascii framer discards a frame with a wrong LRC and serves the next") {
  AsciiFramer framer;
  DecodeLoop loop(framer);
  const Bytes bad = textBytes(":010300000001FC\r\n");
  loop.feed(concat({bad, kGuideRequest}));
  REQUIRE(loop.events().size() == 2);
  CHECK(loop.events()[0].consumed == bad.size());
  CHECK(loop.events()[0].reason == "ASCII LRC mismatch");
  CHECK(loop.frames() == std::vector<Seen>{kGuideSeen});
}

TEST_CASE("ascii framer discards an odd number of hex digits and keeps serving (pymodbus 2917)") {
  AsciiFramer framer;
  DecodeLoop loop(framer);
  loop.feed(concat({textBytes(":0107F\r\n"), kReadRequest}));
  CHECK(loop.discardedBytes() == 8);
  CHECK(loop.events()[0].reason == "ASCII frame has an odd number of hex digits");
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
}

TEST_CASE("ascii framer discards a frame with a non-hex character") {
  AsciiFramer framer;
  DecodeLoop loop(framer);
  loop.feed(concat({textBytes(":01030000G001FB\r\n"), kReadRequest}));
  CHECK(loop.discardedBytes() == 17);
  CHECK(loop.events()[0].reason == "ASCII frame has a non-hex character");
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
}

TEST_CASE("ascii framer discards frames too short to hold unit id, function code and LRC") {
  for (const char* text : {":\r\n", ":01\r\n", ":01FF\r\n"}) {
    CAPTURE(text);
    AsciiFramer framer;
    const DecodeResult r = framer.decode(textBytes(text));
    CHECK(r.status == DecodeStatus::Discard);
    CHECK(r.consumed == std::string(text).size());
  }
}

TEST_CASE("ascii framer discards up to a CR that the delimiter does not follow") {
  AsciiFramer framer;
  DecodeLoop loop(framer);
  loop.feed(concat({textBytes(":010300000001FB\rX"), kReadRequest}));
  CHECK(loop.events()[0].status == DecodeStatus::Discard);
  CHECK(loop.events()[0].consumed == 16);
  CHECK(loop.discardedBytes() == 17);  // then the stray X before ':'
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
}

TEST_CASE("ascii framer discards an over-long frame at 513 characters and serves the next") {
  AsciiFramer framer;
  DecodeLoop loop(framer);
  Bytes longFrame = textBytes(":");
  longFrame.resize(700, '0');
  loop.feed(longFrame);
  CHECK(loop.events().size() == 2);
  CHECK(loop.events()[0].consumed == AsciiFramer::kMaxFrameChars);
  CHECK(loop.discardedBytes() == 700);
  loop.feed(kReadRequest);
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
}

TEST_CASE("ascii framer discards a frame whose delimiter would be character 514") {
  Bytes text = textBytes(":");
  text.resize(511, '0');  // ':' + 510 digits, then CR LF → 513: legal length
  text.push_back('0');    // one digit more: CR at 512, LF at 513 (0-based) → too long
  text.push_back('\r');
  text.push_back('\n');
  AsciiFramer framer;
  DecodeLoop loop(framer);
  loop.feed(text);
  CHECK(loop.frames().empty());
  CHECK(loop.events()[0].consumed == AsciiFramer::kMaxFrameChars);
  CHECK(loop.input().readableBytes() == 0);
}

TEST_CASE("ascii framer holds no more than one frame's worth of bytes while waiting") {
  AsciiFramer framer;
  DecodeLoop loop(framer);
  Bytes partial = textBytes(":");
  partial.resize(AsciiFramer::kMaxFrameChars - 1, 'A');
  loop.feed(partial);
  CHECK(loop.events().empty());
  loop.feed(textBytes("A"));
  CHECK(loop.discardedBytes() == AsciiFramer::kMaxFrameChars);
}

TEST_CASE("ascii framer survives random bytes at random splits and serves the next frame") {
  std::mt19937 rng(31337);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> pick(0, 9);
  for (int round = 0; round < 300; ++round) {
    Bytes noise(1 + round * 3);
    for (auto& b : noise) {
      const int p = pick(rng);  // plenty of the framing characters
      b = p == 0 ? ':' : p == 1 ? '\r' : p == 2 ? '\n' : p < 6 ? "0123456789ABCDEF"[byte(rng) & 15] : static_cast<std::uint8_t>(byte(rng));
    }
    AsciiFramer framer;
    DecodeLoop loop(framer);
    const Bytes stream = concat({noise, kReadRequest});
    test::feedCuts(loop, stream, test::randomCuts(rng, stream.size(), 12));
    REQUIRE_FALSE(loop.frames().empty());
    CHECK(loop.frames().back() == kReadSeen);  // the ':' resynchronises
    CHECK(loop.input().readableBytes() == 0);
  }
}

// --- delimiter ----------------------------------------------------------------------------------

TEST_CASE("ascii framer ends frames at CR plus a changed delimiter") {
  AsciiFramer framer;
  CHECK(framer.delimiter() == '\n');
  framer.setDelimiter('!');
  CHECK(framer.delimiter() == '!');
  DecodeLoop loop(framer);
  test::feedByteByByte(loop, concat({textBytes(":010300000001FB\r!"), textBytes(":F7031389000A60\r!")}));
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen, kGuideSeen});
}

TEST_CASE("ascii framer no longer accepts CR LF once the delimiter changed") {
  AsciiFramer framer;
  framer.setDelimiter('!');
  DecodeLoop loop(framer);
  loop.feed(kReadRequest);
  CHECK(loop.frames().empty());
  CHECK(loop.events()[0].reason == "ASCII CR not followed by the end delimiter");
  CHECK(loop.input().readableBytes() == 0);
}

TEST_CASE("ascii framer accepts CR as the changed delimiter") {
  AsciiFramer framer;
  framer.setDelimiter('\r');
  CHECK(decodeWhole(framer, textBytes(":010300000001FB\r\r")) == std::vector<Seen>{kReadSeen});
}

// --- encode -------------------------------------------------------------------------------------

TEST_CASE("ascii framer encodes upper-case hex with the LRC and CR LF") {
  AsciiFramer framer;
  CHECK(test::encoded(framer, FrameHeader{0, 0, 1}, hexBytes("03 02 00 0A")) == textBytes(":010302000AF0\r\n"));
  CHECK(test::encoded(framer, FrameHeader{0, 0, 0xF7}, hexBytes("03 13 89 00 0A")) == kGuideRequest);
}

TEST_CASE("ascii framer ends responses with CR LF whatever the input delimiter") {
  AsciiFramer framer;
  framer.setDelimiter('!');
  CHECK(test::encoded(framer, FrameHeader{0, 0, 1}, hexBytes("03 00 00 00 01")) == kReadRequest);
}

TEST_CASE("ascii framer leaves the output untouched until commitFrame") {
  AsciiFramer framer;
  Buffer out;
  std::span<std::uint8_t> room = framer.beginFrame(out, FrameHeader{0, 0, 0x11}, 5);
  CHECK(room.size() == 5);
  CHECK(out.readableBytes() == 0);
  const Bytes pdu = hexBytes("06 00 01 00 03");
  std::copy(pdu.begin(), pdu.end(), room.begin());
  framer.commitFrame(out, pdu.size());
  CHECK(Bytes(out.readable().begin(), out.readable().end()) == asciiFrame(0x11, pdu));
}

TEST_CASE("ascii framer can build a response from the decoded request's PDU view") {
  // Decode and encode use separate scratch arrays: an echo (FC 8) must not corrupt itself.
  AsciiFramer framer;
  const Bytes request = asciiFrame(0x05, hexBytes("08 00 00 A5 37"));
  const DecodeResult r = framer.decode(request);
  REQUIRE(r.status == DecodeStatus::Frame);
  Buffer out;
  std::span<std::uint8_t> room = framer.beginFrame(out, r.header, r.pdu.size());
  std::copy(r.pdu.begin(), r.pdu.end(), room.begin());
  CHECK(Bytes(r.pdu.begin(), r.pdu.end()) == hexBytes("08 00 00 A5 37"));
  framer.commitFrame(out, r.pdu.size());
  CHECK(Bytes(out.readable().begin(), out.readable().end()) == request);
}

TEST_CASE("ascii framer round-trips encode and decode for every PDU size") {
  AsciiFramer framer;
  for (std::size_t size = 1; size <= kMaxPduSize; ++size) {
    Bytes pdu(size);
    for (std::size_t i = 0; i < size; ++i) pdu[i] = static_cast<std::uint8_t>(i * 7 + size);
    const Bytes frame = test::encoded(framer, FrameHeader{0, 0, 0x20}, pdu);
    CHECK(frame.size() == 1 + 2 * (size + 2) + 2);
    CHECK(decodeWhole(framer, frame) == std::vector<Seen>{Seen{0x20, pdu, 0}});
  }
}

TEST_CASE("ascii framer refuses misuse of beginFrame and commitFrame") {
  AsciiFramer framer;
  Buffer out;
  CHECK_THROWS_AS(framer.commitFrame(out, 1), std::logic_error);
  CHECK_THROWS_AS(framer.beginFrame(out, FrameHeader{}, 254), std::length_error);
  framer.beginFrame(out, FrameHeader{}, 1);
  CHECK_THROWS_AS(framer.commitFrame(out, 2), std::length_error);
  framer.commitFrame(out, 1);
  CHECK(out.readableBytes() == 9);
}

}  // namespace modbus
