// ModbusTlsServer: Modbus/TCP Security on the reactor's TLS transport, with role-based
// authorization in ModbusTlsProtocol::authorize and the JSON settings of a TLS server entry.
#include "protocols/servers/modbus_tls_server.h"

#include <nlohmann/json.hpp>

#include "framers/socket_framer.h"
#include "framers/bare_pdu_framer.h"
#include "protocols/application/request_processor.h"
#include "reactor/endpoints.h"
#include "reactor/log.h"

namespace modbus {

// --- ModbusTlsProtocol --------------------------------------------------------------------------

ModbusTlsProtocol::ModbusTlsProtocol(std::unique_ptr<Framer> framer, std::shared_ptr<const RoleTable> roles)
    : ModbusTcpProtocol(std::move(framer)), roles_(std::move(roles)) {}

void ModbusTlsProtocol::connectionMade() {
  auto* tls = dynamic_cast<reactor::ITLSTransport*>(&transport());
  peer_ = transport().getPeer().toString();
  if (tls != nullptr && tls->peerCertificate()) {
    certificateRole_ = tls->peerCertificate()->role;
    peer_ += " (" + tls->peerCertificate()->subject + ")";
  }
  if (roles_) grant_ = roles_->grant(certificateRole_);
  if (roles_) {
    reactor::log::info("TLS client ", peer_, ": certificate role ", certificateRole_ ? *certificateRole_ : "(none)",
                       ", acting as ", grant_.name ? *grant_.name : "(no role)",
                       grant_.permissions ? "" : " — every request will be refused");
  } else {
    reactor::log::info("TLS client ", peer_, ": certificate role ", certificateRole_ ? *certificateRole_ : "(none)");
  }
  ModbusTcpProtocol::connectionMade();
}

bool ModbusTlsProtocol::authorize(std::uint8_t unitId, std::span<const std::uint8_t> pdu,
                                  std::span<std::uint8_t> response, std::size_t& responseLength) {
  if (!roles_) return true;
  Denial d = RoleTable::authorize(grant_, unitId, pdu);
  if (d == Denial::Allowed) return true;
  ++denied_;
  reactor::log::warning("refused function ", static_cast<int>(pdu[0]), " for unit ", static_cast<int>(unitId),
                        " from ", peer_, ", role ", grant_.name ? *grant_.name : "(none)", ": ", denialText(d));
  responseLength = exceptionResponse(pdu[0], ExceptionCode::IllegalFunction, response);
  return false;
}

// --- ModbusTlsServerFactory ---------------------------------------------------------------------

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

// --- ModbusTlsServer ----------------------------------------------------------------------------

ModbusTlsServer::ModbusTlsServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context,
                                 TlsServerOptions tlsOptions, ServerOptions options)
    : ModbusServer(reactor),
      factory_(std::make_shared<ModbusTlsServerFactory>(std::move(context), options, std::move(tlsOptions))) {
  factory_->setClock(&reactor);
}

ModbusTlsServer::~ModbusTlsServer() {
  for (auto& p : ports_) p->stopListening();
}

reactor::Address ModbusTlsServer::listen(std::string_view endpoint) {
  auto desc = reactor::parseEndpoint(endpoint);
  if (desc.type != "tls") {
    throw reactor::EndpointError("a Modbus TLS server needs a tls: endpoint, not '" + desc.type + ":'");
  }
  auto listening = reactor::serverFromString(reactor(), endpoint)->listen(factory_);
  auto port = std::dynamic_pointer_cast<reactor::ITLSListeningPort>(listening);
  if (!port) throw reactor::EndpointError("the tls: endpoint did not give a TLS port");
  reactor::Address host = port->getHost();
  ports_.push_back(std::move(port));
  const auto& o = ports_.back()->context().options();
  reactor::log::info("listening on tls ", host.toString(), " (framing ",
                     factory_->tlsOptions().framing == TlsFraming::BarePdu ? "bare PDU" : "MBAP",
                     ", client certificate ", o.requireClientCertificate ? "required" : "optional", ", roles ",
                     factory_->roles() ? "enforced" : "not configured", ")");
  return host;
}

