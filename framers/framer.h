// The interface every Modbus framer implements: incremental decode of requests, zero-copy encode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "framers/buffer.h"
#include "framers/length_rule.h"

namespace modbus {

/// The largest PDU (function code + data) the Modbus application protocol allows.
inline constexpr std::size_t kMaxPduSize = 253;

/// What a frame carries besides its PDU. RTU and ASCII frames have only a unit id (the others are 0).
struct FrameHeader {
  std::uint16_t transactionId = 0;
  std::uint16_t protocolId = 0;
  std::uint8_t unitId = 0;
};

enum class DecodeStatus { NeedMore, Frame, Discard, Fatal };

struct DecodeResult {
  DecodeStatus status = DecodeStatus::NeedMore;
  std::size_t consumed = 0;           ///< Frame/Discard: bytes to drop from the front of the input
  FrameHeader header;                 ///< Frame
  std::span<const std::uint8_t> pdu;  ///< Frame: function code + data, a view (see Framer::decode)
  const char* reason = "";            ///< Discard/Fatal: why (static string, for the log)
};

/// A Modbus framer: a pure codec between a byte stream and (header, PDU) pairs. No I/O, no timers.
///
/// The caller's loop: append received bytes to a Buffer, then call `decode(buffer.readable())` and
/// act on the result until it says NeedMore (or Fatal): on Frame handle the PDU and then
/// `retrieve(consumed)`, on Discard log `reason` and `retrieve(consumed)`. A framer instance belongs
/// to one connection (or one serial line): it may keep per-stream state.
class Framer {
 public:
  virtual ~Framer() = default;

  /// Looks at the front of `input` only. NeedMore: nothing consumed, wait for more bytes.
  /// Frame: one whole frame of `consumed` bytes. Discard: drop `consumed` bytes (>= 1) and call again.
  /// Fatal: the stream cannot be resynchronised (the caller closes the connection).
  /// A Frame's `pdu` view stays valid until the next call to `decode` on this framer or until the
  /// input bytes are modified, whichever comes first (it may point into `input` or into the framer).
  virtual DecodeResult decode(std::span<const std::uint8_t> input) = 0;

  /// Response encoding straight into `out`, no intermediate copy: beginFrame reserves the header and
  /// room for up to maxPdu PDU bytes and returns the span to write the PDU into; commitFrame(out, n)
  /// fixes up lengths / appends the checksum for a PDU of n bytes. One begin/commit pair at a time,
  /// and `out` must not be touched between them.
  /// beginFrame throws std::length_error if maxPdu > kMaxPduSize; commitFrame throws std::logic_error
  /// without a matching beginFrame on `out`, and std::length_error if n exceeds the reserved room.
  /// A begun frame that is never committed leaves `out` unchanged (the next beginFrame replaces it).
  virtual std::span<std::uint8_t> beginFrame(Buffer& out, const FrameHeader& header,
                                             std::size_t maxPdu = kMaxPduSize) = 0;
  virtual void commitFrame(Buffer& out, std::size_t pduLength) = 0;

  // --- what differs between framings, asked for by the protocols (no caller casts to a concrete
  // framer). The defaults are those of a framing that carries its own length and end (MBAP).

  /// True when a frame's end is known only from timing or from the end of a datagram (RTU): the
  /// transport then calls markFrameGap() at t3.5 of silence or at the end of each datagram.
  virtual bool framesEndAtGaps() const noexcept { return false; }
  /// The bytes passed to the next decode() end at a frame boundary: a frame whose length the framer
  /// cannot measure from its content may be taken whole. Cleared by the next NeedMore or by reset().
  virtual void markFrameGap() noexcept {}
  /// Forgets per-stream state (a pending gap, resynchronisation) when the caller drops its input.
  virtual void reset() noexcept {}
  /// FC 8 / 03: the character after CR that ends an incoming frame. Only ASCII framing has one.
  virtual void setInputDelimiter(std::uint8_t delimiter) noexcept { (void)delimiter; }
  /// How a custom function code's requests and responses are measured (RTU needs it; framings that
  /// carry a length ignore it).
  virtual void setLengthRules(std::uint8_t functionCode, LengthRule request, LengthRule response) noexcept {
    (void)functionCode;
    (void)request;
    (void)response;
  }
  /// The whole length of the *response* frame at the front of `frame`, when the framing needs it to
  /// skip another device's response on a shared line (RTU); nullopt when it cannot tell.
  virtual std::optional<std::size_t> responseLength(std::span<const std::uint8_t> frame) const noexcept {
    (void)frame;
    return std::nullopt;
  }

  /// Convenience: begin + copy + commit. Throws std::length_error if pdu.size() > kMaxPduSize.
  void encode(Buffer& out, const FrameHeader& header, std::span<const std::uint8_t> pdu);
};

}  // namespace modbus
