// What the stream transports share (Twisted's abstract.FileDescriptor): the producer slot
// (registerProducer, the high-water pause, the resume after a drain), the user-error report and
// the one connectionLost delivery. TcpTransport and SerialTransport derive from StreamTransport;
// TlsConnection, which buffers through its TCP transport, uses the ProducerSlot and the two
// helpers below. Rules kept: a producer is paused only when streaming and over the high-water
// mark, and resumed only when the buffer has fully drained; connectionLost is delivered once,
// after the producer is stopped, to a protocol the transport no longer holds. Internal to reactor/.
// Tests: tests/reactor/tcp_transport_flow_test.cc, serial_port_test.cc, tls_transport_test.cc
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "reactor/detail/reactor_impl.h"
#include "reactor/failure.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor::detail {

/// The registered producer of one transport and its paused state.
class ProducerSlot {
 public:
  /// `onError(exception, where)` runs when the producer throws (the transport closes).
  explicit ProducerSlot(std::function<void(std::exception_ptr, const char*)> onError) : onError_(std::move(onError)) {}

  /// The checks of registerProducer: throws std::logic_error when one is registered already;
  /// stops `producer` and returns false when the transport no longer accepts one.
  bool admit(std::shared_ptr<IProducer>& producer, bool streaming, bool accepting);
  /// admit(), then asks a pull producer for data or pauses a push producer already over the mark.
  void registerProducer(std::shared_ptr<IProducer> producer, bool streaming, bool accepting, std::size_t buffered);
  void unregister();
  bool registered() const { return producer_ != nullptr; }
  /// A pull producer is registered: writes queue, and completions drive it.
  bool pull() const { return producer_ && !streaming_; }
  /// The close waits: for a pull producer, or for a push producer that is paused (the drain resumes
  /// it first), until it is unregistered — as Twisted's doWrite does.
  bool holdsClose() const { return producer_ && (!streaming_ || paused_); }
  void setHighWater(std::size_t bytes) { highWater_ = bytes; }
  /// Pauses a streaming producer once `buffered` exceeds the high-water mark.
  void checkHighWater(std::size_t buffered);
  /// The buffer has fully drained: resumes a pull producer, or a paused push producer. False when
  /// the producer threw (onError has run).
  bool drained();
  /// The connection is closed: stops and forgets the producer.
  void stop();

 private:
  std::function<void(std::exception_ptr, const char*)> onError_;
  std::shared_ptr<IProducer> producer_;
  std::size_t highWater_ = 64 * 1024;
  bool streaming_ = false;
  bool paused_ = false;
};

/// Logs an exception from user code ("exception in WHERE (PREFIX, WHO): MESSAGE; closing the WHAT")
/// and returns it as the Failure that closes the connection.
Failure reportUserError(std::exception_ptr error, const char* where, const Protocol* protocol, const std::string& who,
                        const char* what);

/// Marks `protocol` disconnected and calls its connectionLost(reason), exceptions contained.
void deliverConnectionLost(Protocol& protocol, const Failure& reason);

/// The state and producer handling of a transport that owns its write buffer. A derived class
/// implements the I/O (write, reading, the shutdown) and calls makeConnection(), checkHighWater()
/// after queueing, afterDrain() when the buffer is empty and closed() from its close callback.
template <class Interface>
class StreamTransport : public Interface, public ManagedConnection {
 public:
  Address getPeer() const override { return peer_; }
  Address getHost() const override { return host_; }
  bool connected() const override { return connected_; }
  bool disconnecting() const override { return disconnecting_; }
  void setWriteHighWaterMark(std::size_t bytes) override { producer_.setHighWater(bytes); }
  void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) override {
    producer_.registerProducer(std::move(producer), streaming, acceptsProducer(), this->bufferedAmount());
  }
  void unregisterProducer() override {
    producer_.unregister();
    if (disconnecting_) maybeFinishDisconnect();
  }
  void stopProducing() override { this->loseConnection(); }
  void abortNow() override { this->abortConnection(); }

 protected:
  StreamTransport() = default;

  /// Who the error line names ("peer 1.2.3.4:5", "serial port /dev/ttyS0") and what it closes.
  virtual std::string describeOtherEnd() const = 0;
  virtual const char* connectionWord() const = 0;
  virtual bool acceptsProducer() const { return connected_ && !closing_; }
  virtual void maybeFinishDisconnect() = 0;
  virtual void closeWithReason(const Failure& reason) = 0;

  /// Hands `self` to the protocol; false when connectionMade threw (the transport is closing).
  bool makeConnection(std::shared_ptr<Protocol> protocol, std::shared_ptr<ITransport> self) {
    protocol_ = std::move(protocol);
    started_ = true;
    connected_ = true;
    try {
      protocol_->makeConnection(std::move(self));
    } catch (...) {
      userError(std::current_exception(), "connectionMade");
      return false;
    }
    return true;
  }

  void userError(std::exception_ptr error, const char* where) {
    Failure f = reportUserError(error, where, protocol_.get(), describeOtherEnd(), connectionWord());
    if (closing_) {
      // Already closing (the hook called abortConnection, then threw): the exception still becomes
      // the reason connectionLost sees, so the bug is not masked (Twisted's test_dataReceivedThrows).
      if (!lostDelivered_) reason_ = f;
      return;
    }
    closeWithReason(f);
  }

  void checkHighWater() { producer_.checkHighWater(this->bufferedAmount()); }

  void afterDrain() {
    if (!producer_.drained()) return;
    if (disconnecting_) maybeFinishDisconnect();
  }

  /// From the close callback, once libuv has let go: stops the producer, then delivers
  /// connectionLost (Twisted drops its reference to the protocol before calling it).
  void closed() {
    connected_ = false;
    producer_.stop();
    std::shared_ptr<Protocol> protocol = std::move(protocol_);
    lostDelivered_ = true;
    if (protocol && started_) deliverConnectionLost(*protocol, reason_);
  }

  ProducerSlot producer_{[this](std::exception_ptr e, const char* where) { userError(e, where); }};
  std::shared_ptr<Protocol> protocol_;
  Address peer_;
  Address host_;
  Failure reason_;
  bool started_ = false;
  bool connected_ = false;
  bool disconnecting_ = false;
  bool closing_ = false;
  bool readPaused_ = false;
  bool lostDelivered_ = false;
};

}  // namespace reactor::detail
