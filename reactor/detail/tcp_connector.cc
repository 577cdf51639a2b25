// Port of twisted.internet.tcp.Connector: connectTCP with a timeout, reported to a ClientFactory,
// and connectUNIX (twisted.internet.unix.Connector), the same state machine on a uv_pipe_t.
// Each attempt owns its libuv requests (a stale one, from an attempt abandoned by stopConnecting or
// the timeout, is recognised by its attempt number and ignored), so connect() may be called again
// from clientConnectionFailed/Lost at once. Failures are reported on a later pass, never from
// inside connect(), so a factory that reconnects on failure cannot recurse.
// Tests: tests/reactor/tcp_connector_test.cc
#include <uv.h>

#include <cstring>

#include "reactor/detail/reactor_impl.h"
#include "reactor/detail/tcp_transport.h"
#include "reactor/detail/unix_port.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

namespace reactor::detail {
namespace {

class TcpConnector final : public IConnector, public std::enable_shared_from_this<TcpConnector> {
 public:
  TcpConnector(ReactorImpl& reactor, std::string host, std::uint16_t port, std::shared_ptr<ClientFactory> factory,
               double timeout, std::string bindAddress)
      : reactor_(reactor),
        host_(std::move(host)),
        port_(port),
        factory_(std::move(factory)),
        timeout_(timeout),
        bindAddress_(std::move(bindAddress)) {
    destination_.type = Address::Type::TCP;
    destination_.host = host_;
    destination_.port = port_;
    destination_.ipv6 = host_.find(':') != std::string::npos;
  }
  /// connectUNIX: `path` is the socket file.
  TcpConnector(ReactorImpl& reactor, std::string path, std::shared_ptr<ClientFactory> factory, double timeout)
      : reactor_(reactor), host_(std::move(path)), port_(0), factory_(std::move(factory)), timeout_(timeout) {
    destination_ = Address{Address::Type::UNIX, host_, 0, false};
  }

