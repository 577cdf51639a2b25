// The settings of a TLS server entry in uvmodbus-server's configuration: its endpoint and the
// TlsServerOptions read from "roles", "default_role", "tls_framing" and "bare_pdu_unit". The
// endpoint's keywords are checked here; its certificate files are read when the server listens.
// The JSON form of an entry is read by protocols/config/tls_server_entry.h.
// Tests: tests/protocols/application/roles_test.cc, tests/protocols/config/
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocols/servers/tls_server_options.h"

namespace modbus {

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

}  // namespace modbus
