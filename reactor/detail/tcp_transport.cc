// Port of twisted.internet.tcp.Connection on libuv. The rules it keeps (twisted-api.md §7):
// connectionLost exactly once and only from the close callback (never re-entrantly); writes after
// it are ignored; uv_close is never called with writes queued unless aborting; an exception from
// the protocol closes this connection with the exception as the reason. Half-close keeps the same
// single close path: the write side is shut with the uv_shutdown a full close uses, and the handle is
// closed once both sides are done (or on loseConnection/abortConnection).
#include "reactor/detail/tcp_transport.h"

#include <algorithm>
#include <cstring>

#include "reactor/detail/unix_port.h"

namespace reactor::detail {

std::shared_ptr<TcpTransport> TcpTransport::create(ReactorImpl& reactor, Kind kind) {
  std::shared_ptr<TcpTransport> t(new TcpTransport(reactor, kind));
  t->self_ = t;  // released in onUvClose
  reactor.addConnection(t.get());
  return t;
}

TcpTransport::TcpTransport(ReactorImpl& reactor, Kind kind) : reactor_(reactor), kind_(kind) {
  if (kind_ == Kind::TCP) {
    uv_tcp_init(reactor.loop(), &handle_.tcp);
  } else {
    uv_pipe_init(reactor.loop(), &handle_.pipe, 0);
  }
  handle_.handle.data = this;
}

Address TcpTransport::peerAddress(Address fallback) {
  return kind_ == Kind::TCP ? tcpAddress(&handle_.tcp, false, fallback) : unixAddress(&handle_.pipe, false, fallback);
}

TcpTransport::~TcpTransport() = default;

void TcpTransport::start(std::shared_ptr<Protocol> protocol, std::function<void(const Failure&)> onLost) {
  peer_ = peerAddress(peer_);
  host_ = kind_ == Kind::TCP ? tcpAddress(&handle_.tcp, true, host_) : unixAddress(&handle_.pipe, true, host_);
  onLost_ = std::move(onLost);
  halfCloseable_ = dynamic_cast<IHalfCloseableProtocol*>(protocol.get());
  if (!makeConnection(std::move(protocol), shared_from_this())) return;
  if (!disconnecting_ && !closing_ && !readPaused_) startReading();
}

void TcpTransport::closeWithoutProtocol() { closeWithReason(Failure(FailureType::ConnectionAborted)); }

// --- reading ------------------------------------------------------------------------------------

void TcpTransport::startReading() {
  if (reading_ || closing_) return;
  if (uv_read_start(stream(), onUvAlloc, onUvRead) == 0) reading_ = true;
}

void TcpTransport::stopReading() {
  if (!reading_) return;
  uv_read_stop(stream());
  reading_ = false;
}

void TcpTransport::onUvAlloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* self = static_cast<TcpTransport*>(handle->data);
  buf->base = self->reactor_.readBuffer();
  buf->len = ReactorImpl::kReadBufferSize;
}

void TcpTransport::onUvRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<TcpTransport*>(stream->data);
  if (nread > 0) {
    if (self->closing_ || !self->protocol_) return;
    try {
      self->protocol_->dataReceived(ByteView(reinterpret_cast<const std::uint8_t*>(buf->base),
                                             static_cast<std::size_t>(nread)));
    } catch (...) {
      self->userError(std::current_exception(), "dataReceived");
    }
    return;
  }
  if (nread == 0) return;  // EAGAIN: nothing to do
  if (nread == UV_EOF) {
    if (self->halfCloseable_ && !self->disconnecting_) {
      self->readSideShut();
      return;
    }
    // The peer closed its side: answer what is already queued, then close (ConnectionDone).
    self->stopReading();
    self->disconnecting_ = true;
    self->maybeFinishDisconnect();
    return;
  }
  self->closeWithReason(Failure(FailureType::ConnectionLost, static_cast<int>(nread)));
}

void TcpTransport::pauseProducing() {
  readPaused_ = true;
  stopReading();
}

void TcpTransport::resumeProducing() {
  readPaused_ = false;
  if (connected_ && started_ && !disconnecting_ && !closing_) startReading();
}

// --- writing ------------------------------------------------------------------------------------

