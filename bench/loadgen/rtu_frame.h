// The load generator's Modbus RTU side, written apart from framers/ so that the benchmark checks the
// server with code of its own: CRC-16/MODBUS, read requests, the check of every reply (CRC, unit,
// function, byte count and register values), and the theoretical request/response rate of a line.
// Pure: no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace bench {

/// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF). On the wire the low byte goes first.
std::uint16_t crc16Modbus(std::span<const std::uint8_t> bytes);

/// An RTU read request (FC 3 or 4): unit, function, address, quantity, CRC: always 8 bytes.
struct RtuReadRequest {
  std::uint8_t unit = 1;
  std::uint8_t function = 3;
  std::uint16_t address = 0;
  std::uint16_t quantity = 10;

  /// The 8 bytes of the request. Throws std::invalid_argument for a function other than 3 / 4, a
  /// quantity outside 1..125, a unit outside 1..247 (0 is broadcast: reads get no answer), or a
  /// range past 65535.
  std::array<std::uint8_t, 8> encode() const;
  /// The length of a normal reply: unit, function, byte count, 2 x quantity, CRC.
  std::size_t replyLength() const { return 5u + 2u * quantity; }
};

enum class RtuReplyStatus {
  Ok,
  NeedMore,       ///< fewer bytes than the reply needs (an exception reply is 5 bytes)
  TooLong,        ///< more bytes than the reply: the line carries something else too
  BadCrc,
  WrongUnit,
  Exception,      ///< function | 0x80 with a good CRC
  WrongFunction,
  BadByteCount,
  BadValue,       ///< a register differs from the value expected
};
const char* rtuReplyStatusName(RtuReplyStatus status);

/// Checks `reply` (everything received since the request was sent) against `request`. When
/// `expectAddressValues` is set, register i must hold the value i & 0xFFFF (how the bench server
/// fills its holding registers), so content is checked, not only the shape.
RtuReplyStatus checkRtuReply(const RtuReadRequest& request, std::span<const std::uint8_t> reply,
                             bool expectAddressValues);

/// The best a half-duplex serial line can do for one request/response pair, one at a time.
struct RtuLineRate {
  double characterSeconds = 0;  ///< bitsPerCharacter / baud
  double t35Seconds = 0;        ///< 3.5 characters, fixed at 1.75 ms above 19 200 baud
  double secondsPerPair = 0;    ///< (request + response bytes) x character + 2 x t3.5
  double pairsPerSecond = 0;
};

/// Modbus over Serial Line v1.02 §2.5.1.1: a frame is followed by at least t3.5 of silence, so a
/// pair costs its characters plus two t3.5 gaps (request → response, response → next request).
/// `bitsPerCharacter` is 11 for 8E1 / 8O1 / 8N2 (the guide's RTU character) and 10 for 8N1.
/// Throws std::invalid_argument for a zero baud rate or bits outside 7..12.
RtuLineRate rtuLineRate(std::uint32_t baud, unsigned bitsPerCharacter, std::size_t requestBytes,
                        std::size_t responseBytes);

}  // namespace bench
