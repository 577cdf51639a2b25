// StringTransport's loss delivery and MemoryReactor's recording (reactor/testing.h).
#include "reactor/testing.h"

#include <string>
#include <utility>

#include "reactor/detail/access.h"

namespace reactor::testing {

namespace {

Address addressFor(Address::Type type, std::string_view host, std::uint16_t port) {
  std::string text = host.empty() ? std::string("0.0.0.0") : std::string(host);
  const bool ipv6 = text.find(':') != std::string::npos;
  return Address{type, std::move(text), port, ipv6};
}

/// Port 0 reports 30000 + the call's index: a stable "port the OS chose" for assertions.
std::uint16_t chosenPort(std::uint16_t asked, std::size_t index) {
  return asked != 0 ? asked : static_cast<std::uint16_t>(30000 + index % 30000);
}

}  // namespace

void StringTransport::reportConnectionLost(Protocol& protocol, const Failure& reason) {
  if (lost_) return;
  lost_ = true;
  disconnecting_ = true;
  if (auto p = producer_.lock()) {
    producer_.reset();
    p->stopProducing();
  }
  reactor::detail::ProtocolAccess::markDisconnected(protocol);
  protocol.connectionLost(reason);
}

std::shared_ptr<IListeningPort> MemoryReactor::listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory,
                                                         int backlog, std::string_view interface) {
  auto listening = std::make_shared<Port>(
      addressFor(Address::Type::TCP, interface, chosenPort(port, tcpServers.size() + udpServers.size())));
  tcpServers.push_back(TcpServer{port, std::move(factory), backlog, std::string(interface), listening});
  return listening;
}

std::shared_ptr<IConnector> MemoryReactor::connectTCP(std::string_view host, std::uint16_t port,
                                                      std::shared_ptr<ClientFactory> factory, double timeout,
                                                      std::string_view bindAddress) {
  auto connector = std::make_shared<Connector>(addressFor(Address::Type::TCP, host, port));
  tcpClients.push_back(
      TcpClient{std::string(host), port, std::move(factory), timeout, std::string(bindAddress), connector});
  return connector;
}

std::shared_ptr<IListeningPort> MemoryReactor::listenUDP(std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                                                         std::string_view interface, std::size_t maxPacketSize) {
  auto listening = std::make_shared<Port>(
      addressFor(Address::Type::UDP, interface, chosenPort(port, tcpServers.size() + udpServers.size())));
  udpServers.push_back(UdpServer{port, std::move(protocol), std::string(interface), maxPacketSize, listening});
  return listening;
}

std::shared_ptr<IListeningPort> MemoryReactor::listenUNIX(std::string_view address, std::shared_ptr<Factory> factory,
                                                          int backlog, unsigned mode, bool wantPID) {
  auto listening = std::make_shared<Port>(Address{Address::Type::UNIX, std::string(address), 0, false});
  unixServers.push_back(UnixServer{std::string(address), std::move(factory), backlog, mode, wantPID, listening});
  return listening;
}

std::shared_ptr<IConnector> MemoryReactor::connectUNIX(std::string_view address, std::shared_ptr<ClientFactory> factory,
                                                       double timeout) {
  auto connector = std::make_shared<Connector>(Address{Address::Type::UNIX, std::string(address), 0, false});
  unixClients.push_back(UnixClient{std::string(address), std::move(factory), timeout, connector});
  return connector;
}

}  // namespace reactor::testing
