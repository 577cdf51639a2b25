// listenTLS: a TCP listening port whose factory wraps every connection in a TlsConnection (Twisted's
// TLSMemoryBIOFactory), with the caps on handshakes in progress (TlsHandshakeGate) and its counters.
// Internal to reactor/. Tests: tests/reactor/tls_handshake_test.cc, tls_flood_test.cc
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "reactor/detail/tls_handshake_gate.h"
#include "reactor/protocol.h"
#include "reactor/tls.h"

namespace reactor::detail {

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
  std::size_t handshakesInProgress() const override { return gate_->inProgress(); }
  std::size_t handshakesCompleted() const override { return gate_->completed(); }
  std::size_t handshakesFailed() const override { return gate_->failed(); }
  std::size_t connectionsRefused() const override { return gate_->refused(); }

 private:
  TlsPort() = default;
  std::shared_ptr<TlsContext> context_;
  std::shared_ptr<TlsHandshakeGate> gate_;
  std::shared_ptr<IListeningPort> tcpPort_;
};

}  // namespace reactor::detail
