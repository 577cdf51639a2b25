// listenTLS: Twisted's TLSMemoryBIOFactory over listenTCP, plus the cap on handshakes in progress
// (a connection accepted beyond it is closed at once) and certificate reload.
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
                   std::shared_ptr<TlsHandshakeStats> stats)
      : reactor_(reactor),
        userFactory_(std::move(userFactory)),
        context_(std::move(context)),
        stats_(std::move(stats)) {}

  std::shared_ptr<Protocol> buildProtocol(const Address& addr) override {
    std::shared_ptr<TlsConfig> config = context_->current();
    std::size_t max = config->options().maxHandshakes;
    if (max > 0 && stats_->inProgress >= max) {
      ++stats_->refused;
      double now = reactor_.seconds();
      if (now - stats_->lastRefusalLog >= 1.0) {  // one line a second under a flood
        stats_->lastRefusalLog = now;
        log::warning("refusing TLS connection from ", addr.toString(), ": ", stats_->inProgress,
                     " handshakes in progress (max_handshakes); ", stats_->refused, " refused so far");
      }
      return nullptr;
    }
    ++stats_->inProgress;
    std::shared_ptr<TlsHandshakeStats> stats = stats_;
    return std::make_shared<TlsConnection>(reactor_, std::move(config), userFactory_, [stats](bool succeeded) {
      --stats->inProgress;
      if (succeeded) {
        ++stats->completed;
      } else {
        ++stats->failed;
      }
    });
  }

  void startFactory() override { userFactory_->doStart(); }
  void stopFactory() override { userFactory_->doStop(); }

 private:
  Reactor& reactor_;
  std::shared_ptr<Factory> userFactory_;
  std::shared_ptr<TlsContext> context_;
  std::shared_ptr<TlsHandshakeStats> stats_;
};

}  // namespace

std::shared_ptr<TlsPort> TlsPort::listen(Reactor& reactor, std::uint16_t port, std::shared_ptr<Factory> factory,
                                         std::shared_ptr<TlsContext> context, int backlog, std::string_view interface) {
  if (!factory) throw std::invalid_argument("listenTLS: null factory");
  if (!context) throw std::invalid_argument("listenTLS: null TLS context");
  if (context->side() != TlsSide::Server) throw std::invalid_argument("listenTLS: a client TLS context");
  std::shared_ptr<TlsPort> p(new TlsPort());
  p->context_ = std::move(context);
  p->stats_ = std::make_shared<TlsHandshakeStats>();
  auto wrapping = std::make_shared<TlsServerFactory>(reactor, std::move(factory), p->context_, p->stats_);
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
