// Port of twisted.protocols.tls.TLSMemoryBIOProtocol on mbedTLS. The rules it keeps: the BIO
// callbacks never block (recv answers WANT_READ when the bytes from the TCP transport are used up,
// send queues into one output buffer flushed as one TCP write per call into us); the user's
// protocol exists only after a successful handshake; its connectionLost comes exactly once, from
// the TCP transport's; an exception from user code closes this connection, never the process.
#include "reactor/detail/tls_connection.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "reactor/detail/reactor_impl.h"
#include "reactor/detail/tls_certificate.h"
#include "reactor/log.h"

namespace reactor::detail {
namespace {

/// mbedTLS's largest record payload: what one ssl_read can return.
constexpr std::size_t kPlaintextChunk = 16 * 1024;

}  // namespace

TlsConnection::TlsConnection(IReactorTime& clock, std::shared_ptr<TlsConfig> config,
                             std::shared_ptr<Factory> userFactory, std::function<void(bool)> onHandshakeEnded)
    : clock_(clock),
      config_(std::move(config)),
      userFactory_(std::move(userFactory)),
      onHandshakeEnded_(std::move(onHandshakeEnded)) {
  mbedtls_ssl_init(&ssl_);
}

TlsConnection::~TlsConnection() { mbedtls_ssl_free(&ssl_); }

ITCPTransport* TlsConnection::tcp() const { return dynamic_cast<ITCPTransport*>(transportPtr().get()); }

std::shared_ptr<ITransport> TlsConnection::selfAsTransport() {
  return std::shared_ptr<ITransport>(shared_from_this(), static_cast<ITransport*>(this));
}

// --- the TCP side -------------------------------------------------------------------------------

void TlsConnection::connectionMade() {
  peer_ = transport().getPeer();
  host_ = transport().getHost();
  int rc = mbedtls_ssl_setup(&ssl_, config_->conf());
  if (rc == 0 && config_->side() == TlsSide::Client && !config_->options().serverName.empty()) {
    rc = mbedtls_ssl_set_hostname(&ssl_, config_->options().serverName.c_str());
  }
  if (rc != 0) {
    handshakeFailed(rc);
    return;
  }
  mbedtls_ssl_set_bio(&ssl_, this, onSslSend, onSslRecv, nullptr);
  const TlsOptions& options = config_->options();
  if (config_->side() == TlsSide::Server && !options.requireClientCertificate && !options.caFile.empty()) {
    // An optional client certificate that is sent must still verify: mbedTLS's OPTIONAL mode
    // would finish the handshake anyway, so the verify callback fails it.
    mbedtls_ssl_set_verify(&ssl_, onSslVerify, this);
  }
  state_ = State::Handshaking;
  std::weak_ptr<Protocol> weak = weak_from_this();
  double timeout = options.handshakeTimeout;
  if (timeout > 0) {
    handshakeTimer_ = clock_.callLater(timeout, [weak, this, timeout] {
      if (auto self = weak.lock()) handshakeTimedOut("timed out", timeout, true);
    });
  }
  double firstByte = options.firstByteTimeout;
  if (config_->side() == TlsSide::Server && firstByte > 0 && (timeout <= 0 || firstByte < timeout)) {
    // A silent connection holds a handshake slot: it gets a much shorter time than a slow one.
    // Logged at debug: under a flood, the port's refusal line and its counters say it once.
    firstByteTimer_ = clock_.callLater(firstByte, [weak, this, firstByte] {
      if (auto self = weak.lock()) handshakeTimedOut("sent nothing (first_byte_timeout)", firstByte, false);
    });
  }
  pump();  // a client sends its ClientHello now
  flushCipher();
}

void TlsConnection::dataReceived(ByteView data) {
  auto guard = shared_from_this();
  if (!data.empty() && firstByteTimer_.active()) firstByteTimer_.cancel();
  feed(data);
}

void TlsConnection::feed(ByteView data) {
  if (state_ != State::Handshaking && state_ != State::Open) return;
  if (pending_.empty()) {
    input_ = data;
    pump();
    if (!input_.empty() && state_ != State::Closed) pending_.assign(input_.begin(), input_.end());
  } else {
    pending_.insert(pending_.end(), data.begin(), data.end());
    input_ = ByteView(pending_);
    pump();
    std::size_t used = pending_.size() - input_.size();
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used));
  }
  input_ = {};
  flushCipher();
}

