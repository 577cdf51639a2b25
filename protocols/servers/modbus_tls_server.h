// Modbus/TCP Security (mbaps, MB-TCP-Security v36): pymodbus's ModbusTlsServer / StartTlsServer
// with what pymodbus lacks — a client certificate required and verified by default, and role-based
// authorization from the certificate's role extension (OID 1.3.6.1.4.1.50316.802.1). The MBAP ADU
// travels unchanged inside TLS; the bare-PDU framing of pymodbus 2.x–3.7 is an option for old peers.
// Default port 802. Tests: tests/integration/tls_test.cc
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/servers/modbus_server.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/serving/modbus_tcp_protocol.h"
#include "protocols/application/roles.h"
#include "reactor/tls.h"

namespace modbus {

/// How requests are framed inside TLS.
enum class TlsFraming {
  Mbap,     ///< the MBAP ADU, as Modbus/TCP Security and pymodbus >= 3.8 send it (default)
  BarePdu,  ///< a bare PDU per TLS record, as pymodbus 2.x–3.7 sent it (BarePduFramer)
};

/// What a TLS server adds to ServerOptions.
struct TlsServerOptions {
  /// Who may do what. nullopt (the default): no authorization beyond the handshake — every
  /// client with a valid certificate may do everything. With a table: see RoleTable.
  std::optional<RoleTable> roles;
  TlsFraming framing = TlsFraming::Mbap;
  /// BarePdu only: the unit id every request is executed for (a bare PDU carries none).
  std::uint8_t barePduUnit = 0;
};

/// ModbusTcpProtocol on a TLS transport, checking each request against the client's role.
class ModbusTlsProtocol : public ModbusTcpProtocol {
 public:
  /// `roles` null: no authorization.
  ModbusTlsProtocol(std::unique_ptr<Framer> framer, std::shared_ptr<const RoleTable> roles);

  void connectionMade() override;
  std::string logPrefix() const override { return "ModbusTlsProtocol"; }

  /// The role named in the client's certificate, and what this connection acts under.
  const std::optional<std::string>& certificateRole() const { return certificateRole_; }
  const RoleGrant& grant() const { return grant_; }
  /// Requests refused on this connection.
  std::size_t deniedCount() const { return denied_; }

 protected:
  /// A request the role does not allow is answered with exception 01 (Illegal Function), logged
  /// with the peer and the role, and not executed.
  bool authorize(std::uint8_t unitId, std::span<const std::uint8_t> pdu, std::span<std::uint8_t> response,
                 std::size_t& responseLength) override;

 private:
  std::shared_ptr<const RoleTable> roles_;
  std::optional<std::string> certificateRole_;
  RoleGrant grant_;
  std::string peer_;  // "127.0.0.1:40000 (CN=reader, O=…)", for the log
  std::size_t denied_ = 0;
};

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

/// Modbus/TCP Security server.
class ModbusTlsServer : public ModbusServer {
 public:
  ModbusTlsServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context, TlsServerOptions tlsOptions = {},
                  ServerOptions options = {});
  ~ModbusTlsServer() override;

  /// Listens on a "tls:802:cert=…:key=…:ca=…[:…]" endpoint (see reactor::tlsOptionsFromEndpoint);
  /// call again for more. Returns the bound address. Throws reactor::EndpointError,
  /// reactor::TlsError (certificate files) or reactor::CannotListenError.
  reactor::Address listen(std::string_view endpoint);
  std::vector<reactor::Address> addresses() const;

  /// Re-reads certificate, key and CA files of every endpoint (what SIGHUP should call): new
  /// connections use them, open ones continue. Throws reactor::TlsError (the first failure) and
  /// keeps the old files for that endpoint.
  void reloadCertificates();
  /// Replaces the roles for new connections.
  void setRoles(std::optional<RoleTable> roles) { factory_->setRoles(std::move(roles)); }

  ModbusTlsServerFactory& factory() { return *factory_; }
  const std::vector<std::shared_ptr<reactor::ITLSListeningPort>>& ports() const { return ports_; }

 protected:
  void doShutdown() override;

 private:
  std::shared_ptr<ModbusTlsServerFactory> factory_;
  std::vector<std::shared_ptr<reactor::ITLSListeningPort>> ports_;
};

/// pymodbus's StartTlsServer: blocks, serving `context` on `address` ("tls:802:cert=…:key=…:ca=…")
/// with a reactor of its own until ServerStop(), SIGINT or SIGTERM. Throws if it cannot listen.
void StartTlsServer(std::shared_ptr<ServerContext> context, std::string_view address,
                    TlsServerOptions tlsOptions = {}, ServerOptions options = {});

/// A TLS server entry of the JSON configuration, parsed (files not read yet).
struct TlsServerSettings {
  std::string endpoint;
  TlsServerOptions tls;
};

/// For uvmodbus-server's configuration: `endpoint` must be a "tls:" endpoint (its keywords are
/// checked; EndpointError); `rolesJson` is the text of the "roles" object ("" = no roles: no
/// authorization); `defaultRole` the "default_role" (must name a role); `framing` "mbap" (default)
/// or "bare_pdu". Throws RoleConfigError / reactor::EndpointError naming the key.
TlsServerSettings parseTlsSettings(const std::string& endpoint, std::string_view rolesJson = {},
                                   std::optional<std::string> defaultRole = std::nullopt,
                                   std::string_view framing = "mbap");

/// The same from one server entry of the JSON configuration: reads "endpoint", "roles",
/// "default_role" (null or a name), "tls_framing" and "bare_pdu_unit"; other keys are left to the
/// caller. Throws RoleConfigError / reactor::EndpointError.
TlsServerSettings parseTlsServerEntry(std::string_view serverEntryJson);

}  // namespace modbus
