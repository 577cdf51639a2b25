// Starts the "http:" entry of a server configuration (http_entry_config.h) beside the Modbus
// servers: an HTTP server on the same reactor routing what "serve" names (GET /metrics, the servers'
// Prometheus exposition, protocols/servers/server_metrics.h). With a token, every request must
// carry "Authorization: Bearer <token>" (401 otherwise).
// Tests: tests/integration/metrics_test.cc
#pragma once

#include <memory>
#include <vector>

#include "protocols/config/http_entry_config.h"
#include "protocols/servers/modbus_server.h"
#include "reactor/interfaces.h"
#include "reactor/reactor.h"

namespace modbus {

/// Listens on `entry.listen` and serves `servers` (read at each request: they must outlive the port).
/// Logs "HTTP listening on http://HOST:PORT/metrics". Throws what listening throws (CannotListenError).
std::shared_ptr<reactor::IListeningPort> startHttpEntry(reactor::Reactor& reactor, const HttpEntry& entry,
                                                        const std::vector<std::unique_ptr<ModbusServer>>& servers);

}  // namespace modbus
