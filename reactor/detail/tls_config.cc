// One loaded mbedTLS configuration: RNG seeded from mbedTLS's platform entropy source, own
// certificate and key (checked to match), CA chain, authentication mode, TLS 1.2 minimum, suites,
// curves (fast ones by default), and on a server session resumption with a bounded lifetime.
#include "reactor/detail/tls_config.h"

#include <mbedtls/ssl_ciphersuites.h>

#include <algorithm>
#include <cctype>

#include "reactor/detail/tls_certificate.h"

namespace reactor::detail {
namespace {

void check(int rc, const std::string& what) {
  if (rc != 0) throw TlsError(what + ": " + tlsErrorString(rc), rc);
}

/// "1.2" / "TLSv1.2" / "tls1.2" → minor version 3 (TLS 1.2). Anything lower or higher is refused.
int parseMinVersion(const std::string& text) {
  std::string v;
  for (char c : text) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v.rfind("tlsv", 0) == 0) {
    v.erase(0, 4);
  } else if (v.rfind("tls", 0) == 0) {
    v.erase(0, 3);
  }
  if (v == "1.2") return MBEDTLS_SSL_MINOR_VERSION_3;
  if (v == "1.0" || v == "1.1") {
    throw TlsError("min_version " + text + " is below TLS 1.2, which Modbus/TCP Security requires");
  }
  throw TlsError("min_version '" + text + "' is not supported (mbedTLS 2.28 offers TLS 1.2: use \"1.2\")");
}

std::vector<int> parseCiphersuites(const std::vector<std::string>& names) {
  std::vector<int> ids;
  for (const auto& name : names) {
    std::string canonical = name;
    std::replace(canonical.begin(), canonical.end(), '_', '-');
    for (auto& c : canonical) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int id = mbedtls_ssl_get_ciphersuite_id(canonical.c_str());
    if (id == 0) throw TlsError("unknown cipher suite '" + name + "'");
    ids.push_back(id);
  }
  if (!ids.empty()) ids.push_back(0);
  return ids;
}

/// Curve names → mbedTLS group ids, NONE-terminated; empty names → the fast default list.
std::vector<mbedtls_ecp_group_id> parseCurves(const std::vector<std::string>& names) {
  static const std::vector<std::string> kDefault = {"x25519", "secp256r1", "secp384r1"};
  std::vector<mbedtls_ecp_group_id> ids;
  for (const auto& name : names.empty() ? kDefault : names) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const mbedtls_ecp_curve_info* info = mbedtls_ecp_curve_info_from_name(lower.c_str());
    if (info == nullptr) throw TlsError("unknown curve '" + name + "' (x25519, secp256r1, secp384r1, secp521r1, ...)");
    ids.push_back(info->grp_id);
  }
  ids.push_back(MBEDTLS_ECP_DP_NONE);
  return ids;
}

}  // namespace

