// TLS over TCP on mbedTLS, layered as Twisted layers it (twisted.protocols.tls.TLSMemoryBIOProtocol):
// a wrapper protocol on the TCP transport that is itself the transport of the user's protocol.
// Options, the reloadable context holding certificates and keys, the TLS transport interface, and
// listenTLS / connectTLS. This header includes neither <uv.h> nor mbedTLS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/bytes.h"
#include "reactor/endpoints.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor {

class Reactor;
namespace detail {
class TlsConfig;
}

/// A TLS configuration or certificate problem (unreadable file, key that does not match the
/// certificate, unknown cipher suite, ...). `code()` is the mbedTLS error code, or 0.
class TlsError : public std::runtime_error {
 public:
  explicit TlsError(const std::string& what, int code = 0) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

/// The Modbus/TCP Security role extension (MB-TCP-Security v36, R-21/R-22): a UTF8String.
inline constexpr std::string_view kModbusRoleOid = "1.3.6.1.4.1.50316.802.1";

/// How one TLS endpoint is set up. Files are PEM (or DER). Defaults follow Modbus/TCP Security:
/// TLS 1.2 at least and a client certificate required and verified.
struct TlsOptions {
  /// This side's certificate (chain). Required for a server; optional for a client (its client
  /// certificate).
  std::string certFile;
  /// The private key of certFile, and its password if encrypted.
  std::string keyFile;
  std::string keyPassword;
  /// The CA certificates the peer's certificate must chain to.
  std::string caFile;
  /// Server: a client must present a certificate that verifies against caFile (default). When
  /// false, a certificate is still requested and, if sent, must verify; a client sending none is
  /// served without one (peerCertificate() is empty).
  bool requireClientCertificate = true;
  /// Client: verify the server's certificate against caFile (default; then caFile is required).
  bool verifyServerCertificate = true;
  /// Client: the host name sent as SNI and checked against the server's certificate (DNS names;
  /// empty = not checked).
  std::string serverName;
  /// The lowest protocol version accepted: "1.2" (the default, and the only value mbedTLS 2.28
  /// accepts above the insecure ones; "1.0"/"1.1" are refused by design, "1.3" is unsupported).
  std::string minVersion = "1.2";
  /// Cipher suites, best first, by mbedTLS name ("TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256") or IANA
  /// name ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"). Empty: mbedTLS's defaults.
  std::vector<std::string> ciphersuites;
  /// Key-exchange curves (ECDHE), best first, by name: "x25519", "secp256r1", "secp384r1",
  /// "secp521r1", "brainpoolP256r1", ... (mbedTLS's names). Empty: x25519, secp256r1, secp384r1 -
  /// the fast ones. mbedTLS's own list starts with secp521r1, about ten times the CPU per handshake,
  /// which made a full handshake both slow and a cheap way to exhaust the server.
  std::vector<std::string> curves;
  /// Server: how long a session may be resumed, in seconds (RFC 5077 session tickets, and a
  /// session-id cache for clients without tickets). A resumed handshake skips the certificate
  /// checks and the key exchange. The ticket key changes every lifetime. 0 = no resumption.
  std::uint32_t sessionLifetime = 3600;
  /// Server: sessions kept in the session-id cache (each about 1 KiB with the peer certificate);
  /// the oldest goes first. Tickets cost the server no memory.
  std::size_t sessionCacheSize = 1024;
  /// A handshake not finished after this many seconds is aborted; 0 = no limit.
  double handshakeTimeout = 10.0;
  /// Server: handshakes in progress per listening port. A connection accepted beyond it is closed
  /// at once, so a flood of half-open handshakes cannot starve established clients. 0 = no limit.
  std::size_t maxHandshakes = 64;
  /// Server: handshakes in progress from one peer address (any port). A connection beyond it is
  /// closed at once, so one host cannot take every handshake slot. 0 = no limit.
  std::size_t maxHandshakesPerPeer = 8;
  /// Server: a connection that has not sent the first byte of its ClientHello after this many
  /// seconds is aborted (a real client sends it at once); 0 = only handshakeTimeout applies.
  double firstByteTimeout = 2.0;
};

/// A certificate as the application sees it (the peer's, after verification).
struct TlsPeerCertificate {
  std::string subject;       ///< "CN=operator, O=uvmodbus" (mbedTLS's DN format)
  std::string issuer;
  std::string serialNumber;  ///< "01:A3:..."
  std::string validFrom;     ///< "2024-01-31 12:00:00" (UTC)
  std::string validTo;
  /// The Modbus role: the UTF8String of the first kModbusRoleOid extension, if any.
  std::optional<std::string> role;
  Bytes der;  ///< the certificate itself
};

/// Reads the first certificate of a PEM or DER file (TlsError if none can be parsed).
TlsPeerCertificate readCertificateFile(const std::string& path);
/// Parses one DER certificate (TlsError if it cannot be parsed).
TlsPeerCertificate parseCertificate(ByteView der);

enum class TlsSide { Server, Client };

/// The certificates, key, CAs and settings of a TLS endpoint, loaded and checked at once. Every
/// connection takes the configuration current when it is accepted (or connects) and keeps it, so
/// reload() changes what new connections use while open ones continue. Reactor thread only.
class TlsContext {
 public:
  /// Loads everything now. Throws TlsError naming the file or option and the problem.
  static std::shared_ptr<TlsContext> create(TlsSide side, TlsOptions options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  /// Re-reads the certificate, key and CA files (same paths). On any error, throws TlsError and
  /// keeps the current configuration.
  void reload();
  /// Switches to new options (new paths or settings), with reload()'s guarantees.
  void reload(TlsOptions options);

  TlsSide side() const { return side_; }
  const TlsOptions& options() const;
  /// 0 at creation, +1 per successful reload.
  std::uint64_t generation() const { return generation_; }

  /// Framework only: the configuration a new connection uses.
  std::shared_ptr<detail::TlsConfig> current() const { return current_; }

 private:
  TlsContext(TlsSide side, std::shared_ptr<detail::TlsConfig> config);
  TlsSide side_;
  std::shared_ptr<detail::TlsConfig> current_;
  std::uint64_t generation_ = 0;
};

/// Twisted's ISSLTransport: a TCP transport with TLS on it. Everything ITransport promises holds;
/// writes are encrypted, loseConnection() sends a close_notify alert and then closes.
class ITLSTransport : public ITCPTransport {
 public:
  /// The peer's verified certificate (empty when it sent none, which a server allows only with
  /// requireClientCertificate=false).
  virtual const std::optional<TlsPeerCertificate>& peerCertificate() const = 0;
  /// The negotiated suite ("TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256") and version ("TLSv1.2").
  virtual std::string cipherSuite() const = 0;
  virtual std::string tlsVersion() const = 0;
};

/// What listenTLS returns: a listening port whose certificates can be reloaded.
class ITLSListeningPort : public IListeningPort {
 public:
  /// context().reload(): new connections use the re-read files, open ones continue.
  virtual void reload() = 0;
  virtual void reload(const TlsOptions& options) = 0;
  virtual TlsContext& context() = 0;

