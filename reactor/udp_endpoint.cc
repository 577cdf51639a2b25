// Parser for "udp:" / "udp6:" endpoint strings, the UDP twin of endpoints.cc's "tcp" parser.
#include "reactor/udp_endpoint.h"

#include "reactor/datagram_protocol.h"
#include "reactor/reactor.h"

namespace reactor {

UdpEndpoint parseUdpEndpoint(const EndpointDescription& desc) {
  if (desc.type != "udp" && desc.type != "udp6") {
    throw EndpointError("a UDP endpoint must start with udp: or udp6:, not '" + desc.type + ":'");
  }
  desc.checkFields({"port", "interface"}, {"maxPacketSize"});
  UdpEndpoint out;
  out.port = desc.port();
  out.interface = desc.args.size() > 1 ? desc.args[1] : desc.get("interface", desc.type == "udp6" ? "::" : "");
  out.maxPacketSize = static_cast<std::size_t>(desc.getInt("maxPacketSize", 8192, 1, 65535));
  return out;
}

std::shared_ptr<IListeningPort> listenUDPFromString(Reactor& reactor, std::string_view description,
                                                    std::shared_ptr<DatagramProtocol> protocol) {
  UdpEndpoint e = parseUdpEndpoint(parseEndpoint(description));
  return reactor.listenUDP(e.port, std::move(protocol), e.interface, e.maxPacketSize);
}

}  // namespace reactor
