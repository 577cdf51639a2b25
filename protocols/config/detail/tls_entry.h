// The one parser of a tls: server entry's TLS keys ("endpoint", "roles", "default_role",
// "tls_framing", "bare_pdu_unit"), used by parseServerConfig() for each tls: entry and by the
// public parseTlsServerEntry(). Other keys of the entry are left to the caller.
// Tests: tests/protocols/config/server_config_test.cc, tests/protocols/application/roles_test.cc
#pragma once

#include "protocols/config/detail/config_json.h"
#include "protocols/servers/tls_server_settings.h"

namespace modbus::config {

/// Reads the TLS keys of `entry` (an object with an "endpoint" string). Throws ConfigError with
/// the key's full path for a wrong JSON type or a bare_pdu_unit out of range, and lets
/// parseTlsSettings()'s RoleConfigError ("roles.Reader.functions[2]: …", relative to the entry)
/// and reactor::EndpointError (the endpoint's keywords) through for the caller to place.
TlsServerSettings parseTlsEntry(const Node& entry);

}  // namespace modbus::config
