// The base of every Modbus server (TCP, UDP, TLS, serial) and pymodbus's process-wide ServerStop()
// (server/server.py, startstop.py): several servers may share one reactor, and ServerStop() stops
// every one of them (pymodbus's stops only the last server created, pymodbus#1297).
// The transports' servers: modbus_tcp_server.h, modbus_udp_server.h, modbus_tls_server.h,
// modbus_serial_server.h; their blocking Start*Server helpers run through start_server.h.
// Tests: tests/integration/samples_test.cc (ServerStop), tests/protocols/servers/.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "protocols/serving/serving_metrics.h"

#include "reactor/reactor.h"

namespace modbus {

class ConnectionLog;  // protocols/serving/connection_log.h

/// What every server (TCP, UDP, TLS, serial) is to ServerStop(). Create and destroy on the
/// reactor's thread.
class ModbusServer {
 public:
  virtual ~ModbusServer();
  ModbusServer(const ModbusServer&) = delete;
  ModbusServer& operator=(const ModbusServer&) = delete;

  /// Stop listening and close every connection gracefully, then call onShutdown. Idempotent.
  void shutdown();
  reactor::Reactor& reactor() const { return reactor_; }
  /// Run once after shutdown() (the Start*Server helpers stop their reactor here).
  std::function<void()> onShutdown;

  /// Throws what listen() (open() for a serial line) would throw for `endpoint`, short of binding
  /// the port or opening the device: a malformed or foreign endpoint, an interface that is not an
  /// IP address, certificate files that cannot be used, a missing serial device.
  /// `uvmodbus-server --check` runs it for every configured server.
  virtual void check(std::string_view endpoint) const = 0;

  /// What this server has served over every port, connection or line (serving_metrics.h). Read it on
  /// the reactor's thread (the /metrics exposition does: protocols/servers/server_metrics.h).
  const ServingMetrics& metrics() const { return *metrics_; }
  /// The server-side closes and refusals by reason (ConnectionLog::total) of a stream server; null
  /// for UDP and serial servers, which have no connections to refuse.
  virtual const ConnectionLog* connectionLog() const { return nullptr; }

 protected:
  explicit ModbusServer(reactor::Reactor& reactor);
  virtual void doShutdown() = 0;
  const std::shared_ptr<ServingMetrics>& metricsPtr() const { return metrics_; }
  /// Counts into `metrics` from now on (a stream server shares its factory's).
  void shareMetrics(std::shared_ptr<ServingMetrics> metrics) { metrics_ = std::move(metrics); }

 private:
  reactor::Reactor& reactor_;
  bool shutDown_ = false;
  std::shared_ptr<ServingMetrics> metrics_ = std::make_shared<ServingMetrics>();
};

/// Thread-safe: shuts down every running server in this process (every Start*Server call returns).
void ServerStop();

/// How many servers are running (for tests and for a thread that waits for start-up).
std::size_t runningServerCount();

}  // namespace modbus
