// Modbus RTU for the load generator: CRC, read requests, reply checks and the line's rate.
#include "bench/loadgen/rtu_frame.h"

#include <stdexcept>

namespace bench {

std::uint16_t crc16Modbus(std::span<const std::uint8_t> bytes) {
  std::uint16_t crc = 0xFFFF;
  for (std::uint8_t b : bytes) {
    crc ^= b;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1u) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001u) : static_cast<std::uint16_t>(crc >> 1);
    }
  }
  return crc;
}

std::array<std::uint8_t, 8> RtuReadRequest::encode() const {
  if (function != 3 && function != 4) throw std::invalid_argument("RTU bench: only FC 3 and 4 are supported");
  if (quantity < 1 || quantity > 125) throw std::invalid_argument("RTU bench: quantity must be 1..125");
  if (unit < 1 || unit > 247) throw std::invalid_argument("RTU bench: unit must be 1..247");
  if (static_cast<std::uint32_t>(address) + quantity > 0x10000u) {
    throw std::invalid_argument("RTU bench: the range runs past address 65535");
  }
  std::array<std::uint8_t, 8> out{unit,
                                  function,
                                  static_cast<std::uint8_t>(address >> 8),
                                  static_cast<std::uint8_t>(address & 0xFF),
                                  static_cast<std::uint8_t>(quantity >> 8),
                                  static_cast<std::uint8_t>(quantity & 0xFF),
                                  0,
                                  0};
  std::uint16_t crc = crc16Modbus(std::span<const std::uint8_t>(out.data(), 6));
  out[6] = static_cast<std::uint8_t>(crc & 0xFF);
  out[7] = static_cast<std::uint8_t>(crc >> 8);
  return out;
}

const char* rtuReplyStatusName(RtuReplyStatus status) {
  switch (status) {
    case RtuReplyStatus::Ok: return "ok";
    case RtuReplyStatus::NeedMore: return "need_more";
    case RtuReplyStatus::TooLong: return "too_long";
    case RtuReplyStatus::BadCrc: return "bad_crc";
    case RtuReplyStatus::WrongUnit: return "wrong_unit";
    case RtuReplyStatus::Exception: return "exception_response";
    case RtuReplyStatus::WrongFunction: return "wrong_function";
    case RtuReplyStatus::BadByteCount: return "bad_byte_count";
    case RtuReplyStatus::BadValue: return "bad_value";
  }
  return "?";
}

namespace {

bool crcOk(std::span<const std::uint8_t> frame) {
  if (frame.size() < 4) return false;
  std::uint16_t crc = crc16Modbus(frame.first(frame.size() - 2));
  return frame[frame.size() - 2] == (crc & 0xFF) && frame[frame.size() - 1] == (crc >> 8);
}

}  // namespace

RtuReplyStatus checkRtuReply(const RtuReadRequest& request, std::span<const std::uint8_t> reply,
                             bool expectAddressValues) {
  if (reply.size() < 2) return RtuReplyStatus::NeedMore;
  // An exception reply is 5 bytes; tell it apart by its function byte once two bytes are in.
  if (reply[1] == (request.function | 0x80)) {
    if (reply.size() < 5) return RtuReplyStatus::NeedMore;
    if (reply.size() > 5) return RtuReplyStatus::TooLong;
    if (!crcOk(reply)) return RtuReplyStatus::BadCrc;
    return reply[0] != request.unit ? RtuReplyStatus::WrongUnit : RtuReplyStatus::Exception;
  }
  const std::size_t expected = request.replyLength();
  if (reply.size() < expected) {
    // A wrong byte count would leave us waiting for bytes that never come: say so as soon as it shows.
    if (reply.size() >= 3 && reply[1] == request.function && reply[2] != 2u * request.quantity) {
      return RtuReplyStatus::BadByteCount;
    }
    return RtuReplyStatus::NeedMore;
  }
  if (reply.size() > expected) return RtuReplyStatus::TooLong;
  if (!crcOk(reply)) return RtuReplyStatus::BadCrc;
  if (reply[0] != request.unit) return RtuReplyStatus::WrongUnit;
  if (reply[1] != request.function) return RtuReplyStatus::WrongFunction;
  if (reply[2] != 2u * request.quantity) return RtuReplyStatus::BadByteCount;
  if (expectAddressValues) {
    for (std::size_t i = 0; i < request.quantity; ++i) {
      std::uint16_t value = static_cast<std::uint16_t>((reply[3 + 2 * i] << 8) | reply[4 + 2 * i]);
      if (value != static_cast<std::uint16_t>(request.address + i)) return RtuReplyStatus::BadValue;
    }
  }
  return RtuReplyStatus::Ok;
}

RtuLineRate rtuLineRate(std::uint32_t baud, unsigned bitsPerCharacter, std::size_t requestBytes,
                        std::size_t responseBytes) {
  if (baud == 0) throw std::invalid_argument("rtuLineRate: baud rate 0");
  if (bitsPerCharacter < 7 || bitsPerCharacter > 12) throw std::invalid_argument("rtuLineRate: bits per character");
  RtuLineRate rate;
  rate.characterSeconds = static_cast<double>(bitsPerCharacter) / static_cast<double>(baud);
  rate.t35Seconds = baud > 19200 ? 1.75e-3 : 3.5 * rate.characterSeconds;
  rate.secondsPerPair =
      static_cast<double>(requestBytes + responseBytes) * rate.characterSeconds + 2.0 * rate.t35Seconds;
  rate.pairsPerSecond = 1.0 / rate.secondsPerPair;
  return rate;
}

}  // namespace bench
