// ModbusRequest: request templates, MBAP splitting and reply validation for the load generator.
#include "bench/loadgen/modbus_request.h"

#include <cstring>
#include <stdexcept>

namespace bench {
namespace {

std::uint16_t u16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
void putU16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v & 0xFF);
}

}  // namespace

const char* replyErrorName(ReplyError error) {
  switch (error) {
    case ReplyError::None: return "none";
    case ReplyError::BadProtocolId: return "bad_protocol_id";
    case ReplyError::UnknownTransaction: return "unknown_transaction";
    case ReplyError::WrongUnit: return "wrong_unit";
    case ReplyError::ExceptionResponse: return "exception_response";
    case ReplyError::WrongFunction: return "wrong_function";
    case ReplyError::BadLength: return "bad_length";
    case ReplyError::BadByteCount: return "bad_byte_count";
    case ReplyError::BadPadding: return "bad_padding";
    case ReplyError::BadEcho: return "bad_echo";
    case ReplyError::Garbage: return "garbage";
  }
  return "?";
}

RequestTemplate::RequestTemplate(const RequestSpec& spec, std::uint8_t unit) : spec_(spec), unit_(unit) {
  std::uint8_t* pdu = adu_.data() + 7;
  pdu[0] = spec.function;
  putU16(pdu + 1, spec.address);
  std::size_t pduSize = 5;
  switch (spec.function) {
    case 1:
    case 2:
    case 3:
    case 4: putU16(pdu + 3, spec.quantity); break;
    case 5: putU16(pdu + 3, 0xFF00); break;
    case 6: putU16(pdu + 3, 0x1234); break;
    case 15: {
      putU16(pdu + 3, spec.quantity);
      std::size_t bytes = (spec.quantity + 7u) / 8u;
      pdu[5] = static_cast<std::uint8_t>(bytes);
      for (std::size_t i = 0; i < bytes; ++i) pdu[6 + i] = 0x55;
      unsigned rest = spec.quantity % 8u;  // clear the unused high bits of the last byte
      if (rest != 0) pdu[5 + bytes] &= static_cast<std::uint8_t>((1u << rest) - 1u);
      pduSize = 6 + bytes;
      break;
    }
    case 16: {
      putU16(pdu + 3, spec.quantity);
      pdu[5] = static_cast<std::uint8_t>(spec.quantity * 2u);
      for (std::size_t i = 0; i < spec.quantity; ++i) putU16(pdu + 6 + 2 * i, static_cast<std::uint16_t>(i));
      pduSize = 6 + 2u * spec.quantity;
      break;
    }
    default: throw std::invalid_argument("RequestTemplate: unsupported function code");
  }
  putU16(adu_.data(), 0);
  putU16(adu_.data() + 2, 0);
  putU16(adu_.data() + 4, static_cast<std::uint16_t>(pduSize + 1));
  adu_[6] = unit;
  size_ = 7 + pduSize;
}

void RequestTemplate::writeTo(std::uint8_t* out, std::uint16_t transactionId) const {
  std::memcpy(out, adu_.data(), size_);
  putU16(out, transactionId);
}

FrameSplit splitFrame(std::span<const std::uint8_t> input) {
  if (input.size() < 6) return {};
  std::uint16_t length = u16(input.data() + 4);
  if (length < 2 || length > 254) return {FrameSplit::Status::Garbage, 0};
  std::size_t total = 6u + length;
  if (input.size() < total) return {};
  return {FrameSplit::Status::Complete, total};
}

ReplyError checkReply(const RequestTemplate& request, std::span<const std::uint8_t> adu) {
  const RequestSpec& spec = request.spec();
  if (u16(adu.data() + 2) != 0) return ReplyError::BadProtocolId;
  if (adu[6] != request.unit()) return ReplyError::WrongUnit;
  const std::uint8_t* pdu = adu.data() + 7;
  std::size_t pduSize = adu.size() - 7;
  if (pdu[0] == (spec.function | 0x80)) return ReplyError::ExceptionResponse;
  if (pdu[0] != spec.function) return ReplyError::WrongFunction;
  switch (spec.function) {
    case 1:
    case 2: {
      std::size_t expected = (spec.quantity + 7u) / 8u;
      if (pduSize < 2) return ReplyError::BadLength;
      if (pdu[1] != expected) return ReplyError::BadByteCount;
      if (pduSize != 2 + expected) return ReplyError::BadLength;
      unsigned rest = spec.quantity % 8u;
      if (rest != 0 && (pdu[1 + expected] >> rest) != 0) return ReplyError::BadPadding;
      return ReplyError::None;
    }
    case 3:
    case 4: {
      std::size_t expected = 2u * spec.quantity;
      if (pduSize < 2) return ReplyError::BadLength;
      if (pdu[1] != expected) return ReplyError::BadByteCount;
      if (pduSize != 2 + expected) return ReplyError::BadLength;
      return ReplyError::None;
    }
    default: {
      // 5, 6, 15, 16: the reply echoes the first four bytes after the function code.
      if (pduSize != 5) return ReplyError::BadLength;
      const std::uint8_t* sent = request.bytes().data() + 7;
      if (std::memcmp(pdu + 1, sent + 1, 4) != 0) return ReplyError::BadEcho;
      return ReplyError::None;
    }
  }
}

}  // namespace bench
