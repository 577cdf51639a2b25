// AsciiFramer: Modbus ASCII framing (':' + hex(unit, PDU, LRC) + CR LF); replaces pymodbus framer/ascii.py.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "framers/framer.h"

namespace modbus {

/// ASCII framing: ':' then the unit id, PDU and LRC as hex digits (two per byte), then CR and the
/// end delimiter (LF unless FC 8 / sub-function 03 "change ASCII input delimiter" set another).
///
/// Decode (no input can throw or wedge the stream, unlike pymodbus #2917):
/// - bytes before ':' → Discard them;
/// - a ':' inside a frame restarts it → Discard what came before that ':';
/// - CR followed by something other than the delimiter → Discard up to and including the CR;
/// - a frame longer than 513 characters (the largest legal one) → Discard 513 bytes;
/// - at CR + delimiter: odd or too few hex digits (fewer than unit, function code and LRC), a non-hex
///   character, or a wrong LRC → Discard that frame (the next frame is served); otherwise Frame.
/// Hex digits are accepted in either case. The decoded PDU lives in a scratch array owned by the
/// framer: it stays valid until the next decode() call. Encoding uses a second scratch array, so a
/// response may be built from a request's PDU view.
class AsciiFramer final : public Framer {
 public:
  static constexpr std::size_t kMaxFrameChars = 513;  ///< ':' + 2 * (1 + 253 + 1) + CR LF
  static constexpr std::uint8_t kStart = ':';
  static constexpr std::uint8_t kCr = '\r';
  static constexpr std::uint8_t kDefaultDelimiter = '\n';

  DecodeResult decode(std::span<const std::uint8_t> input) override;

  /// Returns room for the PDU in the framer's binary scratch array; `out` is untouched until commit.
  std::span<std::uint8_t> beginFrame(Buffer& out, const FrameHeader& header,
                                     std::size_t maxPdu = kMaxPduSize) override;
  /// Appends ':' + upper-case hex(unit id, PDU, LRC) + CR LF to `out`.
  void commitFrame(Buffer& out, std::size_t pduLength) override;

  /// The character that must follow CR to end an incoming frame (default LF). Responses always end
  /// with CR LF: FC 8 / 03 changes the *input* delimiter only.
  void setDelimiter(std::uint8_t c) noexcept { delimiter_ = c; }
  /// Framer's name for setDelimiter: the protocol follows the served device's FC 8 / 03 delimiter.
  void setInputDelimiter(std::uint8_t c) noexcept override { setDelimiter(c); }
  std::uint8_t delimiter() const noexcept { return delimiter_; }

 private:
  DecodeResult parseFrame(std::span<const std::uint8_t> frame) noexcept;

  std::array<std::uint8_t, 1 + kMaxPduSize + 1> decoded_{};  // unit id, PDU, LRC
  std::array<std::uint8_t, 1 + kMaxPduSize> encoding_{};     // unit id, PDU
  std::uint8_t delimiter_ = kDefaultDelimiter;
  Buffer* pendingOut_ = nullptr;
  std::size_t pendingRoom_ = 0;
};

}  // namespace modbus
