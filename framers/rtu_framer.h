// RtuFramer: Modbus RTU framing (unit id, PDU, CRC-16) for a server; length tables after libmodbus.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "framers/framer.h"
#include "framers/length_rule.h"

namespace modbus {

/// RTU framing for the server side: [unit id][PDU][CRC-16, low byte first].
///
/// A request's length comes from its function code and, where variable, its byte count: the default
/// rules are the function-code table's (framers/function_codes.h, after libmodbus): FC 1-6 and 8 →
/// 8-byte ADU; 7, 11, 12, 17 → 4; 15, 16 → byte count at PDU offset 5; 20, 21 → byte count at PDU
/// offset 1; 22 → 10; 23 → byte count at PDU offset 9; 24 → 6; 43 → 7 (MEI type, read code, object
/// id). Other codes use a rule registered with setLengthRule, or else the inter-frame gap
/// (markFrameGap). Limitation: FC 8 sub-function 0 (Return Query Data) with other than 2 data bytes
/// and FC 43 MEI type 13 do not fit these default rules; on a line whose protocol marks gaps,
/// `setLengthRule(8, LengthRule::untilGap())` makes FC 8 gap-delimited.
///
/// Decode:
/// - length known and CRC good → Frame (pdu points into the input, header has only the unit id);
/// - length known, CRC bad → Discard 1 byte and retry from the next one (never the whole buffer);
/// - length rule gives more than 253 PDU bytes → Discard 1 byte;
/// - length unknown (no rule) → NeedMore, unless a gap was marked; if more than 256 bytes (the
///   largest ADU) pile up with no rule and no gap, Discard 1 byte so that the line cannot wedge;
/// - while resynchronising (after a Discard of 1 byte, until the next Frame or gap) an unknown
///   function code cannot start a frame: Discard 1 byte at once, so that a corrupted frame does not
///   hold back the good ones behind it on a transport without gaps (RTU over TCP);
/// - after markFrameGap(): the buffered bytes end at a frame boundary. A frame whose length is known
///   is taken as above; otherwise whatever is buffered is one frame if its CRC over all of it is good
///   (4..256 bytes), else Discard 1 byte (or everything, when fewer than 4 bytes remain).
class RtuFramer final : public Framer {
 public:
  static constexpr std::size_t kMinAduSize = 4;    ///< unit id + function code + CRC
  static constexpr std::size_t kMaxAduSize = 256;  ///< unit id + 253 PDU bytes + CRC

  RtuFramer() noexcept;

  DecodeResult decode(std::span<const std::uint8_t> input) override;

  /// Writes the unit id; the PDU follows it.
  std::span<std::uint8_t> beginFrame(Buffer& out, const FrameHeader& header,
                                     std::size_t maxPdu = kMaxPduSize) override;
  /// Appends the CRC over unit id + PDU and makes the frame readable in `out`.
  void commitFrame(Buffer& out, std::size_t pduLength) override;

  /// The protocol calls this when t3.5 of silence has passed: the bytes buffered now end at a frame
  /// boundary. Call decode() right away, before appending newer bytes, until it returns NeedMore;
  /// the gap applies until then (and is cleared by that NeedMore or by reset()).
  void markFrameGap() noexcept override {
    gap_ = true;
    resynchronising_ = false;
  }
  /// Forgets a pending gap and any resynchronisation (e.g. when the caller drops its buffer).
  void reset() noexcept override {
    gap_ = false;
    resynchronising_ = false;
  }

  /// Sets how requests with `functionCode` are measured (custom function codes register here).
  void setLengthRule(std::uint8_t functionCode, LengthRule rule) noexcept {
    requestRules_[functionCode] = rule;
  }
  LengthRule lengthRule(std::uint8_t functionCode) const noexcept { return requestRules_[functionCode]; }

  /// Sets how *responses* with `functionCode` are measured (for responseLength).
  void setResponseLengthRule(std::uint8_t functionCode, LengthRule rule) noexcept {
    responseRules_[functionCode] = rule;
  }

  /// The whole ADU length (CRC included) of the *response* frame at the front of `frame`, so that a
  /// server on a shared (multidrop) line can skip other devices' responses. nullopt when the bytes so
  /// far do not tell (too few of them) or the function code is not known, or the length would exceed
  /// 256. Known by default (the table's response rules): exception responses (fc >= 0x80: 5 bytes); FC 1, 2, 3, 4, 12, 17, 20,
  /// 21, 23 (byte count at ADU offset 2); 5, 6, 8, 11, 15, 16 (8 bytes); 7 (5 bytes); 22 (10 bytes);
  /// 24 (16-bit byte count at ADU offset 2); 43 / MEI 14 (walks the object list).
  std::optional<std::size_t> responseLength(std::span<const std::uint8_t> frame) const noexcept override;

  /// Both rules of a custom function code at once (setLengthRule and setResponseLengthRule).
  void setLengthRules(std::uint8_t functionCode, LengthRule request, LengthRule response) noexcept override {
    setLengthRule(functionCode, request);
    setResponseLengthRule(functionCode, response);
  }
  bool framesEndAtGaps() const noexcept override { return true; }

 private:
  DecodeResult afterGap(std::span<const std::uint8_t> input, const char* reason) noexcept;
  DecodeResult resynchronise(const char* reason) noexcept;

  std::array<LengthRule, 256> requestRules_;
  std::array<LengthRule, 256> responseRules_;
  bool gap_ = false;               // the buffered bytes end at a frame boundary
  bool resynchronising_ = false;  // the front of the input is inside garbage
  Buffer* pendingOut_ = nullptr;
  std::size_t pendingRoom_ = 0;
};

}  // namespace modbus
