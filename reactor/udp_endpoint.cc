// Parser for "udp:" / "udp6:" endpoint strings, the UDP twin of endpoints.cc's "tcp" parser.
#include "reactor/udp_endpoint.h"

#include "reactor/datagram_protocol.h"
#include "reactor/reactor.h"

namespace reactor {

UdpEndpoint parseUdpEndpoint(const EndpointDescription& desc) {
  if (desc.type != "udp" && desc.type != "udp6") {
    throw EndpointError("a UDP endpoint must start with udp: or udp6:, not '" + desc.type + ":'");
  }
  static const char* const kParams[] = {"port", "interface"};
  if (desc.args.size() > 2) {
    throw EndpointError("endpoint '" + desc.type + "' takes at most 2 positional fields (port, interface)");
  }
  for (const auto& [key, value] : desc.kwargs) {
    if (key == "maxPacketSize") continue;
    bool known = false;
    for (std::size_t i = 0; i < 2; ++i) {
      if (key != kParams[i]) continue;
      known = true;
      if (i < desc.args.size()) {
        throw EndpointError("endpoint '" + desc.type + "' got '" + key + "' both positionally and as a keyword");
      }
    }
    if (!known) throw EndpointError("unknown keyword '" + key + "' for endpoint '" + desc.type + "'");
  }
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