void TcpTransport::write(ByteView data) {
  // Accepted while disconnecting, until the shutdown itself has begun (then nothing can be sent).
  if (!connected_ || closing_ || shutdownStarted_ || data.empty()) return;
  std::size_t offset = 0;
  if (!writing_ && pending_.empty() && !producer_.pull()) {
    // Fast path (not with a pull producer, which is driven by write completions): straight to the
    // kernel, no copy, no allocation.
    uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data.data())),
                             static_cast<unsigned>(data.size()));
    int n = uv_try_write(stream(), &b, 1);
    if (n == static_cast<int>(data.size())) return;
    if (n < 0 && n != UV_EAGAIN) {
      closeWithReason(Failure(FailureType::ConnectionLost, n));
      return;
    }
    if (n > 0) offset = static_cast<std::size_t>(n);
  }
  pending_.insert(pending_.end(), data.begin() + static_cast<std::ptrdiff_t>(offset), data.end());
  flushPending();
  checkHighWater();
}

void TcpTransport::writeSequence(std::span<const ByteView> pieces) {
  if (!connected_ || closing_ || shutdownStarted_) return;
  if (!writing_ && pending_.empty() && pieces.size() <= 16 && !producer_.pull()) {
    // Fast path: one gathered try-write, queueing only what the kernel did not take.
    uv_buf_t bufs[16];
    std::size_t total = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      bufs[i] = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(pieces[i].data())),
                            static_cast<unsigned>(pieces[i].size()));
      total += pieces[i].size();
    }
    if (total == 0) return;
    int n = uv_try_write(stream(), bufs, static_cast<unsigned>(pieces.size()));
    if (n < 0 && n != UV_EAGAIN) {
      closeWithReason(Failure(FailureType::ConnectionLost, n));
      return;
    }
    std::size_t skip = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (skip == total) return;
    for (const auto& p : pieces) {
      std::size_t drop = std::min(skip, p.size());
      skip -= drop;
      pending_.insert(pending_.end(), p.begin() + static_cast<std::ptrdiff_t>(drop), p.end());
    }
  } else {
    for (const auto& p : pieces) pending_.insert(pending_.end(), p.begin(), p.end());
  }
  flushPending();
  checkHighWater();
}

void TcpTransport::flushPending() {
  if (writing_ || pending_.empty() || closing_) return;
  inflight_.swap(pending_);
  pending_.clear();
  uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(inflight_.data()), static_cast<unsigned>(inflight_.size()));
  int rc = uv_write(&writeReq_, stream(), &b, 1, onUvWrite);
  if (rc != 0) {
    inflight_.clear();
    closeWithReason(Failure(FailureType::ConnectionLost, rc));
    return;
  }
  writeReq_.data = this;
  writing_ = true;
}

void TcpTransport::onUvWrite(uv_write_t* req, int status) {
  auto* self = static_cast<TcpTransport*>(req->data);
  self->writing_ = false;
  self->inflight_.clear();
  if (status < 0) {
    if (status != UV_ECANCELED) self->closeWithReason(Failure(FailureType::ConnectionLost, status));
    return;
  }
  if (!self->pending_.empty()) {
    self->flushPending();
    return;
  }
  self->afterDrain();
  if (self->writeDisconnecting_ && !self->disconnecting_) self->maybeFinishDisconnect();
}

// --- closing ------------------------------------------------------------------------------------

void TcpTransport::loseConnection() {
  if (!connected_ || disconnecting_ || closing_) return;
  disconnecting_ = true;
  stopReading();
  maybeFinishDisconnect();
}

void TcpTransport::loseWriteConnection() {
  if (!connected_ || disconnecting_ || closing_ || writeDisconnecting_) return;
  writeDisconnecting_ = true;
  maybeFinishDisconnect();
}

void TcpTransport::writeSideShut() {
  writeShut_ = true;
  if (halfCloseable_) {
    try {
      halfCloseable_->writeConnectionLost();
    } catch (...) {
      userError(std::current_exception(), "writeConnectionLost");
      return;
    }
  }
  // Both directions done (the peer's EOF came first), or the protocol closed meanwhile: nothing
  // else can happen on this connection.
  if (readShut_ || disconnecting_) closeWithReason(Failure::connectionDone());
}