int TlsConnection::onSslRecv(void* ctx, unsigned char* buf, std::size_t len) {
  auto* self = static_cast<TlsConnection*>(ctx);
  if (self->input_.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
  std::size_t n = std::min(len, self->input_.size());
  std::memcpy(buf, self->input_.data(), n);
  self->input_ = self->input_.subspan(n);
  return static_cast<int>(n);
}

int TlsConnection::onSslSend(void* ctx, const unsigned char* buf, std::size_t len) {
  auto* self = static_cast<TlsConnection*>(ctx);
  self->cipherOut_.insert(self->cipherOut_.end(), buf, buf + len);
  return static_cast<int>(len);
}

int TlsConnection::onSslVerify(void* ctx, mbedtls_x509_crt* crt, int depth, std::uint32_t* flags) {
  (void)crt;
  (void)depth;
  if (*flags == 0) return 0;
  static_cast<TlsConnection*>(ctx)->verifyFlags_ |= *flags;
  return MBEDTLS_ERR_X509_FATAL_ERROR;  // not masked by the OPTIONAL mode, unlike CERT_VERIFY_FAILED
}

void TlsConnection::flushCipher() {
  if (cipherOut_.empty()) return;
  if (Protocol::connected()) transport().write(cipherOut_);
  cipherOut_.clear();
}

void TlsConnection::pump() {
  while (true) {
    if (state_ == State::Handshaking) {
      int rc = mbedtls_ssl_handshake(&ssl_);
      if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return;
      if (rc != 0) {
        handshakeFailed(rc);
        return;
      }
      if (!handshakeSucceeded()) return;
      continue;
    }
    if (state_ != State::Open || readPaused_ || disconnecting_ || !userConnected_) return;
    static thread_local std::array<unsigned char, kPlaintextChunk> plaintext;
    int rc = mbedtls_ssl_read(&ssl_, plaintext.data(), plaintext.size());
    if (rc > 0) {
      deliver(ByteView(plaintext.data(), static_cast<std::size_t>(rc)));
      continue;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      peerClosed();
    } else {
      readFailed(rc);
    }
    return;
  }
}

bool TlsConnection::handshakeSucceeded() {
  cancelHandshakeTimers();
  const TlsOptions& options = config_->options();
  const mbedtls_x509_crt* cert = mbedtls_ssl_get_peer_cert(&ssl_);
  // With an optional client certificate mbedTLS finishes the handshake whatever the verification
  // said: a certificate that was sent must still verify.
  bool optional = config_->side() == TlsSide::Server && !options.requireClientCertificate && !options.caFile.empty();
  if (cert != nullptr && optional) {
    std::uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
    if (flags != 0) {
      std::string why = verifyFlagsString(flags);
      log::warning("TLS peer ", peer_.toString(), " refused: its certificate did not verify: ", why);
      failure_ = Failure(FailureType::ConnectionLost, 0, "TLS peer certificate not accepted: " + why);
      endHandshake(false);
      mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
      state_ = State::Closed;
      flushCipher();
      transport().loseConnection();
      return false;
    }
  }
  if (cert != nullptr) peerCertificate_ = describeCertificate(*cert);
  state_ = State::Open;
  endHandshake(true);
  if (log::enabled(log::Level::Debug)) {
    log::debug("TLS handshake with ", peer_.toString(), " done: ", tlsVersion(), " ", cipherSuite(),
               peerCertificate_ ? ", peer " + peerCertificate_->subject : std::string(", no peer certificate"),
               peerCertificate_ && peerCertificate_->role ? ", role " + *peerCertificate_->role : std::string());
  }
  flushCipher();  // the last handshake flight goes before anything the user writes
  startUserProtocol();
  return state_ == State::Open;
}

void TlsConnection::startUserProtocol() {
  // The factory is needed once: holding it longer would make a cycle with any factory that keeps
  // its protocols (each protocol holds this connection as its transport), as TCP never does.
  std::shared_ptr<Factory> factory = std::move(userFactory_);
  std::shared_ptr<Protocol> protocol = factory ? buildProtocolFor(*factory, peer_) : nullptr;
  if (!protocol) {
    log::info("TLS connection from ", peer_.toString(), " refused by the factory");
    disconnecting_ = true;
    finishClose();
    return;
  }
  protocol_ = std::move(protocol);
  userConnected_ = true;
  try {
    protocol_->makeConnection(selfAsTransport());
  } catch (...) {
    userError(std::current_exception(), "connectionMade");
  }
}

void TlsConnection::handshakeFailed(int rc) {
  cancelHandshakeTimers();
  std::string why = tlsErrorString(rc);
  if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
    why += ": " + verifyFlagsString(mbedtls_ssl_get_verify_result(&ssl_));
  } else if (rc == MBEDTLS_ERR_X509_FATAL_ERROR && verifyFlags_ != 0) {
    why = "the client certificate did not verify: " + verifyFlagsString(verifyFlags_);
  }
  log::warning("TLS handshake with ", peer_.toString(), " failed: ", why);
  failure_ = Failure(FailureType::ConnectionLost, 0, "TLS handshake failed: " + why);
  endHandshake(false);
  if (rc == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) {
    // mbedTLS closes without a word here: tell the client (TLS 1.2 has no certificate_required).
    mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL, MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
  }
  state_ = State::Closed;
  flushCipher();  // the alert mbedTLS queued, if any
  transport().loseConnection();
}

