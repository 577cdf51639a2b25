// Tests for framers/framer.h: the encode convenience over beginFrame/commitFrame.
#include "framers/framer.h"

#include <doctest/doctest.h>

#include <stdexcept>

#include "tests/framers/decode_loop.h"

namespace modbus {
namespace {

/// A framer that brackets the PDU with its length, to watch Framer::encode's calls.
class BracketFramer final : public Framer {
 public:
  DecodeResult decode(std::span<const std::uint8_t>) override { return {}; }
  std::span<std::uint8_t> beginFrame(Buffer& out, const FrameHeader& header, std::size_t maxPdu) override {
    ++begins;
    reserved = maxPdu;
    out.ensureWritable(1 + maxPdu + 1);
    out.beginWrite()[0] = header.unitId;
    return {out.beginWrite() + 1, maxPdu};
  }
  void commitFrame(Buffer& out, std::size_t pduLength) override {
    ++commits;
    out.beginWrite()[1 + pduLength] = static_cast<std::uint8_t>(pduLength);
    out.hasWritten(pduLength + 2);
  }
  int begins = 0;
  int commits = 0;
  std::size_t reserved = 0;
};

}  // namespace

TEST_CASE("encode reserves exactly the PDU size, copies it and commits once") {
  BracketFramer framer;
  Buffer out;
  framer.encode(out, FrameHeader{0, 0, 0x11}, test::hexBytes("03 00 6B 00 03"));
  CHECK(framer.begins == 1);
  CHECK(framer.commits == 1);
  CHECK(framer.reserved == 5);
  CHECK(test::Bytes(out.readable().begin(), out.readable().end()) == test::hexBytes("11 03 00 6B 00 03 05"));
}

TEST_CASE("encode appends after what the output buffer already holds") {
  BracketFramer framer;
  Buffer out;
  framer.encode(out, FrameHeader{0, 0, 1}, test::hexBytes("07"));
  framer.encode(out, FrameHeader{0, 0, 2}, test::hexBytes("08 00"));
  CHECK(test::Bytes(out.readable().begin(), out.readable().end()) == test::hexBytes("01 07 01 02 08 00 02"));
}

TEST_CASE("kMaxPduSize is the 253 bytes of the Modbus application protocol") { CHECK(kMaxPduSize == 253); }

}  // namespace modbus
