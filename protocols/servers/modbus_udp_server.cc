// ModbusUdpServer / StartUdpServer.
#include "protocols/servers/modbus_udp_server.h"

#include "reactor/log.h"
#include "reactor/udp_endpoint.h"

namespace modbus {

namespace {

ProcessorOptions processorOptions(const ServerOptions& options) {
  ProcessorOptions p;
  p.ignoreMissingSlaves = options.ignoreMissingSlaves;
  p.broadcastEnable = options.broadcastEnable;
  p.missingUnit = options.missingUnit;
  p.stateChangingDiagnostics = options.stateChangingDiagnostics;
  return p;
}

}  // namespace

ModbusUdpServer::ModbusUdpServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context,
                                 ServerOptions options)
    : ListeningServer(reactor),
      options_(std::move(options)),
      processor_(std::make_shared<RequestProcessor>(std::move(context), processorOptions(options_))) {}

reactor::Address ModbusUdpServer::listen(std::string_view endpoint) {
  reactor::UdpEndpoint e = reactor::parseUdpEndpoint(reactor::parseEndpoint(endpoint));
  auto protocol = std::make_shared<ModbusUdpProtocol>(processor_, options_.framer);
  protocol->setMetrics(metricsPtr(), &reactor());
  if (options_.responseHook) protocol->setResponseHook(options_.responseHook, &reactor());
  reactor::Address host = addPort(reactor().listenUDP(e.port, protocol, e.interface, e.maxPacketSize));
  protocols_.push_back(std::move(protocol));
  reactor::log::info("listening on udp ", host.toString(), " (framer ", framerTypeName(options_.framer), ")");
  return host;
}

void ModbusUdpServer::check(std::string_view endpoint) const {
  reactor::UdpEndpoint e = reactor::parseUdpEndpoint(reactor::parseEndpoint(endpoint));
  reactor::checkListenAddress(e.interface, e.port);
}

void ModbusUdpServer::setResponseHook(std::shared_ptr<ResponseHook> hook) {
  options_.responseHook = std::move(hook);
  for (const auto& p : protocols_) p->setResponseHook(options_.responseHook, &reactor());
}

std::size_t ModbusUdpServer::requestCount() const {
  std::size_t n = 0;
  for (const auto& p : protocols_) n += p->requestCount();
  return n;
}

std::size_t ModbusUdpServer::malformedCount() const {
  std::size_t n = 0;
  for (const auto& p : protocols_) n += p->malformedCount();
  return n;
}

void ModbusUdpServer::doShutdown() { stopListening(); }

void StartUdpServer(std::shared_ptr<ServerContext> context, std::string_view address, ServerOptions options) {
  serveUntilShutdown<ModbusUdpServer>(address, &ModbusUdpServer::listen, std::move(context), options);
}

std::shared_ptr<ModbusUdpServer> StartUdpServer(std::shared_ptr<ServerContext> context, std::string_view address,
                                                reactor::Reactor& reactor, DeferReactorRun, ServerOptions options) {
  return serveOnReactor<ModbusUdpServer>(reactor, address, &ModbusUdpServer::listen, std::move(context), options);
}

}  // namespace modbus
