// listenTLS: Twisted's TLSMemoryBIOFactory over listenTCP, plus the caps on handshakes in progress
// (TlsHandshakeGate: a connection accepted beyond them is closed at once) and certificate reload.
#include "reactor/detail/tls_port.h"

#include "reactor/detail/tls_connection.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

namespace reactor::detail {
namespace {

/// Builds a TlsConnection per accepted TCP connection; the user's factory is asked for a protocol
/// only after the handshake. Starts and stops the user's factory with the port.
class TlsServerFactory final : public ServerFactory {
 public:
  TlsServerFactory(Reactor& reactor, std::shared_ptr<Factory> userFactory, std::shared_ptr<TlsContext> context,
                   std::shared_ptr<TlsHandshakeGate> gate)
      : reactor_(reactor),
        userFactory_(std::move(userFactory)),
        context_(std::move(context)),
        gate_(std::move(gate)) {}

  std::shared_ptr<Protocol> buildProtocol(const Address& addr) override {
    std::shared_ptr<TlsConfig> config = context_->current();
    if (!gate_->admit(addr, config->options(), reactor_.seconds())) return nullptr;
    std::shared_ptr<TlsHandshakeGate> gate = gate_;
    return std::make_shared<TlsConnection>(reactor_, std::move(config), userFactory_,
                                           [gate, addr](bool succeeded) { gate->finished(addr, succeeded); });
  }

  void startFactory() override { userFactory_->doStart(); }
  void stopFactory() override { userFactory_->doStop(); }

 private:
  Reactor& reactor_;
  std::shared_ptr<Factory> userFactory_;
  std::shared_ptr<TlsContext> context_;
  std::shared_ptr<TlsHandshakeGate> gate_;
};

}  // namespace

std::shared_ptr<TlsPort> TlsPort::listen(Reactor& reactor, std::uint16_t port, std::shared_ptr<Factory> factory,
                                         std::shared_ptr<TlsContext> context, int backlog, std::string_view interface) {
  if (!factory) throw std::invalid_argument("listenTLS: null factory");
  if (!context) throw std::invalid_argument("listenTLS: null TLS context");
  if (context->side() != TlsSide::Server) throw std::invalid_argument("listenTLS: a client TLS context");
  std::shared_ptr<TlsPort> p(new TlsPort());
  p->context_ = std::move(context);
  p->gate_ = std::make_shared<TlsHandshakeGate>();
  auto wrapping = std::make_shared<TlsServerFactory>(reactor, std::move(factory), p->context_, p->gate_);
  p->tcpPort_ = reactor.listenTCP(port, std::move(wrapping), backlog, interface);
  return p;
}

void TlsPort::stopListening() { tcpPort_->stopListening(); }

Address TlsPort::getHost() const { return tcpPort_->getHost(); }

void TlsPort::reload() {
  context_->reload();
  log::info("TLS on ", getHost().toString(), ": certificates reloaded (generation ", context_->generation(), ")");
}

void TlsPort::reload(const TlsOptions& options) {
  context_->reload(options);
  log::info("TLS on ", getHost().toString(), ": configuration reloaded (generation ", context_->generation(), ")");
}

}  // namespace reactor::detail