void TcpTransport::readSideShut() {
  stopReading();
  readShut_ = true;
  try {
    halfCloseable_->readConnectionLost();
  } catch (...) {
    userError(std::current_exception(), "readConnectionLost");
    return;
  }
  if (writeShut_ && !closing_) closeWithReason(Failure::connectionDone());
}

void TcpTransport::shutdownGracefully() {
  if (!started_) {
    closeWithReason(Failure(FailureType::ConnectionAborted));
    return;
  }
  loseConnection();
}

bool TcpTransport::readyToShutdown() const {
  if (closing_ || shutdownStarted_) return false;
  if (writing_ || !pending_.empty()) return false;  // onUvWrite comes back here when drained
  return !producer_.holdsClose();
}

void TcpTransport::maybeFinishDisconnect() {
  if (writeShut_ && disconnecting_) {
    // The write side was shut by a half-close already: loseConnection has nothing left to send.
    closeWithReason(Failure::connectionDone());
    return;
  }
  if (shutdownScheduled_ || !readyToShutdown()) return;
  // Not from inside the caller (often the protocol, in loseConnection): as in Twisted, where the
  // close happens on a later doWrite, a write made right after loseConnection is still sent.
  shutdownScheduled_ = true;
  std::weak_ptr<TcpTransport> weak = weak_from_this();
  reactor_.owner().callLater(0.0, [weak] {
    if (auto self = weak.lock()) self->startShutdown();
  });
}

void TcpTransport::startShutdown() {
  shutdownScheduled_ = false;
  // A write made meanwhile is in flight: its completion calls maybeFinishDisconnect again.
  if (!readyToShutdown()) return;
  shutdownStarted_ = true;
  shutdownReq_.data = this;
  if (uv_shutdown(&shutdownReq_, stream(), onUvShutdown) != 0) closeWithReason(Failure::connectionDone());
}

void TcpTransport::onUvShutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<TcpTransport*>(req->data);
  if (status == UV_ECANCELED) return;  // already closing
  if (self->closing_) return;
  if (status == 0 && !self->disconnecting_) {
    self->writeSideShut();  // a half-close: reading goes on
    return;
  }
  self->closeWithReason(Failure::connectionDone());
}

void TcpTransport::abortConnection() {
  if (closing_) return;
  disconnecting_ = true;
  pending_.clear();
  closeWithReason(Failure(FailureType::ConnectionAborted), /*reset=*/true);
}

void TcpTransport::closeWithReason(const Failure& reason, bool reset) {
  if (closing_) return;
  closing_ = true;
  reason_ = reason;
  stopReading();
  // An RST tells the peer the data it sent was not consumed; libuv refuses it once a shutdown is
  // under way, and then a plain close does.
  if (reset && kind_ == Kind::TCP && !shutdownStarted_ && uv_tcp_close_reset(&handle_.tcp, onUvClose) == 0) return;
  uv_close(&handle_.handle, onUvClose);
}

void TcpTransport::onUvClose(uv_handle_t* handle) {
  auto* raw = static_cast<TcpTransport*>(handle->data);
  std::shared_ptr<TcpTransport> guard = std::move(raw->self_);  // keeps us alive to the end of this call
  raw->reactor_.removeConnection(raw);
  raw->writing_ = false;
  raw->pending_.clear();
  raw->inflight_.clear();
  raw->closed();
  if (auto onLost = std::move(raw->onLost_)) {
    callSafely("connection lost callback", [&] { onLost(raw->reason_); });
  }
}

void TcpTransport::setTcpNoDelay(bool enabled) {
  if (closing_ || kind_ != Kind::TCP) return;
  if (uv_tcp_nodelay(&handle_.tcp, enabled ? 1 : 0) == 0) noDelay_ = enabled;
}

void TcpTransport::setTcpKeepAlive(bool enabled) {
  if (closing_ || kind_ != Kind::TCP) return;
  if (uv_tcp_keepalive(&handle_.tcp, enabled ? 1 : 0, 60) == 0) keepAlive_ = enabled;
}

}  // namespace reactor::detail
