// Endpoint strings for UDP ("udp:5020:interface=127.0.0.1", "udp6:5020"), in the syntax of
// reactor/endpoints.h (Twisted has no UDP endpoint string; this follows its "tcp" parser).
// Tests: tests/reactor/udp_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "reactor/endpoints.h"
#include "reactor/interfaces.h"

namespace reactor {

class DatagramProtocol;
class Reactor;

/// A parsed "udp"/"udp6" endpoint.
struct UdpEndpoint {
  std::uint16_t port = 0;
  /// IP literal to bind; "" (every IPv4 address) for "udp", "::" for "udp6".
  std::string interface;
  /// Longer datagrams are truncated (Twisted's maxPacketSize).
  std::size_t maxPacketSize = 8192;
};

/// "udp:PORT[:INTERFACE]" with keywords port=, interface=, maxPacketSize= (1..65535); "udp6"
/// defaults the interface to "::". An IPv6 literal needs its colons escaped ("interface=\:\:1").
/// Throws EndpointError for another type, an unknown keyword or a bad value.
UdpEndpoint parseUdpEndpoint(const EndpointDescription& description);

/// parseEndpoint + parseUdpEndpoint + Reactor::listenUDP. Throws EndpointError or CannotListenError.
std::shared_ptr<IListeningPort> listenUDPFromString(Reactor& reactor, std::string_view description,
                                                    std::shared_ptr<DatagramProtocol> protocol);

}  // namespace reactor
