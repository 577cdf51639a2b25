// CRC-16/MODBUS, table driven (poly 0xA001 reflected, init 0xFFFF): the RTU frame check.
#pragma once

#include <cstdint>
#include <span>

namespace modbus {

inline constexpr std::uint16_t kCrc16Init = 0xFFFF;

/// CRC-16/MODBUS of `data`, continuing from `crc` (pass a previous result to checksum in pieces).
/// On the wire the result goes low byte first (see writeU16LE). Check value: "123456789" → 0x4B37.
std::uint16_t crc16(std::span<const std::uint8_t> data, std::uint16_t crc = kCrc16Init) noexcept;

}  // namespace modbus