  void connect() override {
    if (state_ != State::Disconnected) throw std::logic_error("connect: already connecting or connected");
    if (reactor_.destroying()) {
      log::debug("connect to ", destination_.toString(), " ignored: the reactor is being destroyed");
      return;
    }
    state_ = State::Connecting;
    const std::uint64_t attempt = ++attempt_;
    if (!factoryStarted_) {
      factoryStarted_ = true;
      factory_->doStart();
    }
    factory_->startedConnecting(*this);
    if (!current(attempt)) return;  // stopConnecting from startedConnecting
    if (timeout_ > 0) {
      std::weak_ptr<TcpConnector> weak = shared_from_this();
      timeoutCall_ = reactor_.owner().callLater(timeout_, [weak, attempt] {
        auto c = weak.lock();
        if (c && c->current(attempt)) c->abandon(Failure(FailureType::TimeoutError, UV_ETIMEDOUT, "connect timed out"));
      });
    }
    if (destination_.type == Address::Type::UNIX) {
      connectToPath(attempt);
      return;
    }
    sockaddr_storage addr{};
    if (parseIp(host_, port_, addr) == 0) {
      connectTo(reinterpret_cast<sockaddr*>(&addr), attempt);
      return;
    }
    auto* req = new ResolveRequest{{}, shared_from_this(), attempt};
    req->req.data = req;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = uv_getaddrinfo(reactor_.loop(), &req->req, onUvResolved, host_.c_str(), std::to_string(port_).c_str(),
                            &hints);
    if (rc != 0) {
      delete req;
      failSoon(Failure(FailureType::DNSLookupError, rc, "cannot resolve " + host_), attempt);
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

  // One per libuv request: keeps the connector alive until libuv is done with the request.
  struct ResolveRequest {
    uv_getaddrinfo_t req;
    std::shared_ptr<TcpConnector> connector;
    std::uint64_t attempt;
  };
  struct ConnectRequest {
    uv_connect_t req;
    std::shared_ptr<TcpConnector> connector;
    std::uint64_t attempt;
  };

  bool current(std::uint64_t attempt) const { return state_ == State::Connecting && attempt == attempt_; }

  static void onUvResolved(uv_getaddrinfo_t* raw, int status, addrinfo* res) {
    std::unique_ptr<ResolveRequest> req(static_cast<ResolveRequest*>(raw->data));
    TcpConnector& self = *req->connector;
    if (!self.current(req->attempt)) {  // abandoned meanwhile
      uv_freeaddrinfo(res);
      return;
    }
    if (status != 0 || !res) {
      uv_freeaddrinfo(res);
      self.fail(Failure(FailureType::DNSLookupError, status, "cannot resolve " + self.host_));
      return;
    }
    if (self.reactor_.destroying()) {
      uv_freeaddrinfo(res);
      self.fail(Failure(FailureType::UserError, UV_ECANCELED, "the reactor is being destroyed"));
      return;
    }
    self.connectTo(res->ai_addr, req->attempt);
    uv_freeaddrinfo(res);
  }

  void connectTo(const sockaddr* addr, std::uint64_t attempt) {
    transport_ = TcpTransport::create(reactor_);
    auto* req = new ConnectRequest{{}, shared_from_this(), attempt};
    req->req.data = req;
    int rc = bindLocal();
    if (rc == 0) rc = uv_tcp_connect(&req->req, transport_->handle(), addr, onUvConnect);
    if (rc != 0) {
      delete req;
      transport_->closeWithoutProtocol();
      transport_.reset();
      failSoon(Failure(rc == UV_ECONNREFUSED ? FailureType::ConnectionRefused : FailureType::Other, rc), attempt);
    }
  }

  void connectToPath(std::uint64_t attempt) {
    if (host_.empty() || host_.size() > maxUnixPathLength()) {
      failSoon(Failure(FailureType::Other, UV_ENAMETOOLONG,
                       "unix socket path '" + host_ + "' is empty or longer than " +
                           std::to_string(maxUnixPathLength()) + " bytes"),
               attempt);
      return;
    }
    transport_ = TcpTransport::create(reactor_, TcpTransport::Kind::UNIX);
    auto* req = new ConnectRequest{{}, shared_from_this(), attempt};
    req->req.data = req;
    uv_pipe_connect(&req->req, transport_->pipe(), host_.c_str(), onUvConnect);  // errors come to onUvConnect
  }

  /// Binds the socket to bindAddress_ (port 0) before the connect, when one was given.
  int bindLocal() {
    if (bindAddress_.empty()) return 0;
    sockaddr_storage local{};
    int rc = parseIp(bindAddress_, 0, local);
    return rc != 0 ? rc : uv_tcp_bind(transport_->handle(), reinterpret_cast<const sockaddr*>(&local), 0);
  }

  static void onUvConnect(uv_connect_t* raw, int status) {
    std::unique_ptr<ConnectRequest> req(static_cast<ConnectRequest*>(raw->data));
    TcpConnector& self = *req->connector;
    // Abandoned (stopConnecting, timeout): abandon() closed that transport already.
    if (!self.current(req->attempt)) return;
    if (status != 0) {
      self.transport_->closeWithoutProtocol();
      self.transport_.reset();
      // A UNIX socket file that is missing is Twisted's refused connection too (nobody listens there).
      const bool refused = status == UV_ECONNREFUSED || (status == UV_ENOENT && self.destination_.type == Address::Type::UNIX);
      self.fail(Failure(refused ? FailureType::ConnectionRefused : FailureType::Other, status));
      return;
    }
    self.connected();
  }

  void connected() {
    if (timeoutCall_.active()) timeoutCall_.cancel();
    std::shared_ptr<Protocol> protocol = buildProtocolFor(*factory_, transport_->peerAddress(destination_));
    if (!protocol) {
      transport_->closeWithoutProtocol();
      transport_.reset();
      fail(Failure(FailureType::UserError, 0, "buildProtocol returned no protocol"));
      return;
    }
    state_ = State::Connected;
    // From here the transport's close callback keeps us alive.
    auto self = shared_from_this();
    transport_->start(std::move(protocol), [self](const Failure& reason) { self->lost(reason); });
  }

  void lost(const Failure& reason) {
    state_ = State::Disconnected;
    transport_.reset();
    auto guard = shared_from_this();
    detail::callSafely("clientConnectionLost", [&] { factory_->clientConnectionLost(*this, reason); });
    stopFactoryIfIdle();
  }

  // Give up on an attempt in progress (timeout or stopConnecting). A request libuv still holds
  // reports back later with a stale attempt number and is ignored.
  void abandon(const Failure& reason) {
    if (state_ != State::Connecting) return;
    if (transport_) {
      transport_->closeWithoutProtocol();  // libuv then calls onUvConnect with UV_ECANCELED
      transport_.reset();
    }
    fail(reason);
  }

  // Report a failure found inside connect() on the next pass (Twisted does the same), unless the
  // attempt was abandoned meanwhile.
  void failSoon(const Failure& reason, std::uint64_t attempt) {
    // Keep the connector alive until then, as a pending libuv request would.
    auto keep = shared_from_this();
    reactor_.owner().callLater(0.0, [keep, reason, attempt] {
      if (keep->current(attempt)) keep->fail(reason);
    });
  }

  void fail(const Failure& reason) {
    if (timeoutCall_.active()) timeoutCall_.cancel();
    state_ = State::Disconnected;
    ++attempt_;  // whatever libuv still holds for this attempt is stale now
    auto guard = shared_from_this();
    detail::callSafely("clientConnectionFailed", [&] { factory_->clientConnectionFailed(*this, reason); });
    stopFactoryIfIdle();
  }

  // Twisted's Connector: the factory is stopped once an attempt ends without a reconnect.
  void stopFactoryIfIdle() {
    if (state_ != State::Disconnected || !factoryStarted_) return;
    factoryStarted_ = false;
    detail::callSafely("stopFactory", [&] { factory_->doStop(); });
  }

  ReactorImpl& reactor_;
  std::string host_;
  std::uint16_t port_;
  std::shared_ptr<ClientFactory> factory_;
  double timeout_;
  std::string bindAddress_;
  Address destination_;
  State state_ = State::Disconnected;
  std::uint64_t attempt_ = 0;
  bool factoryStarted_ = false;
  std::shared_ptr<TcpTransport> transport_;
  DelayedCall timeoutCall_;
};

}  // namespace
}  // namespace reactor::detail

namespace reactor {

std::shared_ptr<IConnector> Reactor::connectTCP(std::string_view host, std::uint16_t port,
                                                std::shared_ptr<ClientFactory> factory, double timeout,
                                                std::string_view bindAddress) {
  if (!factory) throw std::invalid_argument("connectTCP: null factory");
  auto c = std::make_shared<detail::TcpConnector>(impl(), std::string(host), port, std::move(factory), timeout,
                                                  std::string(bindAddress));
  c->connect();
  return c;
}

}  // namespace reactor

namespace reactor {

std::shared_ptr<IConnector> Reactor::connectUNIX(std::string_view address, std::shared_ptr<ClientFactory> factory,
                                                 double timeout) {
  if (!factory) throw std::invalid_argument("connectUNIX: null factory");
  auto c = std::make_shared<detail::TcpConnector>(impl(), std::string(address), std::move(factory), timeout);
  c->connect();
  return c;
}

}  // namespace reactor
