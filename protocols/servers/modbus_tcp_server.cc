// ModbusTcpServer / StartTcpServer.
#include "protocols/servers/modbus_tcp_server.h"

#include <string>

#include "reactor/endpoints.h"
#include "reactor/log.h"

namespace modbus {

ModbusTcpServer::ModbusTcpServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context,
                                 ServerOptions options)
    : ListeningServer(reactor), factory_(std::make_shared<ModbusServerFactory>(std::move(context), options)) {
  factory_->setClock(&reactor);
}

reactor::Address ModbusTcpServer::listen(std::string_view endpoint) {
  auto desc = reactor::parseEndpoint(endpoint);
  if (desc.type != "tcp" && desc.type != "tcp6") {
    throw reactor::EndpointError("a Modbus TCP server needs a tcp: endpoint, not '" + desc.type + ":'");
  }
  std::string spec(endpoint);
  if (!desc.has("backlog")) spec += ":backlog=" + std::to_string(factory_->options().backlog);
  reactor::Address host = addPort(reactor::serverFromString(reactor(), spec)->listen(factory_));
  reactor::log::info("listening on tcp ", host.toString(), " (framer ", framerTypeName(factory_->options().framer), ")");
  return host;
}

void ModbusTcpServer::doShutdown() {
  stopListening();
  factory_->loseAllConnections();
}

void StartTcpServer(std::shared_ptr<ServerContext> context, std::string_view address, ServerOptions options) {
  serveUntilShutdown<ModbusTcpServer>(address, &ModbusTcpServer::listen, std::move(context), options);
}

}  // namespace modbus