  /// Handshakes under way now, and totals since listening.
  virtual std::size_t handshakesInProgress() const = 0;
  virtual std::size_t handshakesCompleted() const = 0;
  virtual std::size_t handshakesFailed() const = 0;
  /// Connections closed at accept because maxHandshakes handshakes were in progress, or
  /// maxHandshakesPerPeer from the same address.
  virtual std::size_t connectionsRefused() const = 0;
};

/// listenTLS with a context of one's own (several ports may share it, and its reloads). The
/// factory's protocols are built only once a handshake has succeeded (connectionMade follows at
/// once); a refused handshake never reaches the factory. Throws CannotListenError.
std::shared_ptr<ITLSListeningPort> listenTLS(Reactor& reactor, std::uint16_t port, std::shared_ptr<Factory> factory,
                                             std::shared_ptr<TlsContext> context, int backlog = 50,
                                             std::string_view interface = {});

/// Twisted's connectSSL. A failed TCP connect or a failed handshake is reported with
/// clientConnectionFailed; after a successful handshake buildProtocol runs, and the end of the
/// connection is reported with clientConnectionLost. `bindAddress` as for connectTCP. Throws
/// TlsError for bad options.
std::shared_ptr<IConnector> connectTLS(Reactor& reactor, std::string_view host, std::uint16_t port,
                                       std::shared_ptr<ClientFactory> factory, const TlsOptions& options,
                                       double timeout = 30, std::string_view bindAddress = {});
std::shared_ptr<IConnector> connectTLS(Reactor& reactor, std::string_view host, std::uint16_t port,
                                       std::shared_ptr<ClientFactory> factory, std::shared_ptr<TlsContext> context,
                                       double timeout = 30, std::string_view bindAddress = {});

/// The TLS options of a server endpoint string "tls:PORT:cert=C:key=K:ca=A" with the optional
/// keywords password, require_client_cert (true/false), min_version, ciphersuites and curves
/// (comma-separated), session_lifetime (seconds, 0 = no resumption), session_cache (entries),
/// handshake_timeout and first_byte_timeout (seconds), max_handshakes and max_handshakes_per_peer,
/// plus interface and backlog for the TCP side.
/// Twisted's names are accepted too: certKey for cert, privateKey for key. EndpointError for an
/// unknown keyword or a bad value.
TlsOptions tlsOptionsFromEndpoint(const EndpointDescription& description);

/// serverFromString's "tls" parser (reactor/endpoints.cc calls it): the files are loaded and
/// checked here (TlsError), and listen() calls listenTLS.
std::unique_ptr<IStreamServerEndpoint> tlsServerEndpoint(Reactor& reactor, const EndpointDescription& description);

}  // namespace reactor
