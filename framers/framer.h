// The interface every Modbus framer implements: incremental decode of requests, zero-copy encode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "framers/buffer.h"

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

  /// Convenience: begin + copy + commit. Throws std::length_error if pdu.size() > kMaxPduSize.
  void encode(Buffer& out, const FrameHeader& header, std::span<const std::uint8_t> pdu);
};

}  // namespace modbus
