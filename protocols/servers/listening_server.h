// What the servers that listen on ports (TCP, UDP, TLS) share: the ports they listen on, their
// bound addresses, and closing the ports on shutdown and destruction. The serial server has a
// line, not ports, and derives from ModbusServer directly.
// Tests: tests/integration/server_command_test.cc, udp_test.cc, tls_test.cc.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/servers/modbus_server.h"
#include "reactor/address.h"
#include "reactor/endpoints.h"
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
  /// The endpoint of a stream server (TCP, TLS) for `endpoint`, whose type must be one of `types`
  /// (EndpointError naming `server` otherwise), listening with `backlog` unless the string names one.
  /// Construction parses every field and loads any certificate files.
  static std::unique_ptr<reactor::IStreamServerEndpoint> streamEndpoint(reactor::Reactor& reactor,
                                                                         std::string_view endpoint,
                                                                         std::initializer_list<std::string_view> types,
                                                                         std::string_view server, int backlog) {
    reactor::EndpointDescription desc = reactor::parseEndpoint(endpoint);
    bool known = false;
    for (std::string_view t : types) known = known || desc.type == t;
    if (!known) {
      throw reactor::EndpointError("a " + std::string(server) + " needs a " + std::string(*types.begin()) +
                                   ": endpoint, not '" + desc.type + ":'");
    }
    std::string spec(endpoint);
    if (!desc.has("backlog")) spec += ":backlog=" + std::to_string(backlog);
    return reactor::serverFromString(reactor, spec);
  }
  void stopListening() {
    for (auto& p : ports_) p->stopListening();
  }

 private:
  std::vector<std::shared_ptr<Port>> ports_;
};

}  // namespace modbus
