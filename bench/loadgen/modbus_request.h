// ModbusRequest: the load generator's client-side Modbus/TCP codec — request ADUs built once from a
// RequestSpec, MBAP frame splitting of the reply stream, and the check every reply must pass.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "bench/loadgen/request_mix.h"

namespace bench {

/// Why a reply was rejected (None: it is consistent with its request).
enum class ReplyError {
  None,
  BadProtocolId,       ///< MBAP protocol id is not 0
  UnknownTransaction,  ///< no outstanding request has this transaction id
  WrongUnit,           ///< unit id differs from the request's
  ExceptionResponse,   ///< function code | 0x80 (the server refused)
  WrongFunction,       ///< a function code other than the request's
  BadLength,           ///< the PDU length does not fit the function / byte count
  BadByteCount,        ///< byte count differs from what the quantity asks for
  BadPadding,          ///< unused high bits of the last coil byte are not zero
  BadEcho,             ///< a write reply does not echo address / value / quantity
  Garbage,             ///< the MBAP length field is out of range: the stream is lost
};
inline constexpr std::size_t kReplyErrorKinds = static_cast<std::size_t>(ReplyError::Garbage) + 1;
const char* replyErrorName(ReplyError error);

/// A request ADU prepared once (header, PDU and any values to write); only the transaction id
/// changes per send.
class RequestTemplate {
 public:
  static constexpr std::size_t kMaxAdu = 260;

  RequestTemplate() = default;
  RequestTemplate(const RequestSpec& spec, std::uint8_t unit);

  const RequestSpec& spec() const { return spec_; }
  std::uint8_t unit() const { return unit_; }
  std::size_t size() const { return size_; }
  /// The ADU with transaction id 0.
  std::span<const std::uint8_t> bytes() const { return {adu_.data(), size_}; }
  /// Copies the ADU to `out` (room for size() bytes) with `transactionId` patched in.
  void writeTo(std::uint8_t* out, std::uint16_t transactionId) const;

 private:
  RequestSpec spec_;
  std::uint8_t unit_ = 1;
  std::size_t size_ = 0;
  std::array<std::uint8_t, kMaxAdu> adu_{};
};

/// Where the next MBAP frame ends in `input`.
struct FrameSplit {
  enum class Status { NeedMore, Complete, Garbage };
  Status status = Status::NeedMore;
  std::size_t size = 0;  ///< whole ADU bytes when Complete
};
/// Reads the MBAP header: NeedMore until 6 + length bytes are present; Garbage when the length
/// field is outside 2..254 (no way to resynchronise).
FrameSplit splitFrame(std::span<const std::uint8_t> input);

/// Transaction id of a complete ADU.
inline std::uint16_t transactionIdOf(std::span<const std::uint8_t> adu) {
  return static_cast<std::uint16_t>((adu[0] << 8) | adu[1]);
}

/// Checks a complete reply ADU (as splitFrame cut it) against the request it answers: protocol
/// id, unit, function code (an exception counts as an error), byte count for reads (and zero
/// padding of coil bytes), echoed address/value/quantity for writes. The caller matched the
/// transaction id.
ReplyError checkReply(const RequestTemplate& request, std::span<const std::uint8_t> adu);

}  // namespace bench
