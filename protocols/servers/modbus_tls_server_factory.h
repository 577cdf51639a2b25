// ModbusTlsServerFactory: the factory of a Modbus/TCP Security server. It builds one
// ModbusTlsProtocol per connection with the framer TlsServerOptions::framing names, and holds the
// role table new connections are authorized against (replaceable at run time; open connections keep theirs).
// Tests: tests/integration/tls_test.cc
#pragma once

#include <memory>
#include <optional>

#include "datastore/server_context.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/servers/modbus_tls_protocol.h"
#include "protocols/servers/server_options.h"
#include "protocols/servers/tls_server_options.h"

namespace modbus {

/// The factory of a TLS server: ModbusServerFactory building ModbusTlsProtocols.
class ModbusTlsServerFactory : public ModbusServerFactory {
 public:
  ModbusTlsServerFactory(std::shared_ptr<ServerContext> context, ServerOptions options, TlsServerOptions tlsOptions);

  /// Replaces the roles for connections made from now on (open ones keep theirs).
  void setRoles(std::optional<RoleTable> roles);
  std::shared_ptr<const RoleTable> roles() const { return roles_; }
  const TlsServerOptions& tlsOptions() const { return tlsOptions_; }

 protected:
  std::shared_ptr<ModbusTcpProtocol> makeProtocol() override;

 private:
  TlsServerOptions tlsOptions_;
  std::shared_ptr<const RoleTable> roles_;
};

}  // namespace modbus
