// Port of twisted.internet.udp.Port (and MulticastPort) on a uv_udp_t: one socket, one
// DatagramProtocol, unconnected or connect()ed, with the multicast options.
// Tests: tests/reactor/udp_test.cc, udp_connected_test.cc, multicast/udp_multicast_test.cc
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
  void connect(const std::string& host, std::uint16_t port) override;
  Address getPeer() const override { return peer_; }
  void joinGroup(const std::string& address, const std::string& interface) override;
  void leaveGroup(const std::string& address, const std::string& interface) override;
  void setLoopbackMode(bool enabled) override;
  bool getLoopbackMode() const override { return loopback_; }
  void setTTL(int ttl) override;
  int getTTL() const override { return ttl_; }
  void setOutgoingInterface(const std::string& interface) override;

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
  /// A connected port's peer refused a datagram: the protocol's connectionRefused().
  void refused();
  void membership(const std::string& address, const std::string& interface, bool join);

  ReactorImpl& reactor_;
  std::shared_ptr<DatagramProtocol> protocol_;
  std::size_t maxPacketSize_;
  uv_udp_t handle_{};
  std::shared_ptr<UdpPort> self_;
  Address host_;
  std::size_t queued_ = 0;
  bool listening_ = false;
  bool broadcast_ = false;
  Address peer_;  // Type::None until connect()
  bool loopback_ = true;
  int ttl_ = 1;
};

}  // namespace reactor::detail
