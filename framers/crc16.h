// CRC-16/MODBUS, table driven (poly 0xA001 reflected, init 0xFFFF): the RTU frame check.
// Tests: tests/framers/crc16_test.cc
#pragma once

#include <cstdint>
#include <span>

namespace modbus {

inline constexpr std::uint16_t kCrc16Init = 0xFFFF;

/// CRC-16/MODBUS of `data`, continuing from `crc` (pass a previous result to checksum in pieces).
/// On the wire the result goes low byte first (see writeU16LE). Check value: "123456789" → 0x4B37.
std::uint16_t crc16(std::span<const std::uint8_t> data, std::uint16_t crc = kCrc16Init) noexcept;

/// The RTU frame check: true when `adu` holds at least 2 bytes and its last two are the CRC-16 (low
/// byte first) of the bytes before them. Callers check the frame's minimum length themselves.
bool crcMatches(std::span<const std::uint8_t> adu) noexcept;

}  // namespace modbus
