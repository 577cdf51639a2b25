// The loops every table implementation shares: registers to and from the big-endian bytes of a PDU,
// bits to and from the PDU's packed bytes (LSB first), and the range check of a contiguous table.
// Header-only and inline: they run once per request on the hot path.
// Tests: tests/datastore/wire_codec_test.cc
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace modbus::wire {

/// True when [address, address + count) lies inside a table of `size` entries starting at `start`.
constexpr bool covers(std::uint16_t start, std::size_t size, std::uint16_t address, std::uint16_t count) noexcept {
  return address >= start && std::size_t{address} + count <= std::size_t{start} + size;
}

/// `count` registers to `out[0 .. 2*count)`, high byte first.
inline void storeRegisters(const std::uint16_t* src, std::size_t count, std::uint8_t* out) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(src[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(src[i] & 0xFF);
  }
}

/// `count` registers from `in[0 .. 2*count)`, high byte first.
inline void loadRegisters(const std::uint8_t* in, std::size_t count, std::uint16_t* dst) noexcept {
  for (std::size_t i = 0; i < count; ++i) dst[i] = static_cast<std::uint16_t>((in[2 * i] << 8) | in[2 * i + 1]);
}

/// `count` bits, one per element of `src` (any non-zero value is 1: a bit is never more than a bit),
/// packed into `out[0 .. (count + 7) / 8)`, the first bit in the low bit; unused high bits are 0.
template <class Bit>
inline void packBits(const Bit* src, std::size_t count, std::uint8_t* out) noexcept {
  const std::size_t bytes = (count + 7) / 8;
  for (std::size_t b = 0; b < bytes; ++b) {
    const std::size_t n = std::min<std::size_t>(8, count - 8 * b);
    unsigned packed = 0;
    for (std::size_t k = 0; k < n; ++k) packed |= unsigned{src[8 * b + k] != 0} << k;
    out[b] = static_cast<std::uint8_t>(packed);
  }
}

/// The inverse of packBits: `count` bits from `packed` into `dst`, each 0 or 1.
template <class Bit>
inline void unpackBits(const std::uint8_t* packed, std::size_t count, Bit* dst) noexcept {
  for (std::size_t i = 0; i < count; ++i) dst[i] = static_cast<Bit>((packed[i / 8] >> (i % 8)) & 1);
}

}  // namespace modbus::wire
