// Port of twisted.internet.address (IPv4Address, IPv6Address) plus a serial-line address.
#pragma once

#include <cstdint>
#include <string>

namespace reactor {

/// Where a transport ends: an IP endpoint (TCP or UDP) or a serial device.
struct Address {
  enum class Type { None, TCP, UDP, Serial };

  Type type = Type::None;
  std::string host;        ///< IP literal ("127.0.0.1", "::1") or, for Serial, the device path.
  std::uint16_t port = 0;  ///< 0 for Serial.
  bool ipv6 = false;

  /// "127.0.0.1:5020", "[::1]:5020" or "/dev/ttyUSB0".
  std::string toString() const;

  friend bool operator==(const Address&, const Address&) = default;
};

}  // namespace reactor
