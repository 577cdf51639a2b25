// parseTlsEntry: the TLS keys of a tls: server entry, read once for every caller.
#include "protocols/config/detail/tls_entry.h"

#include <optional>
#include <string>
#include <utility>

namespace modbus::config {

TlsServerSettings parseTlsEntry(const Node& entry) {
  std::string roles;
  if (entry.has("roles") && !entry.child("roles").json().is_null()) roles = entry.child("roles").json().dump();
  std::optional<std::string> defaultRole;
  if (entry.has("default_role")) {
    Node role = entry.child("default_role");
    if (!role.json().is_null()) {
      if (!role.json().is_string()) role.fail("expected null or a role name, got " + describeType(role.json()));
      defaultRole = role.json().get<std::string>();
    }
  }
  std::string framing = entry.has("tls_framing") ? entry.child("tls_framing").string() : "mbap";
  TlsServerSettings settings =
      parseTlsSettings(entry.child("endpoint").string(), roles, std::move(defaultRole), framing);
  if (entry.has("bare_pdu_unit")) {
    Node unit = entry.child("bare_pdu_unit");
    if (settings.tls.framing != TlsFraming::BarePdu) unit.fail("applies only with \"tls_framing\": \"bare_pdu\"");
    settings.tls.barePduUnit = static_cast<std::uint8_t>(unit.integer(0, 255, "a unit id"));
  }
  return settings;
}

}  // namespace modbus::config
