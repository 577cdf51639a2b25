// Big-endian byte assembly for Modbus fields (never type-punned loads: the muduo codec's SIGBUS lesson).
#pragma once

#include <cstdint>

namespace modbus {

/// Reads the 16-bit big-endian value at `p[0..1]` (Modbus order: high byte first).
constexpr std::uint16_t readU16BE(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

/// Writes `value` big-endian into `p[0..1]`.
constexpr void writeU16BE(std::uint8_t* p, std::uint16_t value) noexcept {
  p[0] = static_cast<std::uint8_t>(value >> 8);
  p[1] = static_cast<std::uint8_t>(value & 0xFF);
}

/// Reads the 16-bit little-endian value at `p[0..1]` (the order of the RTU CRC on the wire).
constexpr std::uint16_t readU16LE(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

/// Writes `value` little-endian into `p[0..1]` (the RTU CRC: low byte first).
constexpr void writeU16LE(std::uint8_t* p, std::uint16_t value) noexcept {
  p[0] = static_cast<std::uint8_t>(value & 0xFF);
  p[1] = static_cast<std::uint8_t>(value >> 8);
}

}  // namespace modbus
