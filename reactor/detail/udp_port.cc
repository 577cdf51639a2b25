// Port of twisted.internet.udp.Port on libuv: try-send first (no copy, no allocation), a copied
// uv_udp_send only when the kernel pushes back; the shared read buffer for every datagram.
#include "reactor/detail/udp_port.h"

#include <cstring>
#include <vector>

#include "reactor/failure.h"
#include "reactor/log.h"

namespace reactor::detail {

/// A datagram the kernel could not take at once: owns its bytes until libuv is done with them.
struct UdpPort::SendRequest {
  uv_udp_send_t req{};
  std::shared_ptr<UdpPort> port;  // keeps the port (and its handle) alive until the callback
  std::vector<std::uint8_t> bytes;
};

UdpPort::UdpPort(ReactorImpl& reactor, std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize)
    : reactor_(reactor), protocol_(std::move(protocol)), maxPacketSize_(maxPacketSize) {}

UdpPort::~UdpPort() = default;

std::shared_ptr<UdpPort> UdpPort::listen(ReactorImpl& reactor, std::uint16_t port,
                                         std::shared_ptr<DatagramProtocol> protocol, std::string_view interface,
                                         std::size_t maxPacketSize) {
  if (!protocol) throw std::invalid_argument("listenUDP: null protocol");
  if (maxPacketSize == 0) throw std::invalid_argument("listenUDP: maxPacketSize must be at least 1");
  if (protocol->hasTransport()) {
    throw std::logic_error("listenUDP: the protocol already listens on a port (one port at a time)");
  }
  sockaddr_storage addr{};
  int rc = parseIp(interface, port, addr);
  if (rc != 0) throw CannotListenError(std::string(interface), port, rc);
  std::shared_ptr<UdpPort> p(new UdpPort(reactor, std::move(protocol), maxPacketSize));
  uv_udp_init(reactor.loop(), &p->handle_);
  p->handle_.data = p.get();
  p->self_ = p;  // until onUvClose
  rc = uv_udp_bind(&p->handle_, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_udp_recv_start(&p->handle_, onUvAlloc, onUvRecv);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&p->handle_), onUvClose);
    throw CannotListenError(std::string(interface), port, rc);
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_udp_getsockname(&p->handle_, reinterpret_cast<sockaddr*>(&bound), &len);
  p->host_ = toAddress(reinterpret_cast<sockaddr*>(&bound), Address::Type::UDP);
  p->listening_ = true;
  reactor.addPort(p.get());
  try {
    p->protocol_->makeConnection(p.get());
  } catch (...) {
    p->stopListening();
    throw;
  }
  return p;
}

// --- receiving ----------------------------------------------------------------------------------

void UdpPort::onUvAlloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* self = static_cast<UdpPort*>(handle->data);
  buf->base = self->reactor_.readBuffer();
  buf->len = ReactorImpl::kReadBufferSize;
}

void UdpPort::onUvRecv(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const struct sockaddr* addr,
                       unsigned flags) {
  auto* self = static_cast<UdpPort*>(handle->data);
  if (nread == UV_ECONNREFUSED && self->peer_.type != Address::Type::None) {
    self->refused();
    return;
  }
  if (nread < 0) {
    // An ICMP error for an earlier datagram, or similar: the port carries on (Twisted ignores it too).
    log::debug("udp ", self->host_.toString(), ": receive error: ", uv_strerror(static_cast<int>(nread)));
    return;
  }
  if (addr == nullptr) return;  // "nothing more to read", not an empty datagram (libuv udp.rst)
  if (!self->listening_) return;
  auto size = static_cast<std::size_t>(nread);
  if (size > self->maxPacketSize_ || (flags & UV_UDP_PARTIAL) != 0) {
    log::debug("udp ", self->host_.toString(), ": datagram truncated to ", self->maxPacketSize_, " bytes");
    if (size > self->maxPacketSize_) size = self->maxPacketSize_;
  }
  Address from = toAddress(addr, Address::Type::UDP);
  // Keep the protocol alive even if it stops listening from inside datagramReceived.
  std::shared_ptr<DatagramProtocol> protocol = self->protocol_;
  try {
    protocol->datagramReceived(ByteView(reinterpret_cast<const std::uint8_t*>(buf->base), size), from);
  } catch (const std::exception& e) {
    log::error("exception in datagramReceived (", protocol->logPrefix(), ", from ", from.toString(),
               "): ", e.what(), "; the port stays open");
  } catch (...) {
    log::error("non-standard exception in datagramReceived (", protocol->logPrefix(), ", from ",
               from.toString(), "); the port stays open");
  }
}

