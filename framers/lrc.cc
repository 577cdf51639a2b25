// LRC: the Modbus ASCII frame check (two's complement of the 8-bit sum of unit id and PDU).
#include "framers/lrc.h"

namespace modbus {

std::uint8_t lrc(std::span<const std::uint8_t> data) noexcept {
  std::uint8_t sum = 0;
  for (std::uint8_t byte : data) {
    sum = static_cast<std::uint8_t>(sum + byte);
  }
  return static_cast<std::uint8_t>(-sum);
}

}  // namespace modbus
