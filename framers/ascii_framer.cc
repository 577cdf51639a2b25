// AsciiFramer: Modbus ASCII framing (':' + hex(unit, PDU, LRC) + CR LF); replaces pymodbus framer/ascii.py.
#include "framers/ascii_framer.h"

#include <algorithm>
#include <stdexcept>

#include "framers/lrc.h"

namespace modbus {
namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

/// The value of one hex digit, or -1.
int nibble(std::uint8_t c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

DecodeResult discard(std::size_t n, const char* reason) noexcept {
  DecodeResult result;
  result.status = DecodeStatus::Discard;
  result.consumed = n;
  result.reason = reason;
  return result;
}

std::uint8_t* putHex(std::uint8_t* p, std::uint8_t byte) noexcept {
  p[0] = static_cast<std::uint8_t>(kHexDigits[byte >> 4]);
  p[1] = static_cast<std::uint8_t>(kHexDigits[byte & 0x0F]);
  return p + 2;
}

}  // namespace

DecodeResult AsciiFramer::decode(std::span<const std::uint8_t> input) {
  if (input.empty()) {
    return {};
  }
  if (input[0] != kStart) {
    const auto start = std::find(input.begin(), input.end(), kStart);
    return discard(static_cast<std::size_t>(start - input.begin()), "ASCII bytes before ':'");
  }
  const std::size_t limit = std::min(input.size(), kMaxFrameChars);
  for (std::size_t i = 1; i < limit; ++i) {
    const std::uint8_t c = input[i];
    if (c == kStart) {
      return discard(i, "ASCII ':' inside a frame restarts it");
    }
    if (c != kCr) {
      continue;
    }
    if (i + 1 == kMaxFrameChars) {
      break;  // the delimiter would be character 514
    }
    if (i + 1 == input.size()) {
      return {};
    }
    if (input[i + 1] == delimiter_) {
      return parseFrame(input.first(i + 2));
    }
    return discard(i + 1, "ASCII CR not followed by the end delimiter");
  }
  if (input.size() >= kMaxFrameChars) {
    return discard(kMaxFrameChars, "ASCII frame longer than 513 characters");
  }
  return {};
}

DecodeResult AsciiFramer::parseFrame(std::span<const std::uint8_t> frame) noexcept {
  // frame = ':' hex... CR delimiter
  const std::span<const std::uint8_t> hex = frame.subspan(1, frame.size() - 3);
  if (hex.size() % 2 != 0) {
    return discard(frame.size(), "ASCII frame has an odd number of hex digits");
  }
  const std::size_t bytes = hex.size() / 2;
  if (bytes < 3) {
    return discard(frame.size(), "ASCII frame too short (unit id, function code, LRC)");
  }
  for (std::size_t i = 0; i < bytes; ++i) {
    const int high = nibble(hex[2 * i]);
    const int low = nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return discard(frame.size(), "ASCII frame has a non-hex character");
    }
    decoded_[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  const std::span<const std::uint8_t> body(decoded_.data(), bytes - 1);
  if (lrc(body) != decoded_[bytes - 1]) {
    return discard(frame.size(), "ASCII LRC mismatch");
  }
  DecodeResult result;
  result.status = DecodeStatus::Frame;
  result.consumed = frame.size();
  result.header.unitId = decoded_[0];
  result.pdu = body.subspan(1);
  return result;
}

std::span<std::uint8_t> AsciiFramer::beginFrame(Buffer& out, const FrameHeader& header, std::size_t maxPdu) {
  if (maxPdu > kMaxPduSize) {
    throw std::length_error("AsciiFramer::beginFrame: PDU larger than 253 bytes");
  }
  encoding_[0] = header.unitId;
  pendingOut_ = &out;
  pendingRoom_ = maxPdu;
  return {encoding_.data() + 1, maxPdu};
}

void AsciiFramer::commitFrame(Buffer& out, std::size_t pduLength) {
  if (pendingOut_ != &out) {
    throw std::logic_error("AsciiFramer::commitFrame without beginFrame on this buffer");
  }
  if (pduLength > pendingRoom_) {
    throw std::length_error("AsciiFramer::commitFrame: PDU longer than the room reserved");
  }
  pendingOut_ = nullptr;
  const std::span<const std::uint8_t> body(encoding_.data(), 1 + pduLength);
  const std::size_t chars = 1 + 2 * (body.size() + 1) + 2;
  out.ensureWritable(chars);
  std::uint8_t* p = out.beginWrite();
  *p++ = kStart;
  for (std::uint8_t byte : body) {
    p = putHex(p, byte);
  }
  p = putHex(p, lrc(body));
  *p++ = kCr;
  *p++ = '\n';
  out.hasWritten(chars);
}

}  // namespace modbus
