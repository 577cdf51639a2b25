// One Modbus device's tables and its wire-to-block address offset.
#include "datastore/device_context.h"

#include <utility>

namespace modbus {

DeviceContext::DeviceContext(DeviceTables tables, int addressOffset)
    : tables_(std::move(tables)), addressOffset_(addressOffset) {}

std::optional<std::uint16_t> DeviceContext::blockAddress(std::uint16_t wireAddress, std::uint16_t count) const {
  const long long shifted = static_cast<long long>(wireAddress) + addressOffset_;
  if (shifted < 0 || !fitsAddressSpace(static_cast<std::size_t>(shifted), count)) return std::nullopt;
  return static_cast<std::uint16_t>(shifted);
}

}  // namespace modbus
