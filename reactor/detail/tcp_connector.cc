// Port of twisted.internet.tcp.Connector: connectTCP with a timeout, reported to a ClientFactory.
#include <uv.h>

#include <cstring>

#include "reactor/detail/reactor_impl.h"
#include "reactor/detail/tcp_transport.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

namespace reactor::detail {
namespace {

class TcpConnector final : public IConnector, public std::enable_shared_from_this<TcpConnector> {
 public:
  TcpConnector(ReactorImpl& reactor, std::string host, std::uint16_t port, std::shared_ptr<ClientFactory> factory,
               double timeout)
      : reactor_(reactor), host_(std::move(host)), port_(port), factory_(std::move(factory)), timeout_(timeout) {
    destination_.type = Address::Type::TCP;
    destination_.host = host_;
    destination_.port = port_;
    destination_.ipv6 = host_.find(':') != std::string::npos;
  }

  void connect() override {
    if (state_ != State::Disconnected) throw std::logic_error("connect: already connecting or connected");
    state_ = State::Connecting;
    self_ = shared_from_this();  // until the attempt ends
    if (!factoryStarted_) {
      factoryStarted_ = true;
      factory_->doStart();
    }
    factory_->startedConnecting(*this);
    if (state_ != State::Connecting) return;  // stopConnecting from startedConnecting
    if (timeout_ > 0) {
      std::weak_ptr<TcpConnector> weak = shared_from_this();
      timeoutCall_ = reactor_.owner().callLater(timeout_, [weak] {
        if (auto c = weak.lock()) c->abandon(Failure(FailureType::TimeoutError, UV_ETIMEDOUT, "connect timed out"));
      });
    }
    sockaddr_storage addr{};
    if (parseIp(host_, port_, addr) == 0) {
      connectTo(reinterpret_cast<sockaddr*>(&addr));
      return;
    }
    resolving_ = true;
    resolveReq_.data = this;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = uv_getaddrinfo(reactor_.loop(), &resolveReq_, onUvResolved, host_.c_str(),
                            std::to_string(port_).c_str(), &hints);
    if (rc != 0) {
      resolving_ = false;
      fail(Failure(FailureType::DNSLookupError, rc, "cannot resolve " + host_));
    }
  }

  void stopConnecting() override {
    if (state_ != State::Connecting) throw std::logic_error("stopConnecting: not connecting");
    abandon(Failure(FailureType::UserError, UV_ECANCELED, "user aborted the connection attempt"));
  }

  void disconnect() override {
    if (state_ == State::Connecting) {
      stopConnecting();
    } else if (state_ == State::Connected && transport_) {
      transport_->loseConnection();
    }
  }

  Address getDestination() const override { return destination_; }

 private:
  enum class State { Disconnected, Connecting, Connected };

  static void onUvResolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    auto* self = static_cast<TcpConnector*>(req->data);
    self->resolving_ = false;
    if (self->state_ != State::Connecting) {
      uv_freeaddrinfo(res);
      self->releaseIfIdle();
      return;
    }
    if (status != 0 || !res) {
      uv_freeaddrinfo(res);
      self->fail(Failure(FailureType::DNSLookupError, status, "cannot resolve " + self->host_));
      return;
    }
    self->connectTo(res->ai_addr);
    uv_freeaddrinfo(res);
  }

  void connectTo(const sockaddr* addr) {
    transport_ = TcpTransport::create(reactor_);
    connectReq_.data = this;
    int rc = uv_tcp_connect(&connectReq_, transport_->handle(), addr, onUvConnect);
    if (rc != 0) {
      transport_->closeWithoutProtocol();
      transport_.reset();
      fail(Failure(rc == UV_ECONNREFUSED ? FailureType::ConnectionRefused : FailureType::Other, rc));
      return;
    }
    connecting_ = true;
  }

  static void onUvConnect(uv_connect_t* req, int status) {
    auto* self = static_cast<TcpConnector*>(req->data);
    self->connecting_ = false;
    auto guard = self->shared_from_this();
    if (self->state_ != State::Connecting) {  // abandoned: the transport is closing already
      self->releaseIfIdle();
      return;
    }
    if (status != 0) {
      self->transport_->closeWithoutProtocol();
      self->transport_.reset();
      self->fail(Failure(status == UV_ECONNREFUSED ? FailureType::ConnectionRefused : FailureType::Other, status));
      return;
    }
    self->connected();
  }

  void connected() {
    if (timeoutCall_.active()) timeoutCall_.cancel();
    sockaddr_storage ss{};
    int len = sizeof ss;
    Address peer = destination_;
    if (uv_tcp_getpeername(transport_->handle(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      peer = toAddress(reinterpret_cast<sockaddr*>(&ss), Address::Type::TCP);
    }
    std::shared_ptr<Protocol> protocol;
    try {
      protocol = factory_->buildProtocol(peer);
    } catch (...) {
      log::error("buildProtocol for ", peer.toString(), " threw");
    }
    if (!protocol) {
      transport_->closeWithoutProtocol();
      transport_.reset();
      fail(Failure(FailureType::UserError, 0, "buildProtocol returned no protocol"));
      return;
    }
    state_ = State::Connected;
    auto self = shared_from_this();
    self_.reset();  // from here the transport's close callback keeps us alive
    transport_->start(std::move(protocol), [self](const Failure& reason) { self->lost(reason); });
  }

  void lost(const Failure& reason) {
    state_ = State::Disconnected;
    transport_.reset();
    factory_->clientConnectionLost(*this, reason);
  }

  // Give up on an attempt in progress (timeout or stopConnecting).
  void abandon(const Failure& reason) {
    if (state_ != State::Connecting) return;
    if (transport_) {
      transport_->closeWithoutProtocol();  // libuv then calls onUvConnect with UV_ECANCELED
      transport_.reset();
    }
    fail(reason);
  }

  void fail(const Failure& reason) {
    if (timeoutCall_.active()) timeoutCall_.cancel();
    state_ = State::Disconnected;
    auto guard = shared_from_this();
    detail::callSafely("clientConnectionFailed", [&] { factory_->clientConnectionFailed(*this, reason); });
    releaseIfIdle();
  }

  void releaseIfIdle() {
    // Keep ourselves alive while libuv still holds a request pointing at us.
    if (state_ == State::Disconnected && !resolving_ && !connecting_) self_.reset();
  }

  ReactorImpl& reactor_;
  std::string host_;
  std::uint16_t port_;
  std::shared_ptr<ClientFactory> factory_;
  double timeout_;
  Address destination_;
  State state_ = State::Disconnected;
  bool factoryStarted_ = false;
  bool resolving_ = false;
  bool connecting_ = false;
  std::shared_ptr<TcpConnector> self_;
  std::shared_ptr<TcpTransport> transport_;
  DelayedCall timeoutCall_;
  uv_getaddrinfo_t resolveReq_{};
  uv_connect_t connectReq_{};
};

}  // namespace
}  // namespace reactor::detail

namespace reactor {

std::shared_ptr<IConnector> Reactor::connectTCP(std::string_view host, std::uint16_t port,
                                                std::shared_ptr<ClientFactory> factory, double timeout) {
  if (!factory) throw std::invalid_argument("connectTCP: null factory");
  auto c = std::make_shared<detail::TcpConnector>(impl(), std::string(host), port, std::move(factory), timeout);
  c->connect();
  return c;
}

}  // namespace reactor
