// Tests for framers/socket_framer.h: MBAP decode (whole, split, pipelined, hostile) and encode.
#include "framers/socket_framer.h"

#include <doctest/doctest.h>

#include <random>
#include <stdexcept>

#include "tests/framers/decode_loop.h"

namespace modbus {
namespace {

using test::Bytes;
using test::concat;
using test::DecodeLoop;
using test::hexBytes;
using test::Seen;

// Read holding registers, transaction 1, unit 0x11 (Modbus Messaging on TCP/IP guide style).
const Bytes kReadRequest = hexBytes("00 01 00 00 00 06 11 03 00 6B 00 03");
const Seen kReadSeen{0x11, hexBytes("03 00 6B 00 03"), 1};
// Write single register, transaction 0xBEEF, unit 1.
const Bytes kWriteRequest = hexBytes("BE EF 00 00 00 06 01 06 00 01 00 03");
const Seen kWriteSeen{0x01, hexBytes("06 00 01 00 03"), 0xBEEF};

Bytes mbap(std::uint16_t tid, std::uint16_t pid, std::uint8_t unit, const Bytes& pdu) {
  Bytes out{static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid),
            static_cast<std::uint8_t>(pid >> 8), static_cast<std::uint8_t>(pid),
            static_cast<std::uint8_t>((pdu.size() + 1) >> 8), static_cast<std::uint8_t>(pdu.size() + 1), unit};
  out.insert(out.end(), pdu.begin(), pdu.end());
  return out;
}

std::vector<Seen> decodeWhole(const Bytes& bytes) {
  SocketFramer framer;
  DecodeLoop loop(framer);
  loop.feed(bytes);
  return loop.frames();
}

}  // namespace

TEST_CASE("socket framer decodes a read holding registers request fed whole") {
  SocketFramer framer;
  const DecodeResult r = framer.decode(kReadRequest);
  REQUIRE(r.status == DecodeStatus::Frame);
  CHECK(r.consumed == 12);
  CHECK(r.header.transactionId == 1);
  CHECK(r.header.protocolId == 0);
  CHECK(r.header.unitId == 0x11);
  CHECK(Bytes(r.pdu.begin(), r.pdu.end()) == hexBytes("03 00 6B 00 03"));
  CHECK(r.pdu.data() == kReadRequest.data() + 7);  // a view into the input, no copy
}

TEST_CASE("socket framer needs more until the header and then the whole frame arrived") {
  SocketFramer framer;
  const std::span<const std::uint8_t> all(kReadRequest);
  for (std::size_t n = 0; n < all.size(); ++n) {
    const DecodeResult r = framer.decode(all.first(n));
    CHECK(r.status == DecodeStatus::NeedMore);
    CHECK(r.consumed == 0);
  }
  CHECK(framer.decode(all).status == DecodeStatus::Frame);
}

TEST_CASE("socket framer decodes a request fed one byte at a time") {
  SocketFramer framer;
  DecodeLoop loop(framer);
  test::feedByteByByte(loop, concat({kReadRequest, kWriteRequest}));
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen, kWriteSeen});
  CHECK(loop.input().readableBytes() == 0);
}

TEST_CASE("socket framer decodes the same frames at random split points") {
  const Bytes stream = concat({kReadRequest, kWriteRequest, mbap(7, 0, 0xFF, hexBytes("2B 0E 01 00")), kReadRequest});
  const std::vector<Seen> expected{kReadSeen, kWriteSeen, Seen{0xFF, hexBytes("2B 0E 01 00"), 7}, kReadSeen};
  std::mt19937 rng(20240501);
  for (int round = 0; round < 300; ++round) {
    SocketFramer framer;
    DecodeLoop loop(framer);
    test::feedCuts(loop, stream, test::randomCuts(rng, stream.size()));
    CHECK(loop.frames() == expected);
    CHECK(loop.events().size() == expected.size());
  }
}

TEST_CASE("socket framer answers every frame of a pipelined batch in order") {
  Bytes batch;
  std::vector<Seen> expected;
  for (std::uint16_t tid = 0; tid < 100; ++tid) {
    const Bytes pdu{0x03, 0x00, static_cast<std::uint8_t>(tid), 0x00, 0x01};
    const Bytes frame = mbap(tid, 0, static_cast<std::uint8_t>(tid % 7), pdu);
    batch.insert(batch.end(), frame.begin(), frame.end());
    expected.push_back({static_cast<std::uint8_t>(tid % 7), pdu, tid});
  }
  CHECK(decodeWhole(batch) == expected);
}

