// Who may start a TLS handshake on a listening port: at most max_handshakes in progress in total
// and max_handshakes_per_peer from one peer address, so a flood of silent connections from one
// host neither fills the port's slots nor locks other hosts out. A connection beyond either cap is
// refused (the caller closes it at once); refusals are logged at most once a second. Shared by a
// port, its factory and its connections (a connection may outlive its port). Internal to reactor/.
// Tests: tests/reactor/tls_flood_test.cc
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>

#include "reactor/address.h"
#include "reactor/tls.h"

namespace reactor::detail {

class TlsHandshakeGate {
 public:
  /// Takes a slot for `peer`, or counts a refusal and returns false. `now` (seconds) paces the log.
  bool admit(const Address& peer, const TlsOptions& options, double now);
  /// Gives back the slot admit() took for `peer` when its handshake ended.
  void finished(const Address& peer, bool succeeded);

  std::size_t inProgress() const { return inProgress_; }
  std::size_t inProgressFrom(const Address& peer) const;
  std::size_t completed() const { return completed_; }
  std::size_t failed() const { return failed_; }
  std::size_t refused() const { return refused_; }

 private:
  std::unordered_map<std::string, std::size_t> perPeer_;  // peer host → handshakes in progress
  std::size_t inProgress_ = 0;
  std::size_t completed_ = 0;
  std::size_t failed_ = 0;
  std::size_t refused_ = 0;
  double lastRefusalLog_ = -1e9;
};

}  // namespace reactor::detail
