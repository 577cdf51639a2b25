// Port of twisted.internet.address (IPv4Address, IPv6Address, UNIXAddress) plus a serial-line address.
#pragma once

#include <cstdint>
#include <string>

namespace reactor {

/// Where a transport ends: an IP endpoint (TCP or UDP), a UNIX socket path or a serial device.
struct Address {
  enum class Type { None, TCP, UDP, Serial, UNIX };

  Type type = Type::None;
  /// IP literal ("127.0.0.1", "::1"); for Serial the device path; for UNIX the socket path, empty
  /// for an unnamed socket (the client end of a connectUNIX, as Twisted's UNIXAddress(None)).
  std::string host;
  std::uint16_t port = 0;  ///< 0 for Serial and UNIX.
  bool ipv6 = false;

  /// "127.0.0.1:5020", "[::1]:5020", "/dev/ttyUSB0", "unix:/run/x.sock" or "unix:(unnamed)".
  std::string toString() const;

  friend bool operator==(const Address&, const Address&) = default;
};

}  // namespace reactor