TEST_CASE("socket framer accepts the shortest and the longest legal lengths") {
  const Bytes shortest = mbap(1, 0, 1, hexBytes("07"));  // length 2: unit + function code
  CHECK(shortest[5] == 2);
  CHECK(decodeWhole(shortest) == std::vector<Seen>{Seen{1, hexBytes("07"), 1}});

  const Bytes pdu253(253, 0x5A);
  const Bytes longest = mbap(2, 0, 9, pdu253);  // length 254
  CHECK(longest[5] == 254);
  CHECK(decodeWhole(longest) == std::vector<Seen>{Seen{9, pdu253, 2}});
}

TEST_CASE("socket framer reports a length field outside 2..254 as fatal as soon as it arrives") {
  for (std::uint16_t length : {0, 1, 255, 256, 0x1000, 0xFFFF}) {
    CAPTURE(length);
    SocketFramer framer;
    const Bytes header{0x00, 0x01, 0x00, 0x00, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
    const DecodeResult r = framer.decode(header);  // only 6 bytes: the length is already known bad
    CHECK(r.status == DecodeStatus::Fatal);
    CHECK(std::string_view(r.reason) == "MBAP length out of range");
  }
}

TEST_CASE("socket framer serves the frames before a fatal one and nothing after it") {
  SocketFramer framer;
  DecodeLoop loop(framer);
  loop.feed(concat({kReadRequest, hexBytes("00 02 00 00 00 00 01"), kWriteRequest}));
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
  CHECK(loop.fatal());
  CHECK(loop.count(DecodeStatus::Fatal) == 1);
}

TEST_CASE("socket framer discards exactly a frame whose protocol id is not 0 and keeps serving") {
  SocketFramer framer;
  const Bytes foreign = mbap(5, 0x0001, 1, hexBytes("03 00 00 00 01"));
  DecodeLoop loop(framer);
  loop.feed(concat({foreign, kReadRequest}));
  REQUIRE(loop.events().size() == 2);
  CHECK(loop.events()[0].status == DecodeStatus::Discard);
  CHECK(loop.events()[0].consumed == foreign.size());
  CHECK(loop.events()[0].transactionId == 5);  // kept for the log
  CHECK(loop.frames() == std::vector<Seen>{kReadSeen});
  CHECK_FALSE(loop.fatal());
}

TEST_CASE("socket framer waits for the whole frame with a foreign protocol id before discarding it") {
  SocketFramer framer;
  const Bytes foreign = mbap(5, 0xFFFF, 1, hexBytes("03 00 00 00 01"));
  const std::span<const std::uint8_t> all(foreign);
  CHECK(framer.decode(all.first(foreign.size() - 1)).status == DecodeStatus::NeedMore);
  const DecodeResult r = framer.decode(all);
  CHECK(r.status == DecodeStatus::Discard);
  CHECK(r.consumed == foreign.size());
}

TEST_CASE("socket framer interleaves foreign protocol ids and valid frames at random splits") {
  const Bytes stream = concat({mbap(1, 2, 1, hexBytes("01 00 00 00 08")), kReadRequest, mbap(3, 0x8000, 1, Bytes(200, 1)),
                               kWriteRequest, mbap(4, 1, 1, hexBytes("11"))});
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    SocketFramer framer;
    DecodeLoop loop(framer);
    test::feedCuts(loop, stream, test::randomCuts(rng, stream.size(), 16));
    CHECK(loop.frames() == std::vector<Seen>{kReadSeen, kWriteSeen});
    CHECK(loop.count(DecodeStatus::Discard) == 3);
    CHECK(loop.input().readableBytes() == 0);
  }
}

TEST_CASE("socket framer survives random bytes at random splits without breaking its contract") {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 300; ++round) {
    Bytes noise(1 + round % 97);
    for (auto& b : noise) b = static_cast<std::uint8_t>(byte(rng));
    if (round % 2 == 0 && noise.size() > 4) noise[4] = 0;  // plausible lengths half the time
    SocketFramer framer;
    DecodeLoop loop(framer);  // checks consumed/pdu bounds on every result
    test::feedCuts(loop, noise, test::randomCuts(rng, noise.size()));
    CHECK(loop.input().readableBytes() <= noise.size());
    if (!loop.fatal()) {
      CHECK(loop.input().readableBytes() < 6 + 254);  // never holds a complete frame back
    }
  }
}

