// parseTlsSettings / parseTlsServerEntry: a TLS server entry's settings, checked.
#include "protocols/servers/tls_server_settings.h"

#include <nlohmann/json.hpp>

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