// --- sending ------------------------------------------------------------------------------------

void UdpPort::write(ByteView datagram, const Address& addr) {
  ByteView one[1] = {datagram};
  writeSequence(one, addr);
}

void UdpPort::writeSequence(std::span<const ByteView> pieces, const Address& addr) {
  if (!listening_) return;
  constexpr std::size_t kMaxPieces = 16;
  if (pieces.size() > kMaxPieces) {
    std::vector<std::uint8_t> joined;
    for (const auto& p : pieces) joined.insert(joined.end(), p.begin(), p.end());
    write(ByteView(joined), addr);
    return;
  }
  uv_buf_t bufs[kMaxPieces];
  std::size_t total = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    bufs[i] = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(pieces[i].data())),
                          static_cast<unsigned>(pieces[i].size()));
    total += pieces[i].size();
  }
  send(bufs, static_cast<unsigned>(pieces.size()), total, addr);
}

void UdpPort::send(const uv_buf_t* bufs, unsigned count, std::size_t total, const Address& addr) {
  sockaddr_storage to{};
  const bool connected = peer_.type != Address::Type::None;
  if (connected) {
    // A connected socket takes no destination (libuv: EISCONN); one given must be the peer.
    if (!addr.host.empty() && (addr.host != peer_.host || addr.port != peer_.port)) {
      throw InvalidAddressError("udp write to " + addr.toString() + ": the port is connected to " + peer_.toString());
    }
  } else if (addr.host.empty() && addr.type == Address::Type::None) {
    throw std::logic_error("udp write without an address: the port is not connected (call connect first)");
  } else if (addr.host.empty() || parseIp(addr.host, addr.port, to) != 0) {
    throw InvalidAddressError("udp write: '" + addr.host + "' is not an IP literal");
  }
  if (total > 65507) {
    throw MessageLengthError("udp write: a datagram of " + std::to_string(total) + " bytes is too long");
  }
  const auto* sa = connected ? nullptr : reinterpret_cast<const sockaddr*>(&to);
  int rc = queued_ == 0 ? uv_udp_try_send(&handle_, bufs, count, sa) : UV_EAGAIN;
  if (rc >= 0) return;
  if (rc != UV_EAGAIN) {
    reportSendError(rc, addr);
    return;
  }
  // The kernel pushed back (or earlier datagrams are waiting): copy, and keep the order.
  auto* req = new SendRequest;
  req->port = shared_from_this();
  req->bytes.reserve(total);
  for (unsigned i = 0; i < count; ++i) {
    req->bytes.insert(req->bytes.end(), bufs[i].base, bufs[i].base + bufs[i].len);
  }
  req->req.data = req;
  uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(req->bytes.data()), static_cast<unsigned>(req->bytes.size()));
  rc = uv_udp_send(&req->req, &handle_, &b, 1, sa, onUvSend);
  if (rc != 0) {
    delete req;
    reportSendError(rc, addr);
    return;
  }
  ++queued_;
}

void UdpPort::onUvSend(uv_udp_send_t* req, int status) {
  std::unique_ptr<SendRequest> owned(static_cast<SendRequest*>(req->data));
  UdpPort& self = *owned->port;
  --self.queued_;
  if (status == UV_ECONNREFUSED && self.listening_ && self.peer_.type != Address::Type::None) {
    self.refused();
  } else if (status < 0 && status != UV_ECANCELED && status != UV_ECONNREFUSED) {
    log::warning("udp ", self.host_.toString(), ": a queued datagram was not sent: ", uv_strerror(status));
  }
}

void UdpPort::reportSendError(int rc, const Address& addr) {
  switch (rc) {
    case UV_EMSGSIZE:
      throw MessageLengthError("udp write to " + addr.toString() + ": message too long");
    case UV_EINVAL:
    case UV_EAFNOSUPPORT:
      throw InvalidAddressError("udp write to " + addr.toString() + ": " + uv_strerror(rc) +
                                " (wrong address family for " + host_.toString() + "?)");
    case UV_ECONNREFUSED:
      // An ICMP for an earlier datagram: unconnected UDP ignores it, connected UDP reports it (Twisted too).
      if (peer_.type != Address::Type::None) refused();
      return;
    default:
      log::warning("udp write to ", addr.toString(), " failed: ", uv_strerror(rc), "; datagram dropped");
  }
}

