// Port of Twisted's SerialPort (a FileDescriptor around the device) on a uv_poll_t. The rules it
// keeps are the TCP transport's: connectionLost exactly once, only from the close callback; writes
// after it are ignored; an exception from the protocol closes the port with it as the reason.
#include "reactor/detail/serial_transport.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "reactor/detail/access.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

namespace reactor::detail {

std::shared_ptr<SerialTransport> SerialTransport::create(ReactorImpl& reactor, std::unique_ptr<SerialDevice> device,
                                                         SerialOptions options) {
  std::shared_ptr<SerialTransport> t(new SerialTransport(reactor, std::move(device), std::move(options)));
  int rc = uv_poll_init(reactor.loop(), &t->poll_, t->device_->fd());
  if (rc != 0) {
    throw SerialPortError(t->options_.device + ": the reactor cannot poll it: " + uv_strerror(rc), rc);
  }
  t->poll_.data = t.get();
  t->self_ = t;  // released in onUvClose
  reactor.addConnection(t.get());
  return t;
}

SerialTransport::SerialTransport(ReactorImpl& reactor, std::unique_ptr<SerialDevice> device, SerialOptions options)
    : reactor_(reactor), device_(std::move(device)), options_(std::move(options)) {
  peer_ = Address{Address::Type::Serial, options_.device, 0, false};
  host_ = peer_;
}

SerialTransport::~SerialTransport() = default;

void SerialTransport::start(std::shared_ptr<Protocol> protocol) {
  if (makeConnection(std::move(protocol), shared_from_this())) updatePoll();
}

double SerialTransport::characterTime() const {
  int bits = 1 + options_.dataBits + (options_.parity == Parity::None ? 0 : 1) + options_.stopBits;
  return static_cast<double>(bits) / static_cast<double>(options_.baudrate);
}

// --- polling ------------------------------------------------------------------------------------

void SerialTransport::updatePoll() {
  if (closing_ || !started_) return;
  int events = 0;
  if (!readPaused_ && !disconnecting_) events |= UV_READABLE;
  if (bufferedAmount() > 0) events |= UV_WRITABLE;
  if (events == pollEvents_) return;
  pollEvents_ = events;
  if (events == 0) {
    uv_poll_stop(&poll_);
    return;
  }
  int rc = uv_poll_start(&poll_, events, onUvPoll);
  if (rc != 0) closeWithReason(Failure(FailureType::ConnectionLost, rc));
}

void SerialTransport::onUvPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<SerialTransport*>(handle->data);
  if (self->closing_) return;
  if (status < 0) {
    // libuv reports POLLERR as UV_EBADF: the device is gone.
    self->closeWithReason(Failure(FailureType::ConnectionLost, status));
    return;
  }
  if ((events & UV_WRITABLE) != 0) self->flushPending();
  if ((events & UV_READABLE) != 0 && !self->closing_) self->doRead();
}

void SerialTransport::doRead() {
  char* buf = reactor_.readBuffer();
  // A few reads per wake-up at most, so one busy line cannot starve the loop.
  for (int round = 0; round < 4 && !closing_ && !readPaused_ && !disconnecting_; ++round) {
    ssize_t n = ::read(device_->fd(), buf, ReactorImpl::kReadBufferSize);
    if (n > 0) {
      try {
        protocol_->dataReceived(ByteView(reinterpret_cast<const std::uint8_t*>(buf), static_cast<std::size_t>(n)));
      } catch (...) {
        userError(std::current_exception(), "dataReceived");
        return;
      }
      if (static_cast<std::size_t>(n) < ReactorImpl::kReadBufferSize) return;
      continue;
    }
    if (n == 0) {
      // VMIN 1: a read of 0 bytes is a hang-up (the device went away).
      closeWithReason(Failure(FailureType::ConnectionLost, UV_EOF, options_.device + " hung up"));
      return;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return;
    closeWithReason(Failure(FailureType::ConnectionLost, -err, options_.device + " read failed"));
    return;
  }
}

void SerialTransport::pauseProducing() {
  readPaused_ = true;
  updatePoll();
}

void SerialTransport::resumeProducing() {
  readPaused_ = false;
  updatePoll();
}

// --- writing ------------------------------------------------------------------------------------

void SerialTransport::write(ByteView data) {
  if (!connected_ || closing_ || data.empty()) return;
  std::size_t offset = 0;
  if (bufferedAmount() == 0 && !producer_.pull()) {
    ssize_t n = ::write(device_->fd(), data.data(), data.size());
    if (n == static_cast<ssize_t>(data.size())) return;
    if (n < 0) {
      int err = errno;
      if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
        closeWithReason(Failure(FailureType::ConnectionLost, -err, options_.device + " write failed"));
        return;
      }
    } else {
      offset = static_cast<std::size_t>(n);
    }
  }
  if (pendingOffset_ > 0 && pendingOffset_ == pending_.size()) {
    pending_.clear();
    pendingOffset_ = 0;
  }
  pending_.insert(pending_.end(), data.begin() + static_cast<std::ptrdiff_t>(offset), data.end());
  updatePoll();
  checkHighWater();
}

void SerialTransport::writeSequence(std::span<const ByteView> pieces) {
  for (const auto& p : pieces) write(p);
}

void SerialTransport::flushPending() {
  if (closing_) return;
  while (bufferedAmount() > 0) {
    ssize_t n = ::write(device_->fd(), pending_.data() + pendingOffset_, bufferedAmount());
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      closeWithReason(Failure(FailureType::ConnectionLost, -err, options_.device + " write failed"));
      return;
    }
    pendingOffset_ += static_cast<std::size_t>(n);
  }
  if (bufferedAmount() > 0) return;  // still polling for UV_WRITABLE
  pending_.clear();
  pendingOffset_ = 0;
  updatePoll();
  afterDrain();
}

