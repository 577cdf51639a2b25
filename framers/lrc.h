// LRC: the Modbus ASCII frame check (two's complement of the 8-bit sum of unit id and PDU).
#pragma once

#include <cstdint>
#include <span>

namespace modbus {

/// The LRC of `data`: the two's complement of the sum of its bytes, modulo 256. A frame checks out
/// when the sum of its bytes including the LRC is 0 mod 256. Example: 01 03 00 00 00 01 → 0xFB.
std::uint8_t lrc(std::span<const std::uint8_t> data) noexcept;

}  // namespace modbus