void UdpPort::setBroadcastAllowed(bool enabled) {
  if (!listening_) return;
  if (uv_udp_set_broadcast(&handle_, enabled ? 1 : 0) == 0) broadcast_ = enabled;
}

// --- connected mode and multicast ---------------------------------------------------------------

void UdpPort::connect(const std::string& host, std::uint16_t port) {
  if (!listening_) throw std::logic_error("udp connect: the port is not listening");
  if (peer_.type != Address::Type::None) {
    throw std::logic_error("udp connect: already connected to " + peer_.toString() + " (once per port)");
  }
  sockaddr_storage to{};
  if (host.empty() || parseIp(host, port, to) != 0) {
    throw InvalidAddressError("udp connect: '" + host + "' is not an IP literal");
  }
  int rc = uv_udp_connect(&handle_, reinterpret_cast<const sockaddr*>(&to));
  if (rc != 0) {
    throw InvalidAddressError("udp connect to " + host + ":" + std::to_string(port) + ": " + uv_strerror(rc));
  }
  peer_ = toAddress(reinterpret_cast<const sockaddr*>(&to), Address::Type::UDP);
}

void UdpPort::refused() {
  std::shared_ptr<DatagramProtocol> protocol = protocol_;
  if (!protocol) return;
  callSafely("connectionRefused", [&] { protocol->connectionRefused(); });
}

void UdpPort::membership(const std::string& address, const std::string& interface, bool join) {
  if (!listening_) throw std::logic_error("udp multicast: the port is not listening");
  int rc = uv_udp_set_membership(&handle_, address.c_str(), interface.empty() ? nullptr : interface.c_str(),
                                 join ? UV_JOIN_GROUP : UV_LEAVE_GROUP);
  if (rc != 0) {
    throw std::runtime_error(std::string(join ? "joinGroup " : "leaveGroup ") + address + " on " +
                             (interface.empty() ? std::string("the default interface") : interface) + ": " +
                             uv_strerror(rc) + " (" + uv_err_name(rc) + ")");
  }
}

void UdpPort::joinGroup(const std::string& address, const std::string& interface) {
  membership(address, interface, true);
}

void UdpPort::leaveGroup(const std::string& address, const std::string& interface) {
  membership(address, interface, false);
}

void UdpPort::setLoopbackMode(bool enabled) {
  if (!listening_) return;
  int rc = uv_udp_set_multicast_loop(&handle_, enabled ? 1 : 0);
  if (rc != 0) throw std::runtime_error(std::string("setLoopbackMode: ") + uv_strerror(rc));
  loopback_ = enabled;
}

void UdpPort::setTTL(int ttl) {
  if (!listening_) return;
  int rc = uv_udp_set_multicast_ttl(&handle_, ttl);
  if (rc != 0) throw std::runtime_error("setTTL(" + std::to_string(ttl) + "): " + uv_strerror(rc));
  ttl_ = ttl;
}

void UdpPort::setOutgoingInterface(const std::string& interface) {
  if (!listening_) return;
  int rc = uv_udp_set_multicast_interface(&handle_, interface.empty() ? nullptr : interface.c_str());
  if (rc != 0) throw std::runtime_error("setOutgoingInterface(" + interface + "): " + uv_strerror(rc));
}

// --- closing ------------------------------------------------------------------------------------

void UdpPort::stopListening() {
  if (!listening_) return;
  listening_ = false;
  reactor_.removePort(this);
  uv_udp_recv_stop(&handle_);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), onUvClose);
  std::shared_ptr<DatagramProtocol> protocol = protocol_;
  callSafely("stopProtocol", [&] { protocol->doStop(); });
}

void UdpPort::onUvClose(uv_handle_t* handle) {
  auto* raw = static_cast<UdpPort*>(handle->data);
  std::shared_ptr<UdpPort> guard = std::move(raw->self_);
  raw->protocol_.reset();  // the port no longer needs it; breaks a protocol ↔ port cycle
}

}  // namespace reactor::detail
