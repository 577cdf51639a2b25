// parseTlsServerEntry: one TLS server entry of uvmodbus-server's JSON configuration, read on its
// own (for a program that keeps its own configuration format but wants ours for TLS servers).
// It is the same parser parseServerConfig() uses for every tls: entry.
// Tests: tests/protocols/application/roles_test.cc
#pragma once

#include <string_view>

#include "protocols/servers/tls_server_settings.h"

namespace modbus {

/// Reads "endpoint", "roles", "default_role" (null or a name), "tls_framing" and "bare_pdu_unit"
/// from one server entry (JSON text); other keys are left to the caller. Throws RoleConfigError
/// naming the key (also for invalid JSON or a missing "endpoint") or reactor::EndpointError.
TlsServerSettings parseTlsServerEntry(std::string_view serverEntryJson);

}  // namespace modbus
