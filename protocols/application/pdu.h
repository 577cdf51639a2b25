// Modbus PDU constants of the application layer (Modbus Application Protocol v1.1b3 §4, §6): the
// function codes (from framers/function_codes.h), quantity limits, FC 5 values and FC 8
// sub-functions. One namespace, modbus::pdu, for the built-in and the device function codes.
// Tests: tests/protocols/application/request_processor_test.cc, device_functions_test.cc
#pragma once

#include <cstddef>
#include <cstdint>

#include "framers/bytes_be.h"
#include "framers/framer.h"
#include "framers/function_codes.h"

namespace modbus::pdu {

// Quantity limits (a quantity outside 1..max is IllegalDataValue).
inline constexpr std::uint16_t kMaxReadBits = 2000;                 // FC 1, 2
inline constexpr std::uint16_t kMaxReadRegisters = 125;             // FC 3, 4, 23 (read part)
inline constexpr std::uint16_t kMaxWriteBits = 1968;                // FC 15
inline constexpr std::uint16_t kMaxWriteRegisters = 123;            // FC 16
inline constexpr std::uint16_t kMaxReadWriteWriteRegisters = 121;   // FC 23 (write part)

/// FC 5 values: the only two a server accepts.
inline constexpr std::uint16_t kCoilOn = 0xFF00;
inline constexpr std::uint16_t kCoilOff = 0x0000;

/// FC 20 / 21 sub-request reference type.
inline constexpr std::uint8_t kFileReferenceType = 6;

/// FC 8 sub-functions (Serial Line guide §6.1; 0x05-0x09, 0x13 and 0x15+ are undefined → 01).
enum DiagnosticSubFunction : std::uint16_t {
  kReturnQueryData = 0x00,
  kRestartCommunications = 0x01,
  kReturnDiagnosticRegister = 0x02,
  kChangeAsciiInputDelimiter = 0x03,
  kForceListenOnlyMode = 0x04,
  kClearCountersAndDiagnosticRegister = 0x0A,
  kReturnBusMessageCount = 0x0B,
  kReturnBusCharacterOverrunCount = 0x12,
  kClearOverrunCounterAndFlag = 0x14,
};

}  // namespace modbus::pdu
