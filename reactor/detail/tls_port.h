// listenTLS: a TCP listening port whose factory wraps every connection in a TlsConnection (Twisted's
// TLSMemoryBIOFactory), with the cap on handshakes in progress and the handshake counters.
// Internal to reactor/. Tests: tests/reactor/tls_test.cc
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "reactor/protocol.h"
#include "reactor/tls.h"

namespace reactor::detail {

/// Shared by a port, its factory and its connections (a connection may outlive its port).
struct TlsHandshakeStats {
  std::size_t inProgress = 0;
  std::size_t completed = 0;
  std::size_t failed = 0;
  std::size_t refused = 0;
  double lastRefusalLog = -1e9;
};

class TlsPort final : public ITLSListeningPort {
 public:
  /// Listens on TCP; throws CannotListenError.
  static std::shared_ptr<TlsPort> listen(Reactor& reactor, std::uint16_t port, std::shared_ptr<Factory> factory,
                                         std::shared_ptr<TlsContext> context, int backlog, std::string_view interface);
  void stopListening() override;
  Address getHost() const override;
  void reload() override;
  void reload(const TlsOptions& options) override;
  TlsContext& context() override { return *context_; }
  std::size_t handshakesInProgress() const override { return stats_->inProgress; }
  std::size_t handshakesCompleted() const override { return stats_->completed; }
  std::size_t handshakesFailed() const override { return stats_->failed; }
  std::size_t connectionsRefused() const override { return stats_->refused; }

 private:
  TlsPort() = default;
  std::shared_ptr<TlsContext> context_;
  std::shared_ptr<TlsHandshakeStats> stats_;
  std::shared_ptr<IListeningPort> tcpPort_;
};

}  // namespace reactor::detail