TEST_CASE("socket framer encodes a read holding registers response") {
  SocketFramer framer;
  const Bytes out = test::encoded(framer, FrameHeader{0x0001, 0, 0x11}, hexBytes("03 06 02 2B 00 00 00 64"));
  CHECK(out == hexBytes("00 01 00 00 00 09 11 03 06 02 2B 00 00 00 64"));
}

TEST_CASE("socket framer encode writes protocol id 0 whatever the header says") {
  SocketFramer framer;
  const Bytes out = test::encoded(framer, FrameHeader{0x1234, 0x5555, 3}, hexBytes("83 02"));
  CHECK(out == hexBytes("12 34 00 00 00 03 03 83 02"));
}

TEST_CASE("socket framer beginFrame reserves room and commitFrame sets the length for the bytes used") {
  SocketFramer framer;
  Buffer out(16);
  std::span<std::uint8_t> room = framer.beginFrame(out, FrameHeader{9, 0, 1});
  CHECK(room.size() == kMaxPduSize);
  CHECK(out.readableBytes() == 0);  // nothing visible before commit
  room[0] = 0x06;
  room[1] = 0x00;
  room[2] = 0x01;
  framer.commitFrame(out, 3);
  CHECK(Bytes(out.readable().begin(), out.readable().end()) == hexBytes("00 09 00 00 00 04 01 06 00 01"));
}

TEST_CASE("socket framer encodes several responses back to back into one output buffer") {
  SocketFramer framer;
  Buffer out;
  framer.encode(out, FrameHeader{1, 0, 1}, hexBytes("05 00 01 FF 00"));
  framer.encode(out, FrameHeader{2, 0, 1}, hexBytes("81 01"));
  CHECK(Bytes(out.readable().begin(), out.readable().end()) ==
        hexBytes("00 01 00 00 00 06 01 05 00 01 FF 00  00 02 00 00 00 03 01 81 01"));
}

TEST_CASE("socket framer round-trips encode and decode for every PDU size") {
  SocketFramer framer;
  for (std::size_t size = 1; size <= kMaxPduSize; ++size) {
    Bytes pdu(size);
    for (std::size_t i = 0; i < size; ++i) pdu[i] = static_cast<std::uint8_t>(size + i);
    const Bytes frame = test::encoded(framer, FrameHeader{static_cast<std::uint16_t>(size * 3), 0, 0x42}, pdu);
    CHECK(decodeWhole(frame) == std::vector<Seen>{Seen{0x42, pdu, static_cast<std::uint16_t>(size * 3)}});
  }
}

TEST_CASE("socket framer encoding does not reallocate an output buffer with enough capacity") {
  SocketFramer framer;
  Buffer out(512);
  const std::size_t capacity = out.capacity();
  const std::uint8_t* base = out.peek() - out.prependableBytes();
  for (int i = 0; i < 1000; ++i) {
    framer.encode(out, FrameHeader{static_cast<std::uint16_t>(i), 0, 1}, hexBytes("03 02 00 2A"));
    if (out.readableBytes() > 400) out.retrieveAll();
  }
  CHECK(out.capacity() == capacity);
  CHECK(out.peek() - out.prependableBytes() == base);
}

TEST_CASE("socket framer refuses misuse of beginFrame and commitFrame") {
  SocketFramer framer;
  Buffer out;
  Buffer other;
  CHECK_THROWS_AS(framer.commitFrame(out, 1), std::logic_error);
  CHECK_THROWS_AS(framer.beginFrame(out, FrameHeader{}, kMaxPduSize + 1), std::length_error);
  framer.beginFrame(out, FrameHeader{}, 4);
  CHECK_THROWS_AS(framer.commitFrame(other, 1), std::logic_error);
  CHECK_THROWS_AS(framer.commitFrame(out, 5), std::length_error);
  framer.commitFrame(out, 4);
  CHECK(out.readableBytes() == 11);
  CHECK_THROWS_AS(framer.commitFrame(out, 1), std::logic_error);  // one commit per begin
}

TEST_CASE("socket framer leaves the output unchanged when a begun frame is abandoned") {
  SocketFramer framer;
  Buffer out;
  framer.encode(out, FrameHeader{1, 0, 1}, hexBytes("07 00"));
  const Bytes before(out.readable().begin(), out.readable().end());
  framer.beginFrame(out, FrameHeader{2, 0, 1});
  CHECK(Bytes(out.readable().begin(), out.readable().end()) == before);
  framer.encode(out, FrameHeader{3, 0, 1}, hexBytes("07 01"));
  CHECK(Bytes(out.readable().begin(), out.readable().end()) ==
        concat({before, hexBytes("00 03 00 00 00 03 01 07 01")}));
}

}  // namespace modbus
