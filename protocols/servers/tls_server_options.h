// What a Modbus/TCP Security server adds to ServerOptions: the roles that authorize requests and
// the framing inside TLS (MBAP, or pymodbus 2.x-3.7's bare PDU). Plain data, no behaviour.
// Tests: tests/integration/tls_test.cc, tests/protocols/application/roles_test.cc
#pragma once

#include <cstdint>
#include <optional>

#include "protocols/application/roles.h"

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

}  // namespace modbus
