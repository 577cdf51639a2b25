// TlsContext (load, reload), certificate reading, and Reactor::listenTLS / listenTLS.
#include "reactor/tls.h"

#include <mbedtls/x509_crt.h>

#include "reactor/detail/tls_certificate.h"
#include "reactor/detail/tls_config.h"
#include "reactor/detail/tls_port.h"
#include "reactor/reactor.h"

namespace reactor {

// --- certificates -------------------------------------------------------------------------------

namespace {

/// Owns one parsed mbedTLS certificate chain.
struct CrtChain {
  CrtChain() { mbedtls_x509_crt_init(&crt); }
  ~CrtChain() { mbedtls_x509_crt_free(&crt); }
  CrtChain(const CrtChain&) = delete;
  CrtChain& operator=(const CrtChain&) = delete;
  mbedtls_x509_crt crt;
};

}  // namespace

TlsPeerCertificate readCertificateFile(const std::string& path) {
  CrtChain chain;
  int rc = mbedtls_x509_crt_parse_file(&chain.crt, path.c_str());
  if (rc < 0 || chain.crt.raw.p == nullptr) {
    throw TlsError("certificate " + path + ": " + (rc < 0 ? detail::tlsErrorString(rc) : "no certificate"), rc);
  }
  return detail::describeCertificate(chain.crt);
}

TlsPeerCertificate parseCertificate(ByteView der) {
  CrtChain chain;
  int rc = mbedtls_x509_crt_parse_der(&chain.crt, der.data(), der.size());
  if (rc != 0) throw TlsError("certificate: " + detail::tlsErrorString(rc), rc);
  return detail::describeCertificate(chain.crt);
}

// --- TlsContext ---------------------------------------------------------------------------------

TlsContext::TlsContext(TlsSide side, std::shared_ptr<detail::TlsConfig> config)
    : side_(side), current_(std::move(config)) {}

TlsContext::~TlsContext() = default;

std::shared_ptr<TlsContext> TlsContext::create(TlsSide side, TlsOptions options) {
  auto config = std::make_shared<detail::TlsConfig>(side, options);
  return std::shared_ptr<TlsContext>(new TlsContext(side, std::move(config)));
}

const TlsOptions& TlsContext::options() const { return current_->options(); }

void TlsContext::reload() { reload(current_->options()); }

void TlsContext::reload(TlsOptions options) {
  // Build first: a bad file throws here and the current configuration stays. Connections hold
  // their own reference to the configuration they started with.
  auto config = std::make_shared<detail::TlsConfig>(side_, options);
  current_ = std::move(config);
  ++generation_;
}

// --- listening ----------------------------------------------------------------------------------

std::shared_ptr<ITLSListeningPort> listenTLS(Reactor& reactor, std::uint16_t port, std::shared_ptr<Factory> factory,
                                             std::shared_ptr<TlsContext> context, int backlog,
                                             std::string_view interface) {
  return detail::TlsPort::listen(reactor, port, std::move(factory), std::move(context), backlog, interface);
}

std::shared_ptr<IListeningPort> Reactor::listenTLS(std::uint16_t port, std::shared_ptr<Factory> factory,
                                                   const TlsOptions& options, int backlog,
                                                   std::string_view interface) {
  return reactor::listenTLS(*this, port, std::move(factory), TlsContext::create(TlsSide::Server, options), backlog,
                            interface);
}

}  // namespace reactor
