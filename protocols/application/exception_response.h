// The exception answer of the application layer, shared by the request processor and the device
// function handlers (so that neither includes the other): `fc|0x80, code`.
// Rules: never writes past `response`; a response span shorter than 2 bytes gets nothing.
// Tests: tests/protocols/application/request_processor_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "datastore/exception_code.h"
#include "framers/function_codes.h"

namespace modbus {

/// Writes `functionCode | 0x80, code` into response; returns 2 (0 if `response` holds fewer than 2 bytes).
inline std::size_t exceptionResponse(std::uint8_t functionCode, ExceptionCode code,
                                     std::span<std::uint8_t> response) noexcept {
  if (response.size() < 2) return 0;
  response[0] = static_cast<std::uint8_t>(functionCode | pdu::kExceptionFlag);
  response[1] = static_cast<std::uint8_t>(code);
  return 2;
}

/// The exception answer to `request` (request[0] is its function code; the span is never empty).
inline std::size_t exceptionFor(std::span<const std::uint8_t> request, ExceptionCode code,
                                std::span<std::uint8_t> response) noexcept {
  return exceptionResponse(request[0], code, response);
}

}  // namespace modbus
