// Port of twisted.protocols.tls.TLSMemoryBIOProtocol on mbedTLS: a Protocol on the TCP transport
// that feeds the ciphertext to mbedTLS through custom BIO callbacks, and is itself the ITLSTransport
// of the user's protocol, built once the handshake has succeeded. Internal to reactor/.
// Tests: tests/reactor/tls_transport_test.cc, tls_handshake_test.cc, tls_flood_test.cc
#pragma once

#include <mbedtls/ssl.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reactor/delayed_call.h"
#include "reactor/detail/stream_transport.h"
#include "reactor/detail/tls_config.h"
#include "reactor/failure.h"
#include "reactor/protocol.h"
#include "reactor/tls.h"

namespace reactor::detail {

class TlsConnection final : public Protocol, public ITLSTransport {
 public:
  /// `userFactory` builds the user's protocol after a successful handshake (nullptr from it closes
  /// the connection). `onHandshakeEnded(succeeded)` runs exactly once: when the handshake succeeds,
  /// fails, times out, or the connection is lost before it finished.
  TlsConnection(IReactorTime& clock, std::shared_ptr<TlsConfig> config, std::shared_ptr<Factory> userFactory,
                std::function<void(bool)> onHandshakeEnded);
  ~TlsConnection() override;

  // Protocol: the TCP side.
  void connectionMade() override;
  void dataReceived(ByteView data) override;
  void connectionLost(const Failure& reason) override;
  std::string logPrefix() const override { return "TLS"; }

  // ITransport: the user's side.
  void write(ByteView data) override;
  void writeSequence(std::span<const ByteView> pieces) override;
  void loseConnection() override;
  void abortConnection() override;
  Address getPeer() const override { return peer_; }
  Address getHost() const override { return host_; }
  bool connected() const override { return userConnected_; }
  bool disconnecting() const override { return disconnecting_; }
  std::size_t bufferedAmount() const override;
  void setWriteHighWaterMark(std::size_t bytes) override;
  void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) override;
  void unregisterProducer() override;
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override { loseConnection(); }
  // ITCPTransport: forwarded to the TCP transport.
  void setTcpNoDelay(bool enabled) override;
  bool getTcpNoDelay() const override;
  void setTcpKeepAlive(bool enabled) override;
  bool getTcpKeepAlive() const override;
  // ITLSTransport
  const std::optional<TlsPeerCertificate>& peerCertificate() const override { return peerCertificate_; }
  std::string cipherSuite() const override;
  std::string tlsVersion() const override;

  /// The reason the connection ended as the user's protocol saw it (valid after connectionLost).
  const Failure& finalReason() const { return finalReason_; }

 private:
  enum class State { Idle, Handshaking, Open, Closed };

  static int onSslSend(void* ctx, const unsigned char* buf, std::size_t len);
  static int onSslRecv(void* ctx, unsigned char* buf, std::size_t len);
  static int onSslVerify(void* ctx, mbedtls_x509_crt* crt, int depth, std::uint32_t* flags);

  /// Feeds `data` (plus ciphertext kept from earlier) to mbedTLS: handshake, then application data.
  void feed(ByteView data);
  void pump();
  bool handshakeSucceeded();
  void handshakeFailed(int rc);
  void endHandshake(bool succeeded);
  /// Aborts a handshake that ran out of time (`what` goes to the failure and the log line).
  void handshakeTimedOut(const char* what, double seconds, bool warn);
  void cancelHandshakeTimers();
  void startUserProtocol();
  void deliver(ByteView plaintext);
  void peerClosed();
  void readFailed(int rc);
  void writeRecords(ByteView data);
  /// Sends the close_notify alert (once) and closes the TCP connection after the flush.
  void finishClose();
  /// Hands the ciphertext mbedTLS produced to the TCP transport (one write).
  void flushCipher();
  void userError(std::exception_ptr error, const char* where);
  void schedulePump();
  ITCPTransport* tcp() const;
  std::shared_ptr<ITransport> selfAsTransport();

  IReactorTime& clock_;
  std::shared_ptr<TlsConfig> config_;  // outlives ssl_ (declared first, and ssl_ is freed explicitly)
  std::shared_ptr<Factory> userFactory_;
  std::function<void(bool)> onHandshakeEnded_;
  mbedtls_ssl_context ssl_;
  State state_ = State::Idle;
  Address peer_;
  Address host_;
  std::shared_ptr<Protocol> protocol_;  // the user's, from the handshake to connectionLost
  std::optional<TlsPeerCertificate> peerCertificate_;
  DelayedCall handshakeTimer_;
  DelayedCall firstByteTimer_;  // server: cancelled by the first byte of the ClientHello
  DelayedCall pumpCall_;
  ByteView input_;                   // ciphertext mbedTLS may read now (see feed)
  std::vector<std::uint8_t> pending_;  // ciphertext kept between reads (paused, or unread)
  std::vector<std::uint8_t> cipherOut_;
  // Bookkeeping only: the TCP transport pauses and resumes the producer on its own buffer.
  ProducerSlot producer_{[this](std::exception_ptr e, const char* where) { userError(e, where); }};
  std::optional<Failure> failure_;  // why we closed (TLS error, timeout, user exception)
  Failure finalReason_;
  std::uint32_t verifyFlags_ = 0;  // what onSslVerify refused
  bool handshakeEnded_ = false;
  bool userConnected_ = false;
  bool disconnecting_ = false;
  bool closeNotifySent_ = false;
  bool readPaused_ = false;
};

}  // namespace reactor::detail
