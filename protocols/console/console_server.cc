// ConsoleServer and checkConsoleEndpoint.
#include "protocols/console/console_server.h"

#include <arpa/inet.h>

#include <array>
#include <stdexcept>
#include <utility>

#include "reactor/endpoints.h"
#include "reactor/reactor.h"

namespace modbus {

namespace {

bool isLoopback(const std::string& ip) {
  std::array<unsigned char, 16> addr{};
  if (::inet_pton(AF_INET, ip.c_str(), addr.data()) == 1) return addr[0] == 127;
  if (::inet_pton(AF_INET6, ip.c_str(), addr.data()) == 1) {
    static constexpr std::array<unsigned char, 16> kLoopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return addr == kLoopback6;
  }
  return false;
}

}  // namespace

void checkConsoleEndpoint(std::string_view endpoint) {
  reactor::EndpointDescription d = reactor::parseEndpoint(endpoint);
  if (d.type == "unix") return;  // a socket file: reachable only on this machine, by its mode
  if (d.type != "tcp" && d.type != "tcp6") {
    throw reactor::EndpointError("the console listens on a loopback tcp: address or a unix: socket, not '" + d.type +
                                 ":'");
  }
  std::string interface = d.args.size() > 1 ? d.args[1] : d.get("interface");
  if (interface.empty()) {
    throw reactor::EndpointError("the console must not listen on every address: add :interface=127.0.0.1 (or "
                                 "use a unix: socket)");
  }
  if (!isLoopback(interface)) {
    throw reactor::EndpointError("the console listens on loopback only (127.0.0.1, ::1) or a unix: socket, not on " +
                                 interface);
  }
}

ConsoleServer::ConsoleServer(ConsoleTarget target, std::string token, ConsoleOptions options)
    : reactor_(*target.reactor),
      console_(std::make_unique<Console>(std::move(target))),
      factory_(std::make_shared<ConsoleFactory>(*console_, std::move(token), options, &reactor_)) {}

ConsoleServer::~ConsoleServer() {
  stopListening();
  factory_->detach();  // sessions closing after this no longer reach the console
}

reactor::Address ConsoleServer::listen(std::string_view endpoint) {
  checkConsoleEndpoint(endpoint);
  if (port_) throw std::logic_error("ConsoleServer::listen: already listening");
  port_ = reactor::serverFromString(reactor_, endpoint)->listen(factory_);
  return port_->getHost();  // the caller logs it, with where the token is
}

std::optional<reactor::Address> ConsoleServer::address() const {
  if (!port_) return std::nullopt;
  return port_->getHost();
}

void ConsoleServer::stopListening() {
  if (port_) {
    port_->stopListening();
    port_.reset();
  }
  factory_->closeAll();
}

}  // namespace modbus
