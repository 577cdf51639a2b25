// SocketFramer: Modbus/TCP MBAP framing (also what TLS carries); replaces pymodbus framer/socket.py.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "framers/framer.h"

namespace modbus {

/// MBAP framing: transaction id (2), protocol id (2), length (2) = unit id + PDU bytes, unit id (1),
/// then the PDU. All fields big-endian.
///
/// Decode rules (unlike pymodbus, nothing here wedges or drops a pipelined frame):
/// - fewer than 6 bytes, or fewer than 6 + length → NeedMore;
/// - length outside 2..254 → Fatal ("MBAP length out of range"): the stream cannot be resynchronised;
/// - protocol id != 0 → Discard exactly that frame (6 + length bytes) once it has fully arrived (the
///   header is filled in, for the log), and the connection keeps serving;
/// - otherwise Frame, whose header carries transaction id, protocol id (0) and unit id, and whose pdu
///   points into the input.
/// TLS (Modbus/TCP Security) carries the same MBAP ADU, so a TLS connection uses this framer too.
class SocketFramer final : public Framer {
 public:
  static constexpr std::size_t kHeaderSize = 7;  ///< MBAP header incl. the unit id
  static constexpr std::uint16_t kMinLength = 2;    ///< unit id + function code
  static constexpr std::uint16_t kMaxLength = 254;  ///< unit id + kMaxPduSize

  DecodeResult decode(std::span<const std::uint8_t> input) override;

  /// Writes the 7-byte header (transaction id, protocol id 0, unit id) in place; the PDU follows it.
  std::span<std::uint8_t> beginFrame(Buffer& out, const FrameHeader& header,
                                     std::size_t maxPdu = kMaxPduSize) override;
  /// Sets the length field to n + 1 and makes header + PDU readable in `out`.
  void commitFrame(Buffer& out, std::size_t pduLength) override;

 private:
  Buffer* pendingOut_ = nullptr;
  std::size_t pendingRoom_ = 0;
};

}  // namespace modbus
