// mbedTLS certificates and error codes in the application's terms: TlsPeerCertificate (with the
// Modbus/TCP Security role extension), error and verification messages. Internal to reactor/.
#pragma once

#include <mbedtls/x509_crt.h>

#include <cstdint>
#include <optional>
#include <string>

#include "reactor/tls.h"

namespace reactor::detail {

/// The application's view of a parsed certificate, role included.
TlsPeerCertificate describeCertificate(const mbedtls_x509_crt& crt);

/// The UTF8String of the first extension with OID kModbusRoleOid, or nullopt (no such extension,
/// or one whose value is not a UTF8String).
std::optional<std::string> findModbusRole(const mbedtls_x509_crt& crt);

/// mbedTLS's text for an error code, e.g. "SSL - Processing of the ClientHello handshake message
/// failed (-0x7900)".
std::string tlsErrorString(int code);

/// Why a certificate did not verify, from mbedTLS's verify flags ("The certificate validity has
/// expired; ...").
std::string verifyFlagsString(std::uint32_t flags);

}  // namespace reactor::detail
