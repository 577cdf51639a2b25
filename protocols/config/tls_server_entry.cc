// parseTlsServerEntry: the configuration's TLS-entry parser behind a text interface.
#include "protocols/config/tls_server_entry.h"

#include "protocols/application/roles.h"
#include "protocols/config/detail/tls_entry.h"

namespace modbus {

TlsServerSettings parseTlsServerEntry(std::string_view serverEntryJson) {
  try {
    nlohmann::json json = config::parseJson(serverEntryJson);
    config::Node entry(json, "");
    if (!json.is_object() || !entry.has("endpoint")) {
      throw RoleConfigError("endpoint: a server entry needs an \"endpoint\" string");
    }
    return config::parseTlsEntry(entry);
  } catch (const ConfigError& e) {
    throw RoleConfigError(e.what());  // this interface promises the roles' error type
  }
}

}  // namespace modbus
