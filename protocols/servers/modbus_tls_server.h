// Modbus/TCP Security (mbaps, MB-TCP-Security v36): pymodbus's ModbusTlsServer / StartTlsServer
// with what pymodbus lacks — a client certificate required and verified by default, and role-based
// authorization from the certificate's role extension (OID 1.3.6.1.4.1.50316.802.1). The MBAP ADU
// travels unchanged inside TLS; the bare-PDU framing of pymodbus 2.x–3.7 is an option for old peers.
// Default port 802. The protocol, factory, options and configuration settings have their own
// headers, included here for existing users.
// Tests: tests/integration/tls_test.cc
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "datastore/server_context.h"
#include "protocols/servers/listening_server.h"
#include "protocols/servers/modbus_tls_protocol.h"
#include "protocols/servers/modbus_tls_server_factory.h"
#include "protocols/servers/server_options.h"
#include "protocols/servers/start_server.h"
#include "protocols/servers/tls_server_options.h"
#include "reactor/address.h"
#include "reactor/reactor.h"
#include "reactor/tls.h"

namespace modbus {

/// Modbus/TCP Security server.
class ModbusTlsServer : public ListeningServer<reactor::ITLSListeningPort> {
 public:
  ModbusTlsServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context, TlsServerOptions tlsOptions = {},
                  ServerOptions options = {});

  /// Listens on a "tls:802:cert=…:key=…:ca=…[:…]" endpoint (see reactor::tlsOptionsFromEndpoint);
  /// call again for more. Returns the bound address. Throws reactor::EndpointError,
  /// reactor::TlsError (certificate files) or reactor::CannotListenError.
  reactor::Address listen(std::string_view endpoint);
  void check(std::string_view endpoint) const override;
  const ConnectionLog* connectionLog() const override { return &factory_->connectionLog(); }

  /// Re-reads certificate, key and CA files of every endpoint (what SIGHUP should call): new
  /// connections use them, open ones continue. Logs one line per endpoint, reloaded or not.
  /// Throws reactor::TlsError (the first failure) and keeps the old files for that endpoint.
  void reloadCertificates();
  /// Replaces the roles for new connections.
  void setRoles(std::optional<RoleTable> roles) { factory_->setRoles(std::move(roles)); }

  ModbusTlsServerFactory& factory() { return *factory_; }

 protected:
  void doShutdown() override;

 private:
  std::shared_ptr<ModbusTlsServerFactory> factory_;
};

/// pymodbus's StartTlsServer: blocks, serving `context` on `address` ("tls:802:cert=…:key=…:ca=…")
/// with a reactor of its own until ServerStop(), SIGINT or SIGTERM. Throws if it cannot listen.
void StartTlsServer(std::shared_ptr<ServerContext> context, std::string_view address,
                    TlsServerOptions tlsOptions = {}, ServerOptions options = {});

}  // namespace modbus
