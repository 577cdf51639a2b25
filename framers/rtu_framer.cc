// RtuFramer: Modbus RTU framing (unit id, PDU, CRC-16) for a server; default length rules from the
// function-code table (framers/function_codes.h).
#include "framers/rtu_framer.h"

#include <stdexcept>

#include "framers/bytes_be.h"
#include "framers/crc16.h"
#include "framers/function_codes.h"

namespace modbus {
namespace {

constexpr std::size_t kCrcSize = 2;

enum class Measure { Unknown, NeedMore, Known };

struct Measured {
  Measure state = Measure::Unknown;
  std::size_t pduLength = 0;
};

/// Applies `rule` to the PDU bytes received so far (`pdu[0]` is the function code).
Measured measure(LengthRule rule, std::span<const std::uint8_t> pdu) noexcept {
  switch (rule.kind) {
    case LengthRule::Kind::UntilGap:
      return {};
    case LengthRule::Kind::Fixed:
      return {Measure::Known, rule.extra};
    case LengthRule::Kind::ByteCount:
      if (pdu.size() <= rule.offset) {
        return {Measure::NeedMore, 0};
      }
      return {Measure::Known, std::size_t{pdu[rule.offset]} + rule.extra};
    case LengthRule::Kind::ByteCount16:
      if (pdu.size() < std::size_t{rule.offset} + 2) {
        return {Measure::NeedMore, 0};
      }
      return {Measure::Known, std::size_t{readU16BE(pdu.data() + rule.offset)} + rule.extra};
  }
  return {};
}

bool plausiblePduLength(std::size_t pduLength) noexcept { return pduLength >= 1 && pduLength <= kMaxPduSize; }

DecodeResult frameOf(std::span<const std::uint8_t> input, std::size_t aduSize) noexcept {
  DecodeResult result;
  result.status = DecodeStatus::Frame;
  result.consumed = aduSize;
  result.header.unitId = input[0];
  result.pdu = input.subspan(1, aduSize - 1 - kCrcSize);
  return result;
}

DecodeResult discard(std::size_t n, const char* reason) noexcept {
  DecodeResult result;
  result.status = DecodeStatus::Discard;
  result.consumed = n;
  result.reason = reason;
  return result;
}

/// FC 43 / MEI 14 response: walk the object list to find its end.
std::optional<std::size_t> deviceIdentificationResponseLength(std::span<const std::uint8_t> pdu) noexcept {
  // fc, MEI type, read code, conformity, more follows, next object id, number of objects, objects...
  constexpr std::size_t kObjectsOffset = 7;
  if (pdu.size() < kObjectsOffset || pdu[1] != modbus::pdu::kMeiReadDeviceIdentification) {
    return std::nullopt;
  }
  const unsigned objects = pdu[6];
  std::size_t pos = kObjectsOffset;
  for (unsigned i = 0; i < objects; ++i) {
    if (pdu.size() < pos + 2) {
      return std::nullopt;  // object header not here yet
    }
    pos += 2 + std::size_t{pdu[pos + 1]};
    if (pos > kMaxPduSize) {
      return std::nullopt;
    }
  }
  return 1 + pos + kCrcSize;
}

}  // namespace

RtuFramer::RtuFramer() noexcept {
  for (std::size_t fc = 0; fc < requestRules_.size(); ++fc) {
    const FunctionCodeInfo& info = functionCodeInfo(static_cast<std::uint8_t>(fc));
    requestRules_[fc] = info.request;
    responseRules_[fc] = info.response;
  }
}

DecodeResult RtuFramer::decode(std::span<const std::uint8_t> input) {
  if (input.empty()) {
    gap_ = false;
    return {};
  }
  if (input.size() < 2) {
    return gap_ ? afterGap(input, "RTU fragment shorter than a frame before the gap") : DecodeResult{};
  }
  const Measured m = measure(requestRules_[input[1]], input.subspan(1));
  if (m.state == Measure::Known) {
    if (!plausiblePduLength(m.pduLength)) {
      return gap_ ? afterGap(input, "RTU length rule gives an impossible PDU length")
                  : resynchronise("RTU length rule gives an impossible PDU length");
    }
    const std::size_t aduSize = 1 + m.pduLength + kCrcSize;
    if (input.size() >= aduSize) {
      if (crcMatches(input.first(aduSize))) {
        resynchronising_ = false;
        return frameOf(input, aduSize);
      }
      return gap_ ? afterGap(input, "RTU CRC mismatch") : resynchronise("RTU CRC mismatch");
    }
  }
  if (gap_) {
    return afterGap(input, "RTU frame before the gap fails its CRC");
  }
  if (m.state == Measure::Unknown) {
    if (resynchronising_) {
      return resynchronise("RTU resynchronising: function code has no length rule");
    }
    if (input.size() > kMaxAduSize) {  // no single frame is that long
      return resynchronise("RTU function code has no length rule and no frame gap came");
    }
  }
  return {};
}

DecodeResult RtuFramer::resynchronise(const char* reason) noexcept {
  resynchronising_ = true;
  return discard(1, reason);
}

DecodeResult RtuFramer::afterGap(std::span<const std::uint8_t> input, const char* reason) noexcept {
  if (input.size() < kMinAduSize) {
    return discard(input.size(), "RTU fragment shorter than a frame before the gap");
  }
  if (input.size() <= kMaxAduSize && crcMatches(input)) {
    resynchronising_ = false;
    return frameOf(input, input.size());
  }
  return discard(1, reason);
}

std::span<std::uint8_t> RtuFramer::beginFrame(Buffer& out, const FrameHeader& header, std::size_t maxPdu) {
  if (maxPdu > kMaxPduSize) {
    throw std::length_error("RtuFramer::beginFrame: PDU larger than 253 bytes");
  }
  out.ensureWritable(1 + maxPdu + kCrcSize);
  std::uint8_t* p = out.beginWrite();
  p[0] = header.unitId;
  pendingOut_ = &out;
  pendingRoom_ = maxPdu;
  return {p + 1, maxPdu};
}

void RtuFramer::commitFrame(Buffer& out, std::size_t pduLength) {
  if (pendingOut_ != &out) {
    throw std::logic_error("RtuFramer::commitFrame without beginFrame on this buffer");
  }
  if (pduLength > pendingRoom_) {
    throw std::length_error("RtuFramer::commitFrame: PDU longer than the room reserved");
  }
  pendingOut_ = nullptr;
  std::uint8_t* p = out.beginWrite();
  writeU16LE(p + 1 + pduLength, crc16({p, 1 + pduLength}));
  out.hasWritten(1 + pduLength + kCrcSize);
}

std::optional<std::size_t> RtuFramer::responseLength(std::span<const std::uint8_t> frame) const noexcept {
  if (frame.size() < 2) {
    return std::nullopt;
  }
  const std::uint8_t fc = frame[1];
  if (fc & pdu::kExceptionFlag) {
    return 1 + 2 + kCrcSize;  // unit id, fc | 0x80, exception code, CRC
  }
  const LengthRule rule = responseRules_[fc];
  if (fc == pdu::kEncapsulatedInterface && rule.kind == LengthRule::Kind::UntilGap) {
    return deviceIdentificationResponseLength(frame.subspan(1));
  }
  const Measured m = measure(rule, frame.subspan(1));
  if (m.state != Measure::Known || !plausiblePduLength(m.pduLength)) {
    return std::nullopt;
  }
  return 1 + m.pduLength + kCrcSize;
}

}  // namespace modbus