void TlsConnection::handshakeTimedOut(const char* what, double seconds, bool warn) {
  if (state_ != State::Handshaking) return;
  cancelHandshakeTimers();
  if (warn) {
    log::warning("TLS handshake with ", peer_.toString(), " ", what, " after ", seconds, " s");
  } else {
    log::debug("TLS handshake with ", peer_.toString(), " ", what, " after ", seconds, " s");
  }
  failure_ = Failure(FailureType::TimeoutError, 0, std::string("TLS handshake ") + what);
  endHandshake(false);
  state_ = State::Closed;
  transport().abortConnection();
}

void TlsConnection::cancelHandshakeTimers() {
  if (handshakeTimer_.active()) handshakeTimer_.cancel();
  if (firstByteTimer_.active()) firstByteTimer_.cancel();
}

void TlsConnection::endHandshake(bool succeeded) {
  if (handshakeEnded_) return;
  handshakeEnded_ = true;
  if (auto f = std::move(onHandshakeEnded_)) callSafely("TLS handshake callback", [&] { f(succeeded); });
}

void TlsConnection::deliver(ByteView plaintext) {
  try {
    protocol_->dataReceived(plaintext);
  } catch (...) {
    userError(std::current_exception(), "dataReceived");
  }
}

void TlsConnection::peerClosed() {
  // The peer's close_notify: answer it and close (ConnectionDone), as TLSMemoryBIOProtocol does.
  disconnecting_ = true;
  finishClose();
}

void TlsConnection::readFailed(int rc) {
  std::string why = tlsErrorString(rc);
  log::warning("TLS error from ", peer_.toString(), ": ", why, "; closing the connection");
  failure_ = Failure(FailureType::ConnectionLost, 0, "TLS error: " + why);
  disconnecting_ = true;
  state_ = State::Closed;
  flushCipher();
  transport().loseConnection();
}

void TlsConnection::userError(std::exception_ptr error, const char* where) {
  Failure f = reportUserError(error, where, protocol_.get(), "peer " + peer_.toString(), "connection");
  if (!failure_) failure_ = f;
  disconnecting_ = true;
  state_ = State::Closed;
  cipherOut_.clear();
  transport().abortConnection();
}

void TlsConnection::connectionLost(const Failure& reason) {
  auto guard = shared_from_this();
  cancelHandshakeTimers();
  if (pumpCall_.active()) pumpCall_.cancel();
  if (!handshakeEnded_) {
    log::debug("TLS connection from ", peer_.toString(), " lost during the handshake: ", reason.getErrorMessage());
    if (!failure_) failure_ = Failure(reason.type(), reason.code(), "connection lost during the TLS handshake");
    endHandshake(false);
  }
  state_ = State::Closed;
  finalReason_ = failure_ ? *failure_ : reason;
  userFactory_.reset();  // lost before the handshake finished
  producer_.unregister();
  pending_.clear();
  std::shared_ptr<Protocol> protocol = std::move(protocol_);
  if (protocol && userConnected_) {
    userConnected_ = false;
    disconnecting_ = true;
    deliverConnectionLost(*protocol, finalReason_);
  }
}

// --- the user's side ----------------------------------------------------------------------------

void TlsConnection::write(ByteView data) {
  if (!userConnected_ || closeNotifySent_ || state_ != State::Open || data.empty()) return;
  writeRecords(data);
  flushCipher();
}

