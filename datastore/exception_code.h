// Modbus exception codes (Modbus Application Protocol v1.1b3 §7; pymodbus's ExcCodes).
#pragma once

#include <cstdint>

namespace modbus {

/// The exception code a server puts after `functionCode | 0x80`. `None` means success and is never
/// sent. Datastores return these from their hot interface; the request processor sends them as is
/// (a custom block may therefore answer 05, 06, 0A, ...).
enum class ExceptionCode : std::uint8_t {
  None = 0,
  IllegalFunction = 1,
  IllegalDataAddress = 2,
  IllegalDataValue = 3,
  ServerDeviceFailure = 4,
  Acknowledge = 5,
  ServerDeviceBusy = 6,
  MemoryParityError = 8,
  GatewayPathUnavailable = 0x0A,
  GatewayTargetDeviceFailedToRespond = 0x0B,
};

/// The spec's name of `code` ("IllegalDataAddress"), or "Unknown" for a value outside the enum.
/// (Not called toString: doctest finds that name by ADL and expects its own String type.)
constexpr const char* exceptionCodeName(ExceptionCode code) noexcept {
  switch (code) {
    case ExceptionCode::None: return "None";
    case ExceptionCode::IllegalFunction: return "IllegalFunction";
    case ExceptionCode::IllegalDataAddress: return "IllegalDataAddress";
    case ExceptionCode::IllegalDataValue: return "IllegalDataValue";
    case ExceptionCode::ServerDeviceFailure: return "ServerDeviceFailure";
    case ExceptionCode::Acknowledge: return "Acknowledge";
    case ExceptionCode::ServerDeviceBusy: return "ServerDeviceBusy";
    case ExceptionCode::MemoryParityError: return "MemoryParityError";
    case ExceptionCode::GatewayPathUnavailable: return "GatewayPathUnavailable";
    case ExceptionCode::GatewayTargetDeviceFailedToRespond: return "GatewayTargetDeviceFailedToRespond";
  }
  return "Unknown";
}

}  // namespace modbus