std::vector<reactor::Address> ModbusTlsServer::addresses() const {
  std::vector<reactor::Address> out;
  for (const auto& p : ports_) out.push_back(p->getHost());
  return out;
}

void ModbusTlsServer::reloadCertificates() {
  std::exception_ptr first;
  for (auto& p : ports_) {
    try {
      p->reload();
    } catch (const std::exception& e) {
      reactor::log::error("TLS on ", p->getHost().toString(), ": reload failed, keeping the current files: ", e.what());
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

void ModbusTlsServer::doShutdown() {
  for (auto& p : ports_) p->stopListening();
  factory_->loseAllConnections();
}

void StartTlsServer(std::shared_ptr<ServerContext> context, std::string_view address, TlsServerOptions tlsOptions,
                    ServerOptions options) {
  reactor::Reactor reactor;
  ModbusTlsServer server(reactor, std::move(context), std::move(tlsOptions), options);
  server.listen(address);
  runUntilShutdown(server);
}

// --- JSON settings ------------------------------------------------------------------------------

TlsServerSettings parseTlsSettings(const std::string& endpoint, std::string_view rolesJson,
                                   std::optional<std::string> defaultRole, std::string_view framing) {
  TlsServerSettings s;
  auto desc = reactor::parseEndpoint(endpoint);
  if (desc.type != "tls") throw reactor::EndpointError("endpoint: a TLS server needs a tls: endpoint, not '" + desc.type + ":'");
  (void)reactor::tlsOptionsFromEndpoint(desc);  // keyword errors now, file errors at listen
  s.endpoint = endpoint;
  if (!rolesJson.empty()) {
    s.tls.roles = parseRoleTable(rolesJson, std::move(defaultRole));
  } else if (defaultRole) {
    throw RoleConfigError("default_role: there are no roles");
  }
  if (framing == "mbap") {
    s.tls.framing = TlsFraming::Mbap;
  } else if (framing == "bare_pdu") {
    s.tls.framing = TlsFraming::BarePdu;
  } else {
    throw RoleConfigError("tls_framing: \"" + std::string(framing) + "\" is not \"mbap\" or \"bare_pdu\"");
  }
  return s;
}

TlsServerSettings parseTlsServerEntry(std::string_view serverEntryJson) {
  using Json = nlohmann::json;
  Json j;
  try {
    j = Json::parse(serverEntryJson);
  } catch (const Json::parse_error& e) {
    throw RoleConfigError(std::string("server entry: not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("endpoint") || !j["endpoint"].is_string()) {
    throw RoleConfigError("endpoint: a server entry needs an \"endpoint\" string");
  }
  std::string roles;
  if (j.contains("roles") && !j["roles"].is_null()) roles = j["roles"].dump();
  std::optional<std::string> defaultRole;
  if (j.contains("default_role") && !j["default_role"].is_null()) {
    if (!j["default_role"].is_string()) throw RoleConfigError("default_role: null or a role name");
    defaultRole = j["default_role"].get<std::string>();
  }
  std::string framing = "mbap";
  if (j.contains("tls_framing")) {
    if (!j["tls_framing"].is_string()) throw RoleConfigError("tls_framing: \"mbap\" or \"bare_pdu\"");
    framing = j["tls_framing"].get<std::string>();
  }
  TlsServerSettings s = parseTlsSettings(j["endpoint"].get<std::string>(), roles, std::move(defaultRole), framing);
  if (j.contains("bare_pdu_unit")) {
    const Json& u = j["bare_pdu_unit"];
    if (!u.is_number_integer() || u.get<long>() < 0 || u.get<long>() > 255) {
      throw RoleConfigError("bare_pdu_unit: " + u.dump() + " is not a unit id (0..255)");
    }
    s.tls.barePduUnit = static_cast<std::uint8_t>(u.get<long>());
  }
  return s;
}

}  // namespace modbus
