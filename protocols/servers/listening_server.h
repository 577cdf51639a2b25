// What the servers that listen on ports (TCP, UDP, TLS) share: the ports they listen on, their
// bound addresses, and closing the ports on shutdown and destruction. The serial server has a
// line, not ports, and derives from ModbusServer directly.
// Tests: tests/integration/server_command_test.cc, udp_test.cc, tls_test.cc.
#pragma once

#include <memory>
#include <vector>

#include "protocols/servers/modbus_server.h"
#include "reactor/address.h"
#include "reactor/interfaces.h"

namespace modbus {

/// A ModbusServer listening on ports of type `Port` (reactor::IListeningPort or a subclass).
template <class Port>
class ListeningServer : public ModbusServer {
 public:
  ~ListeningServer() override { stopListening(); }

  /// The bound addresses, one per listen() call (the real port where the endpoint said 0).
  std::vector<reactor::Address> addresses() const {
    std::vector<reactor::Address> out;
    for (const auto& p : ports_) out.push_back(p->getHost());
    return out;
  }
  const std::vector<std::shared_ptr<Port>>& ports() const { return ports_; }

 protected:
  using ModbusServer::ModbusServer;

  /// Keeps `port` (listening already) and returns its bound address.
  reactor::Address addPort(std::shared_ptr<Port> port) {
    reactor::Address host = port->getHost();
    ports_.push_back(std::move(port));
    return host;
  }
  void stopListening() {
    for (auto& p : ports_) p->stopListening();
  }

 private:
  std::vector<std::shared_ptr<Port>> ports_;
};

}  // namespace modbus
