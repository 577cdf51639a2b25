// Options every Modbus server shares (TCP, UDP, TLS, serial), with safe defaults.
#pragma once

#include <cstddef>

#include "framers/framer_type.h"

namespace modbus {

struct ServerOptions {
  /// A request for a unit id the context does not hold: silence when true, else exception 0x0B.
  bool ignoreMissingSlaves = false;
  /// How a TCP connection frames requests: MBAP by default; RTU or ASCII over TCP by option.
  FramerType framer = FramerType::Socket;
  /// Listen backlog when the endpoint string names none (Twisted's 50 drops connections when a
  /// thousand clients connect at once).
  int backlog = 1024;
  /// Connections beyond this many are refused at accept (closed at once).
  std::size_t maxConnections = 4096;
  /// A connection that sends nothing for this many seconds is closed; 0 = never.
  double idleTimeout = 0;
  /// Above this many bytes of unsent responses a connection stops reading requests until the
  /// client has read them (a client that pipelines without reading cannot grow our memory).
  std::size_t maxBufferedOutput = 64 * 1024;
  /// Bytes of an incomplete frame kept per connection before they are dropped as garbage.
  std::size_t maxInputBuffer = 4096;
};

}  // namespace modbus
