// The /metrics page of a set of Modbus servers: a snapshot of each server's ServingMetrics
// (protocols/serving/serving_metrics.h) and ConnectionLog, written in Prometheus's text format
// (protocols/http/prometheus.h). uvmodbus-server serves it through an "http:" entry of its
// configuration, uvmodbus-simulator from its HTTP server (docs/metrics.md lists every series).
// Rules kept: read on the reactor's thread (where the counters are written), so a scrape is one
// consistent picture without a lock; a scrape copies nothing the Modbus path uses and allocates only
// on the HTTP side; a function code or exception code never seen gives no series.
// Tests: tests/protocols/servers/server_metrics_test.cc, tests/integration/metrics_test.cc
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "protocols/http/http_server.h"
#include "protocols/servers/modbus_server.h"
#include "protocols/serving/connection_log.h"
#include "protocols/serving/serving_metrics.h"

namespace modbus {

/// One server's counters for the exposition, and the label that names it.
struct ServerMetricsSource {
  std::string server;                      ///< the server label: "tcp:127.0.0.1:5020", "serial:/dev/ttyUSB0"
  const ServingMetrics* metrics = nullptr;
  const ConnectionLog* connectionLog = nullptr;  ///< null for UDP and serial servers
};

/// "tcp:127.0.0.1:5020" (several ports joined by ','), "udp:…", "tls:…", "serial:/dev/ttyUSB0";
/// "modbus" for a server of another kind.
std::string serverMetricsLabel(const ModbusServer& server);

/// The sources of `servers`, labelled by serverMetricsLabel (a label met twice gets "#2", "#3").
std::vector<ServerMetricsSource> metricsSources(const std::vector<std::unique_ptr<ModbusServer>>& servers);

/// The text of a scrape: every family's HELP and TYPE, then its samples for each source.
std::string renderServerMetrics(std::span<const ServerMetricsSource> sources);

/// A handler for GET /metrics: renders what `sources` gives at each scrape (the servers may be
/// restarted between scrapes), with Prometheus's content type.
http::Handler metricsHandler(std::function<std::vector<ServerMetricsSource>()> sources);

}  // namespace modbus
