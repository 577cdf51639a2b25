// One loaded mbedTLS configuration (certificate, key, CAs, RNG, settings, curves, and on a server the
// session ticket key and session cache): what a TlsContext holds and every connection started under
// it keeps alive. A reload makes a new one, so sessions of the old certificate are not resumed.
// Internal: only reactor/ includes this. Tests: tests/reactor/tls_handshake_test.cc, tls_session_test.cc.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <string>
#include <vector>

#include "reactor/tls.h"

namespace reactor::detail {

class TlsConfig {
 public:
  /// Loads and checks everything; throws TlsError naming the file or option and the problem.
  TlsConfig(TlsSide side, const TlsOptions& options);
  ~TlsConfig();
  TlsConfig(const TlsConfig&) = delete;
  TlsConfig& operator=(const TlsConfig&) = delete;

  const mbedtls_ssl_config* conf() const { return &conf_; }
  const TlsOptions& options() const { return options_; }
  TlsSide side() const { return side_; }

 private:
  void freeAll();

  TlsSide side_;
  TlsOptions options_;
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_x509_crt ownCert_;
  mbedtls_pk_context key_;
  mbedtls_x509_crt caChain_;
  mbedtls_ssl_config conf_;
  std::vector<int> ciphersuites_;  // 0-terminated; mbedTLS keeps a pointer to it
  std::vector<mbedtls_ecp_group_id> curves_;  // MBEDTLS_ECP_DP_NONE-terminated; likewise
  mbedtls_ssl_ticket_context tickets_;        // server: session tickets (key rotated every lifetime)
  mbedtls_ssl_cache_context sessionCache_;    // server: session-id cache, bounded
};

}  // namespace reactor::detail
