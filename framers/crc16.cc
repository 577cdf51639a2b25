// CRC-16/MODBUS, table driven (poly 0xA001 reflected, init 0xFFFF): the RTU frame check.
#include "framers/crc16.h"

#include <array>

#include "framers/bytes_be.h"

namespace modbus {
namespace {

constexpr std::uint16_t kPolynomial = 0xA001;  // 0x8005 bit-reversed

constexpr std::array<std::uint16_t, 256> makeTable() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    std::uint16_t crc = static_cast<std::uint16_t>(byte);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1U) ? static_cast<std::uint16_t>((crc >> 1) ^ kPolynomial)
                       : static_cast<std::uint16_t>(crc >> 1);
    }
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<std::uint16_t, 256> kTable = makeTable();

}  // namespace

std::uint16_t crc16(std::span<const std::uint8_t> data, std::uint16_t crc) noexcept {
  for (std::uint8_t byte : data) {
    crc = static_cast<std::uint16_t>((crc >> 8) ^ kTable[(crc ^ byte) & 0xFFU]);
  }
  return crc;
}

bool crcMatches(std::span<const std::uint8_t> adu) noexcept {
  if (adu.size() < 2) return false;
  const std::size_t body = adu.size() - 2;
  return crc16(adu.first(body)) == readU16LE(adu.data() + body);
}

}  // namespace modbus
