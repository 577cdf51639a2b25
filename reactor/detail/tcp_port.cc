// Port of twisted.internet.tcp.Port on uv_tcp_t: bind, listen, accept, buildProtocol.
#include "reactor/detail/tcp_port.h"

#include "reactor/detail/tcp_transport.h"
#include "reactor/failure.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

namespace reactor::detail {

TcpPort::TcpPort(ReactorImpl& reactor, std::shared_ptr<Factory> factory)
    : reactor_(reactor), factory_(std::move(factory)) {}

std::shared_ptr<TcpPort> TcpPort::listen(ReactorImpl& reactor, std::uint16_t port, std::shared_ptr<Factory> factory,
                                         int backlog, std::string_view interface) {
  if (!factory) throw std::invalid_argument("listenTCP: null factory");
  sockaddr_storage addr{};
  int rc = parseIp(interface, port, addr);
  if (rc != 0) throw CannotListenError(std::string(interface), port, rc);
  std::shared_ptr<TcpPort> p(new TcpPort(reactor, std::move(factory)));
  uv_tcp_init(reactor.loop(), &p->handle_);
  p->handle_.data = p.get();
  p->self_ = p;  // until onUvClose
  rc = uv_tcp_bind(&p->handle_, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&p->handle_), backlog, onUvConnection);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&p->handle_), onUvClose);
    throw CannotListenError(std::string(interface), port, rc);
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&p->handle_, reinterpret_cast<sockaddr*>(&bound), &len);
  p->host_ = toAddress(reinterpret_cast<sockaddr*>(&bound), Address::Type::TCP);
  p->listening_ = true;
  reactor.addPort(p.get());
  p->factory_->doStart();
  return p;
}

void TcpPort::onUvConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<TcpPort*>(server->data);
  if (status < 0) {
    log::warning("accept on ", self->host_.toString(), " failed: ", uv_strerror(status));
    return;
  }
  self->accept();
}

void TcpPort::accept() {
  auto transport = TcpTransport::create(reactor_);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&handle_), transport->stream()) != 0) {
    transport->closeWithoutProtocol();
    return;
  }
  std::shared_ptr<Protocol> protocol = buildProtocolFor(*factory_, tcpAddress(transport->handle(), false));
  if (!protocol) {
    transport->closeWithoutProtocol();  // refused (Twisted closes the socket)
    return;
  }
  transport->start(std::move(protocol));
}

void TcpPort::stopListening() {
  if (!listening_) return;
  listening_ = false;
  reactor_.removePort(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), onUvClose);
  callSafely("stopFactory", [this] { factory_->doStop(); });
}

void TcpPort::onUvClose(uv_handle_t* handle) {
  auto* raw = static_cast<TcpPort*>(handle->data);
  std::shared_ptr<TcpPort> guard = std::move(raw->self_);
}

}  // namespace reactor::detail

namespace reactor {

std::shared_ptr<IListeningPort> Reactor::listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory, int backlog,
                                                   std::string_view interface) {
  return detail::TcpPort::listen(impl(), port, std::move(factory), backlog, interface);
}

}  // namespace reactor
