// Modbus PDU constants and field access (Modbus Application Protocol v1.1b3 §4, §6).
#pragma once

#include <cstddef>
#include <cstdint>

namespace modbus::pdu {

/// Largest PDU in either direction: 256-byte RTU ADU minus address and CRC.
inline constexpr std::size_t kMaxSize = 253;
/// Set in the function code of an exception response.
inline constexpr std::uint8_t kExceptionFlag = 0x80;

// Public function codes handled by RequestProcessor out of the box.
inline constexpr std::uint8_t kReadCoils = 0x01;
inline constexpr std::uint8_t kReadDiscreteInputs = 0x02;
inline constexpr std::uint8_t kReadHoldingRegisters = 0x03;
inline constexpr std::uint8_t kReadInputRegisters = 0x04;
inline constexpr std::uint8_t kWriteSingleCoil = 0x05;
inline constexpr std::uint8_t kWriteSingleRegister = 0x06;
inline constexpr std::uint8_t kWriteMultipleCoils = 0x0F;
inline constexpr std::uint8_t kWriteMultipleRegisters = 0x10;
inline constexpr std::uint8_t kMaskWriteRegister = 0x16;
inline constexpr std::uint8_t kReadWriteMultipleRegisters = 0x17;

// Quantity limits (a quantity outside 1..max is IllegalDataValue).
inline constexpr std::uint16_t kMaxReadBits = 2000;                 // FC 1, 2
inline constexpr std::uint16_t kMaxReadRegisters = 125;             // FC 3, 4, 23 (read part)
inline constexpr std::uint16_t kMaxWriteBits = 1968;                // FC 15
inline constexpr std::uint16_t kMaxWriteRegisters = 123;            // FC 16
inline constexpr std::uint16_t kMaxReadWriteWriteRegisters = 121;   // FC 23 (write part)

/// FC 5 values: the only two a server accepts.
inline constexpr std::uint16_t kCoilOn = 0xFF00;
inline constexpr std::uint16_t kCoilOff = 0x0000;

/// The 16-bit big-endian field at `p[0..1]`.
constexpr std::uint16_t readU16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

/// Writes `value` big-endian into `p[0..1]`.
constexpr void writeU16(std::uint8_t* p, std::uint16_t value) noexcept {
  p[0] = static_cast<std::uint8_t>(value >> 8);
  p[1] = static_cast<std::uint8_t>(value & 0xFF);
}

}  // namespace modbus::pdu