// --- closing ------------------------------------------------------------------------------------

void SerialTransport::loseConnection() {
  if (!connected_ || disconnecting_ || closing_) return;
  disconnecting_ = true;
  updatePoll();  // stop reading, keep writing
  maybeFinishDisconnect();
}

void SerialTransport::maybeFinishDisconnect() {
  if (closing_ || drainCheck_.active()) return;
  if (bufferedAmount() > 0) return;  // flushPending comes back here when drained
  if (producer_.holdsClose()) return;
  drainDeadline_ = reactor_.seconds() + 2.0 + 2.0 * characterTime() * static_cast<double>(device_->outWaiting());
  waitForDriverDrain();
}

void SerialTransport::waitForDriverDrain() {
  if (closing_) return;
  std::size_t queued = device_->outWaiting();
  if (queued == 0 || reactor_.seconds() >= drainDeadline_) {
    if (queued > 0) {
      log::warning(options_.device, ": ", queued, " byte(s) still unsent when closing; discarding them");
    }
    closeWithReason(Failure::connectionDone());
    return;
  }
  double wait = std::max(0.001, characterTime() * static_cast<double>(queued));
  std::weak_ptr<SerialTransport> weak = weak_from_this();
  drainCheck_ = reactor_.owner().callLater(wait, [weak] {
    if (auto self = weak.lock()) self->waitForDriverDrain();
  });
}

void SerialTransport::abortConnection() {
  if (closing_) return;
  disconnecting_ = true;
  pending_.clear();
  pendingOffset_ = 0;
  closeWithReason(Failure(FailureType::ConnectionAborted));
}

void SerialTransport::closeWithReason(const Failure& reason) {
  if (closing_) return;
  closing_ = true;
  reason_ = reason;
  if (drainCheck_.active()) drainCheck_.cancel();
  if (breakEnd_.active()) breakEnd_.cancel();
  uv_poll_stop(&poll_);
  // The descriptor stays open until libuv has let go of the handle (onUvClose).
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), onUvClose);
}

void SerialTransport::onUvClose(uv_handle_t* handle) {
  auto* raw = static_cast<SerialTransport*>(handle->data);
  std::shared_ptr<SerialTransport> guard = std::move(raw->self_);  // alive to the end of this call
  raw->device_->close(/*discardOutput=*/!raw->reason_.check(FailureType::ConnectionDone));
  raw->reactor_.removeConnection(raw);
  raw->pending_.clear();
  raw->pendingOffset_ = 0;
  raw->closed();
}

// --- serial extras ------------------------------------------------------------------------------

void SerialTransport::setBaudRate(std::uint32_t baudrate) {
  if (closing_) throw SerialPortError(options_.device + ": closed", -EBADF);
  device_->setBaudRate(baudrate);
  options_.baudrate = baudrate;
}

std::size_t SerialTransport::inWaiting() const { return closing_ ? 0 : device_->inWaiting(); }

std::size_t SerialTransport::outWaiting() const { return bufferedAmount() + (closing_ ? 0 : device_->outWaiting()); }

void SerialTransport::flushInput() {
  if (!closing_) device_->flushInput();
}

void SerialTransport::flushOutput() {
  pending_.clear();
  pendingOffset_ = 0;
  if (!closing_) {
    device_->flushOutput();
    updatePoll();
  }
}

void SerialTransport::sendBreak(double seconds) {
  if (closing_ || breakEnd_.active()) return;
  device_->setBreak(true);
  std::weak_ptr<SerialTransport> weak = weak_from_this();
  breakEnd_ = reactor_.owner().callLater(std::max(0.0, seconds), [weak] {
    if (auto self = weak.lock(); self && !self->closing_) self->device_->setBreak(false);
  });
}

bool SerialTransport::getDSR() const { return !closing_ && device_->modemBit(TIOCM_DSR); }
bool SerialTransport::getCD() const { return !closing_ && device_->modemBit(TIOCM_CD); }
bool SerialTransport::getRI() const { return !closing_ && device_->modemBit(TIOCM_RI); }
bool SerialTransport::getCTS() const { return !closing_ && device_->modemBit(TIOCM_CTS); }

void SerialTransport::setDTR(bool on) {
  if (!closing_) device_->setModemBit(TIOCM_DTR, on);
}

void SerialTransport::setRTS(bool on) {
  if (!closing_) device_->setModemBit(TIOCM_RTS, on);
}

}  // namespace reactor::detail

namespace reactor {

std::shared_ptr<SerialPort> SerialPort::open(Reactor& reactor, std::shared_ptr<Protocol> protocol,
                                             const SerialOptions& options) {
  if (!protocol) throw std::invalid_argument("SerialPort::open: null protocol");
  auto device = detail::SerialDevice::open(options);
  auto transport = detail::SerialTransport::create(detail::ReactorAccess::impl(reactor), std::move(device), options);
  log::debug("serial port open: ", options.toString(), transport->usesLibserialport() ? "" : " (termios)");
  transport->start(std::move(protocol));
  return transport;
}

std::shared_ptr<SerialPort> SerialPort::open(Reactor& reactor, std::shared_ptr<Protocol> protocol, std::string device,
                                             SerialOptions options) {
  options.device = std::move(device);
  return open(reactor, std::move(protocol), options);
}

void SerialPort::check(const SerialOptions& options) { detail::SerialDevice::check(options); }

}  // namespace reactor
