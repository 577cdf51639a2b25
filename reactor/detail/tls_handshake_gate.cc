// The caps on TLS handshakes in progress (see tls_handshake_gate.h). A peer is its host address,
// whatever its port: a flood comes from many ports of one host.
#include "reactor/detail/tls_handshake_gate.h"

#include "reactor/log.h"

namespace reactor::detail {

bool TlsHandshakeGate::admit(const Address& peer, const TlsOptions& options, double now) {
  std::size_t fromPeer = inProgressFrom(peer);
  const char* cap = nullptr;
  if (options.maxHandshakes > 0 && inProgress_ >= options.maxHandshakes) {
    cap = "max_handshakes";
  } else if (options.maxHandshakesPerPeer > 0 && fromPeer >= options.maxHandshakesPerPeer) {
    cap = "max_handshakes_per_peer";
  }
  if (cap != nullptr) {
    ++refused_;
    if (now - lastRefusalLog_ >= 1.0) {  // one line a second under a flood
      lastRefusalLog_ = now;
      log::warning("refusing TLS connection from ", peer.toString(), ": ", inProgress_, " handshakes in progress, ",
                   fromPeer, " from this address (", cap, "); ", refused_, " refused so far");
    }
    return false;
  }
  ++inProgress_;
  ++perPeer_[peer.host];
  return true;
}

void TlsHandshakeGate::finished(const Address& peer, bool succeeded) {
  --inProgress_;
  auto it = perPeer_.find(peer.host);
  if (it != perPeer_.end() && --it->second == 0) perPeer_.erase(it);
  if (succeeded) {
    ++completed_;
  } else {
    ++failed_;
  }
}

std::size_t TlsHandshakeGate::inProgressFrom(const Address& peer) const {
  auto it = perPeer_.find(peer.host);
  return it == perPeer_.end() ? 0 : it->second;
}

}  // namespace reactor::detail
