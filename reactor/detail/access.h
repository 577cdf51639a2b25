// The framework-only doors into public classes, for code inside reactor/ (and the test harness that
// plays a transport). Rules: only transports and ports use these; nothing here is installed, so the
// public headers name these structs as friends without exposing what they open.
// Used by reactor/detail/*_transport.cc, tls_connection.cc, serial_transport.cc and
// tests/support/reactor_harness.h; tested through tests/reactor/protocol_test.cc.
#pragma once

#include "reactor/protocol.h"
#include "reactor/reactor.h"

namespace reactor::detail {

/// What a transport may do to its Protocol beyond the public hooks.
struct ProtocolAccess {
  /// Marks the protocol disconnected; call it just before connectionLost.
  static void markDisconnected(Protocol& protocol) { protocol.markDisconnected(); }
};

/// How code outside the Reactor's own members reaches its libuv side.
struct ReactorAccess {
  static ReactorImpl& impl(Reactor& reactor) { return reactor.impl(); }
};

}  // namespace reactor::detail
