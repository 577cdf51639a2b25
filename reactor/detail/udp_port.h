// Port of twisted.internet.udp.Port on a uv_udp_t: one socket, one DatagramProtocol, unconnected.
// Tests: tests/reactor/udp_test.cc
#pragma once

#include <uv.h>

#include <memory>
#include <string_view>

#include "reactor/datagram_protocol.h"
#include "reactor/detail/reactor_impl.h"
#include "reactor/interfaces.h"

namespace reactor::detail {

class UdpPort final : public IUDPTransport,
                      public IListeningPort,
                      public ManagedPort,
                      public std::enable_shared_from_this<UdpPort> {
 public:
  /// Binds `interface`:`port` (IPv4, or IPv6 for an IPv6 literal), connects `protocol` and starts
  /// receiving. Throws CannotListenError, or std::invalid_argument for a null protocol.
  static std::shared_ptr<UdpPort> listen(ReactorImpl& reactor, std::uint16_t port,
                                         std::shared_ptr<DatagramProtocol> protocol, std::string_view interface,
                                         std::size_t maxPacketSize);
  ~UdpPort() override;

  // IUDPTransport
  void write(ByteView datagram, const Address& addr) override;
  void writeSequence(std::span<const ByteView> pieces, const Address& addr) override;
  Address getHost() const override { return host_; }
  void stopListening() override;
  void setBroadcastAllowed(bool enabled) override;
  bool getBroadcastAllowed() const override { return broadcast_; }
  std::size_t maxPacketSize() const override { return maxPacketSize_; }
  std::size_t queuedDatagrams() const override { return queued_; }

 private:
  struct SendRequest;
  UdpPort(ReactorImpl& reactor, std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize);
  static void onUvAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void onUvRecv(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const struct sockaddr* addr,
                       unsigned flags);
  static void onUvSend(uv_udp_send_t* req, int status);
  static void onUvClose(uv_handle_t* handle);
  /// Sends `bufs` to `addr`, queueing a copy when the kernel cannot take it now.
  void send(const uv_buf_t* bufs, unsigned count, std::size_t total, const Address& addr);
  /// Throws the Twisted error for `rc` (MessageLengthError, InvalidAddressError), or logs it.
  void reportSendError(int rc, const Address& addr);

  ReactorImpl& reactor_;
  std::shared_ptr<DatagramProtocol> protocol_;
  std::size_t maxPacketSize_;
  uv_udp_t handle_{};
  std::shared_ptr<UdpPort> self_;
  Address host_;
  std::size_t queued_ = 0;
  bool listening_ = false;
  bool broadcast_ = false;
};

}  // namespace reactor::detail
