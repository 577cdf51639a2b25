// LengthRule: how the length of a PDU follows from its first bytes, for framings that do not carry
// a length (RTU). The function-code table and custom function codes describe requests and responses
// with it; RtuFramer measures frames with it.
// Tests: tests/framers/rtu_framer_test.cc
#pragma once

#include <cstdint>

namespace modbus {

/// How the length of an RTU PDU (function code + data) follows from its first bytes. PDU offsets
/// count from the function code (offset 0), not from the unit id.
struct LengthRule {
  enum class Kind : std::uint8_t {
    UntilGap,     ///< not known from content: the frame ends at the inter-frame gap
    Fixed,        ///< the PDU is `extra` bytes long
    ByteCount,    ///< the PDU is pdu[offset] + `extra` bytes long
    ByteCount16,  ///< the PDU is the big-endian 16-bit value at pdu[offset] + `extra` bytes long
  };
  Kind kind = Kind::UntilGap;
  std::uint8_t offset = 0;
  std::uint16_t extra = 0;

  /// No rule: rely on the gap (RtuFramer::markFrameGap).
  static constexpr LengthRule untilGap() noexcept { return {}; }
  /// A PDU of exactly `pduLength` bytes (function code included).
  static constexpr LengthRule fixedPdu(std::uint16_t pduLength) noexcept {
    return {Kind::Fixed, 0, pduLength};
  }
  /// A PDU of pdu[offset] + `extra` bytes: the byte count field at PDU offset `offset`, plus the
  /// bytes that are not counted by it (function code and the fields up to and including the count).
  static constexpr LengthRule byteCount(std::uint8_t offset, std::uint16_t extra) noexcept {
    return {Kind::ByteCount, offset, extra};
  }
  /// As byteCount, with a 16-bit big-endian count at PDU offset `offset` (FC 24 responses).
  static constexpr LengthRule byteCount16(std::uint8_t offset, std::uint16_t extra) noexcept {
    return {Kind::ByteCount16, offset, extra};
  }

  friend constexpr bool operator==(const LengthRule&, const LengthRule&) = default;
};

}  // namespace modbus
