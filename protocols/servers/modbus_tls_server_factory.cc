// ModbusTlsServerFactory: the framer per TlsFraming, the shared role table.
#include "protocols/servers/modbus_tls_server_factory.h"

#include "framers/bare_pdu_framer.h"
#include "framers/socket_framer.h"

namespace modbus {

ModbusTlsServerFactory::ModbusTlsServerFactory(std::shared_ptr<ServerContext> context, ServerOptions options,
                                               TlsServerOptions tlsOptions)
    : ModbusServerFactory(std::move(context), options), tlsOptions_(std::move(tlsOptions)) {
  setRoles(tlsOptions_.roles);
}

void ModbusTlsServerFactory::setRoles(std::optional<RoleTable> roles) {
  roles_ = roles ? std::make_shared<const RoleTable>(std::move(*roles)) : nullptr;
}

std::shared_ptr<ModbusTcpProtocol> ModbusTlsServerFactory::makeProtocol() {
  std::unique_ptr<Framer> framer;
  if (tlsOptions_.framing == TlsFraming::BarePdu) {
    framer = std::make_unique<BarePduFramer>(tlsOptions_.barePduUnit);
  } else {
    framer = std::make_unique<SocketFramer>();
  }
  return std::make_shared<ModbusTlsProtocol>(std::move(framer), roles_);
}

}  // namespace modbus
