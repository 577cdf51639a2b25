// Port of twisted.internet.tcp.Connection on a libuv stream: buffered writes with try-write first,
// loseConnection/abortConnection, half-close (loseWriteConnection, IHalfCloseableProtocol) and one
// idempotent close path; producers and the connectionLost delivery come from StreamTransport
// (stream_transport.h). The same class carries UNIX-domain connections (a uv_pipe_t in the same
// slot), as Twisted's unix.Server is a tcp.Server: only the addresses and the TCP options differ.
// Tests: tests/reactor/tcp_transport_test.cc, unix_socket_test.cc, half_close_test.cc
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <vector>

#include "reactor/detail/stream_transport.h"

namespace reactor::detail {

class TcpTransport final : public StreamTransport<ITCPTransport>, public std::enable_shared_from_this<TcpTransport> {
 public:
  enum class Kind { TCP, UNIX };

  /// Initialises the handle; the transport keeps itself alive until the handle is closed.
  static std::shared_ptr<TcpTransport> create(ReactorImpl& reactor, Kind kind = Kind::TCP);
  ~TcpTransport() override;

  Kind kind() const { return kind_; }
  uv_tcp_t* handle() { return &handle_.tcp; }  ///< Kind::TCP only
  uv_pipe_t* pipe() { return &handle_.pipe; }  ///< Kind::UNIX only
  uv_stream_t* stream() { return &handle_.stream; }
  /// The peer's address as start() will cache it (for buildProtocol, before start()).
  Address peerAddress(Address fallback = {});

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
  void loseWriteConnection() override;
  std::size_t bufferedAmount() const override { return pending_.size() + inflight_.size(); }
  void pauseProducing() override;
  void resumeProducing() override;
  // ITCPTransport
  void setTcpNoDelay(bool enabled) override;
  bool getTcpNoDelay() const override { return noDelay_; }
  void setTcpKeepAlive(bool enabled) override;
  bool getTcpKeepAlive() const override { return keepAlive_; }
  // ManagedConnection
  void shutdownGracefully() override;

 protected:
  std::string describeOtherEnd() const override { return "peer " + peer_.toString(); }
  const char* connectionWord() const override { return "connection"; }
  bool acceptsProducer() const override { return connected_ && !closing_ && !shutdownStarted_; }
  /// When readyToShutdown(), schedules startShutdown() for a later pass.
  void maybeFinishDisconnect() override;
  void closeWithReason(const Failure& reason) override { closeWithReason(reason, false); }

 private:
  TcpTransport(ReactorImpl& reactor, Kind kind);
  static void onUvAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void onUvRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onUvWrite(uv_write_t* req, int status);
  static void onUvShutdown(uv_shutdown_t* req, int status);
  static void onUvClose(uv_handle_t* handle);

  void closeWithReason(const Failure& reason, bool reset);
  void startReading();
  void stopReading();
  void flushPending();
  /// Nothing left to send and no producer holding the close back.
  bool readyToShutdown() const;
  void startShutdown();
  /// The write side is shut (half-close done): tells an IHalfCloseableProtocol, closes when the
  /// read side is done too.
  void writeSideShut();
  /// EOF for a protocol that opted in to half-close.
  void readSideShut();

  // The one libuv handle, of the kind kind_ says; the stream view is what reading and writing use.
  union Handle {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_stream_t stream;
    uv_handle_t handle;
  };

  ReactorImpl& reactor_;
  Kind kind_;
  Handle handle_{};
  uv_write_t writeReq_{};
  uv_shutdown_t shutdownReq_{};
  std::shared_ptr<TcpTransport> self_;
  std::function<void(const Failure&)> onLost_;
  // Two buffers that keep their capacity: writes land in pending_ while inflight_ is with libuv.
  std::vector<std::uint8_t> pending_;
  std::vector<std::uint8_t> inflight_;
  bool reading_ = false;
  bool writing_ = false;
  bool shutdownScheduled_ = false;
  bool shutdownStarted_ = false;
  bool noDelay_ = false;
  bool keepAlive_ = false;
  IHalfCloseableProtocol* halfCloseable_ = nullptr;  // the protocol, when it opted in
  bool writeDisconnecting_ = false;  // loseWriteConnection called: shut the write side once drained
  bool writeShut_ = false;           // the half-close completed (writeConnectionLost delivered)
  bool readShut_ = false;            // EOF delivered as readConnectionLost
};

}  // namespace reactor::detail