void TlsConnection::writeSequence(std::span<const ByteView> pieces) {
  if (!userConnected_ || closeNotifySent_ || state_ != State::Open) return;
  // One record for the lot, not one per piece.
  static thread_local std::vector<std::uint8_t> gathered;
  gathered.clear();
  for (const auto& p : pieces) gathered.insert(gathered.end(), p.begin(), p.end());
  if (gathered.empty()) return;
  writeRecords(gathered);
  flushCipher();
}

void TlsConnection::writeRecords(ByteView data) {
  std::size_t offset = 0;
  while (offset < data.size() && state_ == State::Open) {
    int rc = mbedtls_ssl_write(&ssl_, data.data() + offset, data.size() - offset);
    if (rc > 0) {
      offset += static_cast<std::size_t>(rc);
    } else if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
      return;  // cannot happen: our send callback takes everything, and renegotiation is off
    } else {
      readFailed(rc);
      return;
    }
  }
}

void TlsConnection::loseConnection() {
  if (!userConnected_ || disconnecting_) return;
  disconnecting_ = true;
  if (producer_.pull()) return;  // a pull producer: the close waits for unregisterProducer()
  finishClose();
}

void TlsConnection::finishClose() {
  if (closeNotifySent_ || state_ == State::Closed) return;
  closeNotifySent_ = true;
  if (state_ == State::Open) mbedtls_ssl_close_notify(&ssl_);
  flushCipher();
  transport().loseConnection();
}

void TlsConnection::abortConnection() {
  if (!Protocol::connected()) return;
  disconnecting_ = true;
  cipherOut_.clear();
  transport().abortConnection();
}

std::size_t TlsConnection::bufferedAmount() const {
  return cipherOut_.size() + (transportPtr() ? transportPtr()->bufferedAmount() : 0);
}

void TlsConnection::setWriteHighWaterMark(std::size_t bytes) { transport().setWriteHighWaterMark(bytes); }

void TlsConnection::registerProducer(std::shared_ptr<IProducer> producer, bool streaming) {
  if (!producer_.admit(producer, streaming, userConnected_)) return;
  // The TCP transport pauses and resumes it on its (ciphertext) buffer, as Twisted's membrane does.
  transport().registerProducer(std::move(producer), streaming);
}

void TlsConnection::unregisterProducer() {
  if (!producer_.registered()) return;
  producer_.unregister();
  if (Protocol::connected()) transport().unregisterProducer();
  if (disconnecting_ && userConnected_) finishClose();
}

void TlsConnection::pauseProducing() {
  readPaused_ = true;
  transport().pauseProducing();
}

void TlsConnection::resumeProducing() {
  readPaused_ = false;
  if (disconnecting_ || state_ != State::Open) return;
  transport().resumeProducing();
  // Ciphertext kept while paused, or plaintext mbedTLS still holds, is delivered from the loop,
  // never from inside this call.
  if (!pending_.empty() || mbedtls_ssl_check_pending(&ssl_) != 0) schedulePump();
}

void TlsConnection::schedulePump() {
  if (pumpCall_.active()) return;
  std::weak_ptr<Protocol> weak = weak_from_this();
  pumpCall_ = clock_.callLater(0.0, [weak, this] {
    auto self = weak.lock();
    if (!self || readPaused_) return;
    feed({});
  });
}

void TlsConnection::setTcpNoDelay(bool enabled) {
  if (auto* t = tcp()) t->setTcpNoDelay(enabled);
}

bool TlsConnection::getTcpNoDelay() const {
  auto* t = tcp();
  return t != nullptr && t->getTcpNoDelay();
}

void TlsConnection::setTcpKeepAlive(bool enabled) {
  if (auto* t = tcp()) t->setTcpKeepAlive(enabled);
}

bool TlsConnection::getTcpKeepAlive() const {
  auto* t = tcp();
  return t != nullptr && t->getTcpKeepAlive();
}

std::string TlsConnection::cipherSuite() const {
  if (state_ != State::Open && !handshakeEnded_) return {};
  const char* name = mbedtls_ssl_get_ciphersuite(&ssl_);
  return name != nullptr ? name : "";
}

std::string TlsConnection::tlsVersion() const {
  if (state_ != State::Open && !handshakeEnded_) return {};
  const char* name = mbedtls_ssl_get_version(&ssl_);
  return name != nullptr ? name : "";
}

}  // namespace reactor::detail
