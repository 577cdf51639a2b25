// ModbusServerFactory: shared state of one server across its connections.
#include "protocols/servers/modbus_server_factory.h"

#include <vector>

#include "protocols/serving/modbus_tcp_protocol.h"
#include "reactor/log.h"

namespace modbus {

ModbusServerFactory::ModbusServerFactory(std::shared_ptr<ServerContext> context, ServerOptions options)
    : context_(std::move(context)),
      options_(std::move(options)),
      processor_(context_, ProcessorOptions{.ignoreMissingSlaves = options_.ignoreMissingSlaves,
                                            .broadcastEnable = options_.broadcastEnable,
                                            .missingUnit = options_.missingUnit}) {}

std::shared_ptr<reactor::Protocol> ModbusServerFactory::buildProtocol(const reactor::Address& addr) {
  if (connections_.size() >= options_.maxConnections) {
    reactor::log::warning("refusing ", addr.toString(), ": ", connections_.size(),
                          " connections open (max_connections)");
    return nullptr;
  }
  auto p = makeProtocol();
  adopt(*p);
  return p;
}

std::shared_ptr<ModbusTcpProtocol> ModbusServerFactory::makeProtocol() {
  return std::make_shared<ModbusTcpProtocol>(makeFramer(options_.framer));
}

void ModbusServerFactory::loseAllConnections() {
  std::vector<ModbusTcpProtocol*> open(connections_.begin(), connections_.end());
  for (auto* p : open) p->transport().loseConnection();
}

}  // namespace modbus
