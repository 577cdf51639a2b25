// Reactor::listenUDP (Twisted's IReactorUDP.listenUDP); the port itself is reactor/detail/udp_port.cc.
#include "reactor/datagram_protocol.h"
#include "reactor/detail/udp_port.h"
#include "reactor/reactor.h"

namespace reactor {

std::shared_ptr<IListeningPort> Reactor::listenUDP(std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                                                   std::string_view interface, std::size_t maxPacketSize) {
  return detail::UdpPort::listen(impl(), port, std::move(protocol), interface, maxPacketSize);
}

}  // namespace reactor
