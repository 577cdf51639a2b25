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
  shareMetrics(factory_->metricsPtr());
}

reactor::Address ModbusTcpServer::listen(std::string_view endpoint) {
  auto stream = streamEndpoint(reactor(), endpoint, {"tcp", "tcp6", "unix"}, "Modbus TCP server", factory_->options().backlog);
  reactor::Address host = addPort(stream->listen(factory_));
  // A unix: endpoint (MBAP over a UNIX stream socket) prints as "unix:PATH".
  reactor::log::info("listening on ", host.type == reactor::Address::Type::UNIX ? "" : "tcp ", host.toString(), " (framer ", framerTypeName(factory_->options().framer), ")");
  return host;
}

void ModbusTcpServer::check(std::string_view endpoint) const {
  streamEndpoint(reactor(), endpoint, {"tcp", "tcp6", "unix"}, "Modbus TCP server", factory_->options().backlog)->check();
}

void ModbusTcpServer::doShutdown() {
  stopListening();
  factory_->loseAllConnections();
}

void StartTcpServer(std::shared_ptr<ServerContext> context, std::string_view address, ServerOptions options) {
  serveUntilShutdown<ModbusTcpServer>(address, &ModbusTcpServer::listen, std::move(context), options);
}

std::shared_ptr<ModbusTcpServer> StartTcpServer(std::shared_ptr<ServerContext> context, std::string_view address,
                                                reactor::Reactor& reactor, DeferReactorRun, ServerOptions options) {
  return serveOnReactor<ModbusTcpServer>(reactor, address, &ModbusTcpServer::listen, std::move(context), options);
}

}  // namespace modbus
