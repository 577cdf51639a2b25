// Port of twisted.internet.tcp.Connection on a libuv stream: buffered writes with try-write first,
// producers, loseConnection/abortConnection, and one idempotent close path.
// Tests: tests/reactor/tcp_transport_test.cc
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <vector>

#include "reactor/detail/reactor_impl.h"
#include "reactor/failure.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor::detail {

class TcpTransport final : public ITCPTransport,
                           public ManagedConnection,
                           public std::enable_shared_from_this<TcpTransport> {
 public:
  /// Initialises the handle; the transport keeps itself alive until the handle is closed.
  static std::shared_ptr<TcpTransport> create(ReactorImpl& reactor);
  ~TcpTransport() override;

  uv_tcp_t* handle() { return &handle_; }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&handle_); }

  /// Caches addresses, calls protocol->makeConnection and starts reading. `onLost` runs after
  /// connectionLost (the connector uses it for clientConnectionLost).
  void start(std::shared_ptr<Protocol> protocol, std::function<void(const Failure&)> onLost = {});
  /// Close a handle that never got a protocol (refused, or failed to connect).
  void closeWithoutProtocol();

  // ITransport
  void write(ByteView data) override;
  void writeSequence(std::span<const ByteView> pieces) override;
  void loseConnection() override;
  void abortConnection() override;
  Address getPeer() const override { return peer_; }
  Address getHost() const override { return host_; }
  bool connected() const override { return connected_; }
  bool disconnecting() const override { return disconnecting_; }
  std::size_t bufferedAmount() const override { return pending_.size() + inflight_.size(); }
  void setWriteHighWaterMark(std::size_t bytes) override { highWater_ = bytes; }
  void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) override;
  void unregisterProducer() override;
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override { loseConnection(); }
  // ITCPTransport
  void setTcpNoDelay(bool enabled) override;
  bool getTcpNoDelay() const override { return noDelay_; }
  void setTcpKeepAlive(bool enabled) override;
  bool getTcpKeepAlive() const override { return keepAlive_; }
  // ManagedConnection
  void shutdownGracefully() override;
  void abortNow() override { abortConnection(); }

 private:
  explicit TcpTransport(ReactorImpl& reactor);
  static void onUvAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void onUvRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onUvWrite(uv_write_t* req, int status);
  static void onUvShutdown(uv_shutdown_t* req, int status);
  static void onUvClose(uv_handle_t* handle);

  void closeWithReason(const Failure& reason, bool reset = false);
  void startReading();
  void stopReading();
  void flushPending();
  void afterDrain();
  /// Nothing left to send and no producer holding the close back.
  bool readyToShutdown() const;
  /// When readyToShutdown(), schedules startShutdown() for a later pass.
  void maybeFinishDisconnect();
  void startShutdown();
  void checkHighWater();
  void userError(std::exception_ptr error, const char* where);

  ReactorImpl& reactor_;
  uv_tcp_t handle_{};
  uv_write_t writeReq_{};
  uv_shutdown_t shutdownReq_{};
  std::shared_ptr<TcpTransport> self_;
  std::shared_ptr<Protocol> protocol_;
  std::function<void(const Failure&)> onLost_;
  Address peer_;
  Address host_;
  // Two buffers that keep their capacity: writes land in pending_ while inflight_ is with libuv.
  std::vector<std::uint8_t> pending_;
  std::vector<std::uint8_t> inflight_;
  std::shared_ptr<IProducer> producer_;
  std::size_t highWater_ = 64 * 1024;
  Failure reason_;
  bool started_ = false;
  bool connected_ = false;
  bool disconnecting_ = false;
  bool closing_ = false;
  bool reading_ = false;
  bool readPaused_ = false;
  bool writing_ = false;
  bool shutdownScheduled_ = false;
  bool shutdownStarted_ = false;
  bool lostDelivered_ = false;
  bool streaming_ = false;
  bool producerPaused_ = false;
  bool noDelay_ = false;
  bool keepAlive_ = false;
};

}  // namespace reactor::detail