TlsConfig::TlsConfig(TlsSide side, const TlsOptions& options) : side_(side), options_(options) {
  mbedtls_entropy_init(&entropy_);  // adds the platform source (getrandom / /dev/urandom)
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_x509_crt_init(&ownCert_);
  mbedtls_pk_init(&key_);
  mbedtls_x509_crt_init(&caChain_);
  mbedtls_ssl_config_init(&conf_);
  mbedtls_ssl_ticket_init(&tickets_);
  mbedtls_ssl_cache_init(&sessionCache_);
  try {
    const bool server = side == TlsSide::Server;
    static constexpr char kPersonalization[] = "uvmodbus reactor tls";
    check(mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                reinterpret_cast<const unsigned char*>(kPersonalization), sizeof kPersonalization - 1),
          "seeding the random generator");
    check(mbedtls_ssl_config_defaults(&conf_, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT),
          "TLS defaults");
    mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, &drbg_);
    mbedtls_ssl_conf_min_version(&conf_, MBEDTLS_SSL_MAJOR_VERSION_3, parseMinVersion(options.minVersion));

    if (server && options.certFile.empty()) throw TlsError("a TLS server needs a certificate (cert=)");
    if (options.certFile.empty() != options.keyFile.empty()) {
      throw TlsError("a certificate and its key go together (cert= and key=)");
    }
    if (!options.certFile.empty()) {
      int rc = mbedtls_x509_crt_parse_file(&ownCert_, options.certFile.c_str());
      if (rc > 0) throw TlsError("certificate " + options.certFile + ": " + std::to_string(rc) + " certificate(s) unreadable");
      check(rc, "certificate " + options.certFile);
      check(mbedtls_pk_parse_keyfile(&key_, options.keyFile.c_str(),
                                     options.keyPassword.empty() ? nullptr : options.keyPassword.c_str()),
            "key " + options.keyFile);
      check(mbedtls_pk_check_pair(&ownCert_.pk, &key_),
            "key " + options.keyFile + " does not match certificate " + options.certFile);
      check(mbedtls_ssl_conf_own_cert(&conf_, &ownCert_, &key_), "certificate " + options.certFile);
    }
    if (!options.caFile.empty()) {
      int rc = mbedtls_x509_crt_parse_file(&caChain_, options.caFile.c_str());
      if (rc > 0) throw TlsError("CA file " + options.caFile + ": " + std::to_string(rc) + " certificate(s) unreadable");
      check(rc, "CA file " + options.caFile);
      mbedtls_ssl_conf_ca_chain(&conf_, &caChain_, nullptr);
    }

    int authmode = MBEDTLS_SSL_VERIFY_NONE;
    if (server) {
      if (options.requireClientCertificate && options.caFile.empty()) {
        throw TlsError("verifying client certificates needs the CA that signs them (ca=)");
      }
      if (!options.caFile.empty()) {
        authmode = options.requireClientCertificate ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_OPTIONAL;
      }
    } else if (options.verifyServerCertificate) {
      if (options.caFile.empty()) throw TlsError("verifying the server's certificate needs a CA file (ca=)");
      authmode = MBEDTLS_SSL_VERIFY_REQUIRED;
    }
    mbedtls_ssl_conf_authmode(&conf_, authmode);

    ciphersuites_ = parseCiphersuites(options.ciphersuites);
    if (!ciphersuites_.empty()) mbedtls_ssl_conf_ciphersuites(&conf_, ciphersuites_.data());
    curves_ = parseCurves(options.curves);
    mbedtls_ssl_conf_curves(&conf_, curves_.data());
    if (options.handshakeTimeout < 0) throw TlsError("handshake_timeout must not be negative");
    if (options.firstByteTimeout < 0) throw TlsError("first_byte_timeout must not be negative");

    if (server && options.sessionLifetime > 0) {
      check(mbedtls_ssl_ticket_setup(&tickets_, mbedtls_ctr_drbg_random, &drbg_, MBEDTLS_CIPHER_AES_256_GCM,
                                     options.sessionLifetime),
            "session tickets");
      mbedtls_ssl_conf_session_tickets_cb(&conf_, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &tickets_);
      mbedtls_ssl_cache_set_timeout(&sessionCache_, static_cast<int>(options.sessionLifetime));
      mbedtls_ssl_cache_set_max_entries(&sessionCache_, static_cast<int>(std::min<std::size_t>(
                                                            options.sessionCacheSize, 1u << 20)));
      if (options.sessionCacheSize > 0) {
        mbedtls_ssl_conf_session_cache(&conf_, &sessionCache_, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
      }
    }
  } catch (...) {
    freeAll();  // no destructor runs for a constructor that throws
    throw;
  }
}

TlsConfig::~TlsConfig() { freeAll(); }

void TlsConfig::freeAll() {
  mbedtls_ssl_config_free(&conf_);
  mbedtls_ssl_cache_free(&sessionCache_);
  mbedtls_ssl_ticket_free(&tickets_);
  mbedtls_x509_crt_free(&caChain_);
  mbedtls_pk_free(&key_);
  mbedtls_x509_crt_free(&ownCert_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

}  // namespace reactor::detail
