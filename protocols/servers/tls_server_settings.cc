// parseTlsSettings: a TLS server entry's settings, checked.
#include "protocols/servers/tls_server_settings.h"

#include "protocols/application/roles.h"
#include "reactor/endpoints.h"
#include "reactor/tls.h"

namespace modbus {

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

}  // namespace modbus
