// The public Modbus function codes and one table of facts about each: name, kind, whether a broadcast
// may carry it, whether it is serial-line only, and the RTU length rules of its request and response.
// Pure data, no I/O. Every layer that needs to know something about a function code asks here: the
// RTU framer (length rules), the request processor (broadcast, on every transport), write observers
// and roles (what writes). Codes not in the table (custom ones) answer "unknown" (name == nullptr).
// Tests: tests/framers/function_codes_test.cc
#pragma once

#include <cstdint>
#include <string_view>

#include "framers/length_rule.h"

namespace modbus {

/// The function codes themselves (Modbus Application Protocol v1.1b3 §6), in one namespace for both
/// layers; protocols/application/pdu.h adds the application-level limits.
namespace pdu {
inline constexpr std::uint8_t kReadCoils = 0x01;
inline constexpr std::uint8_t kReadDiscreteInputs = 0x02;
inline constexpr std::uint8_t kReadHoldingRegisters = 0x03;
inline constexpr std::uint8_t kReadInputRegisters = 0x04;
inline constexpr std::uint8_t kWriteSingleCoil = 0x05;
inline constexpr std::uint8_t kWriteSingleRegister = 0x06;
inline constexpr std::uint8_t kReadExceptionStatus = 0x07;
inline constexpr std::uint8_t kDiagnostics = 0x08;
inline constexpr std::uint8_t kGetCommEventCounter = 0x0B;
inline constexpr std::uint8_t kGetCommEventLog = 0x0C;
inline constexpr std::uint8_t kWriteMultipleCoils = 0x0F;
inline constexpr std::uint8_t kWriteMultipleRegisters = 0x10;
inline constexpr std::uint8_t kReportServerId = 0x11;
inline constexpr std::uint8_t kReadFileRecord = 0x14;
inline constexpr std::uint8_t kWriteFileRecord = 0x15;
inline constexpr std::uint8_t kMaskWriteRegister = 0x16;
inline constexpr std::uint8_t kReadWriteMultipleRegisters = 0x17;
inline constexpr std::uint8_t kReadFifoQueue = 0x18;
inline constexpr std::uint8_t kEncapsulatedInterface = 0x2B;
/// FC 43 MEI types.
inline constexpr std::uint8_t kMeiCanopen = 0x0D;
inline constexpr std::uint8_t kMeiReadDeviceIdentification = 0x0E;
/// Set in the function code of an exception response.
inline constexpr std::uint8_t kExceptionFlag = 0x80;
}  // namespace pdu

/// What a function code does to the device's data.
enum class FunctionKind : std::uint8_t {
  Unknown,     ///< not a public code of the table (custom codes, reserved codes)
  Read,        ///< reads data, changes nothing
  Write,       ///< changes data; its answer only confirms
  ReadWrite,   ///< writes, then reads (FC 23)
  Diagnostic,  ///< reports on or acts on the device and its line (FC 7, 8, 11, 12, 17, 43)
};

/// The facts about one function code. A default-constructed entry is an unknown code.
struct FunctionCodeInfo {
  const char* name = nullptr;  ///< e.g. "Read Holding Registers"; nullptr for an unknown code
  FunctionKind kind = FunctionKind::Unknown;
  /// A request with unit id 0 is executed by every device and never answered (see the reasoning in
  /// function_codes.cc). RequestProcessor applies this on every transport.
  bool broadcastable = false;
  /// Defined for serial lines only (v1.1b3: FC 7, 8, 11, 12, 17); servers answer them on any transport.
  bool serialLineOnly = false;
  /// How an RTU request PDU is measured (RtuFramer's default rules); UntilGap: the t3.5 gap ends it.
  LengthRule request;
  /// How an RTU response PDU is measured (RtuFramer::responseLength); FC 43 is walked by the framer.
  LengthRule response;
};

/// The table entry for `functionCode` (O(1)); an entry with name == nullptr for codes not in it.
const FunctionCodeInfo& functionCodeInfo(std::uint8_t functionCode) noexcept;

/// True for a public code of the table.
inline bool isKnownFunctionCode(std::uint8_t functionCode) noexcept {
  return functionCodeInfo(functionCode).name != nullptr;
}
/// True for codes that change data (Write and ReadWrite): what write observers and roles watch.
inline bool isWriteFunctionCode(std::uint8_t functionCode) noexcept {
  const FunctionKind kind = functionCodeInfo(functionCode).kind;
  return kind == FunctionKind::Write || kind == FunctionKind::ReadWrite;
}
/// True when a broadcast (unit id 0) of this code is executed.
inline bool isBroadcastableFunctionCode(std::uint8_t functionCode) noexcept {
  return functionCodeInfo(functionCode).broadcastable;
}

/// "read", "write", "read-write", "diagnostic" or "unknown".
std::string_view functionKindName(FunctionKind kind) noexcept;

}  // namespace modbus
