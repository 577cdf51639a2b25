// connectTLS: Twisted's connectSSL as a wrapping ClientFactory over connectTCP. A handshake that
// fails is reported to the user's factory as clientConnectionFailed, not as a lost connection.
#include <memory>

#include "reactor/detail/tls_connection.h"
#include "reactor/reactor.h"
#include "reactor/tls.h"

namespace reactor::detail {
namespace {

class TlsClientFactory final : public ClientFactory {
 public:
  TlsClientFactory(Reactor& reactor, std::shared_ptr<TlsContext> context, std::shared_ptr<ClientFactory> userFactory)
      : reactor_(reactor), context_(std::move(context)), userFactory_(std::move(userFactory)) {}

  std::shared_ptr<Protocol> buildProtocol(const Address& addr) override {
    (void)addr;
    handshakeSucceeded_ = false;
    std::weak_ptr<Factory> weak = weak_from_this();
    connection_ = std::make_shared<TlsConnection>(reactor_, context_->current(), userFactory_, [weak](bool ok) {
      if (auto self = weak.lock()) static_cast<TlsClientFactory&>(*self).handshakeSucceeded_ = ok;
    });
    return connection_;
  }

  void startedConnecting(IConnector& connector) override { userFactory_->startedConnecting(connector); }
  void clientConnectionFailed(IConnector& connector, const Failure& reason) override {
    userFactory_->clientConnectionFailed(connector, reason);
  }
  void clientConnectionLost(IConnector& connector, const Failure& reason) override {
    std::shared_ptr<TlsConnection> connection = std::move(connection_);
    Failure why = connection ? connection->finalReason() : reason;
    if (handshakeSucceeded_) {
      userFactory_->clientConnectionLost(connector, why);
    } else {
      userFactory_->clientConnectionFailed(connector, why);
    }
  }
  void startFactory() override { userFactory_->doStart(); }
  void stopFactory() override { userFactory_->doStop(); }

 private:
  Reactor& reactor_;
  std::shared_ptr<TlsContext> context_;
  std::shared_ptr<ClientFactory> userFactory_;
  std::shared_ptr<TlsConnection> connection_;
  bool handshakeSucceeded_ = false;
};

}  // namespace
}  // namespace reactor::detail

namespace reactor {

std::shared_ptr<IConnector> connectTLS(Reactor& reactor, std::string_view host, std::uint16_t port,
                                       std::shared_ptr<ClientFactory> factory, std::shared_ptr<TlsContext> context,
                                       double timeout, std::string_view bindAddress) {
  if (!factory) throw std::invalid_argument("connectTLS: null factory");
  if (!context || context->side() != TlsSide::Client) throw std::invalid_argument("connectTLS: needs a client TLS context");
  auto wrapping = std::make_shared<detail::TlsClientFactory>(reactor, std::move(context), std::move(factory));
  return reactor.connectTCP(host, port, std::move(wrapping), timeout, bindAddress);
}

std::shared_ptr<IConnector> connectTLS(Reactor& reactor, std::string_view host, std::uint16_t port,
                                       std::shared_ptr<ClientFactory> factory, const TlsOptions& options,
                                       double timeout, std::string_view bindAddress) {
  return connectTLS(reactor, host, port, std::move(factory), TlsContext::create(TlsSide::Client, options), timeout,
                    bindAddress);
}

}  // namespace reactor
