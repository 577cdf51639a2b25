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
  return p;
}

}  // namespace

ModbusUdpServer::ModbusUdpServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context,
                                 ServerOptions options)
    : ModbusServer(reactor),
      options_(std::move(options)),
      processor_(std::make_shared<RequestProcessor>(std::move(context), processorOptions(options_))) {}

ModbusUdpServer::~ModbusUdpServer() {
  for (auto& p : ports_) p->stopListening();
}

reactor::Address ModbusUdpServer::listen(std::string_view endpoint) {
  reactor::UdpEndpoint e = reactor::parseUdpEndpoint(reactor::parseEndpoint(endpoint));
  auto protocol = std::make_shared<ModbusUdpProtocol>(processor_, options_.framer);
  auto port = reactor().listenUDP(e.port, protocol, e.interface, e.maxPacketSize);
  reactor::Address host = port->getHost();
  protocols_.push_back(std::move(protocol));
  ports_.push_back(std::move(port));
  reactor::log::info("listening on udp ", host.toString(), " (framer ", framerTypeName(options_.framer), ")");
  return host;
}

std::vector<reactor::Address> ModbusUdpServer::addresses() const {
  std::vector<reactor::Address> out;
  for (const auto& p : ports_) out.push_back(p->getHost());
  return out;
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

void ModbusUdpServer::doShutdown() {
  for (auto& p : ports_) p->stopListening();
}

void StartUdpServer(std::shared_ptr<ServerContext> context, std::string_view address, ServerOptions options) {
  reactor::Reactor reactor;
  ModbusUdpServer server(reactor, std::move(context), options);
  server.listen(address);
  runUntilShutdown(server);
}

}  // namespace modbus
