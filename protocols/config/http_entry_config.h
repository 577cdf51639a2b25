// The "http:" entry of uvmodbus-server's "servers" list: an HTTP server beside the Modbus servers,
// serving what "serve" names (today "metrics": GET /metrics in Prometheus's text format).
//   {"endpoint": "http:9102:interface=127.0.0.1", "serve": ["metrics"], "token_file": "/etc/uvmodbus/token"}
// Rules kept: at most one such entry; the interface defaults to 127.0.0.1 (not every interface, as a
// bare tcp: would); an interface other than loopback requires "token_file" (every request must then
// carry "Authorization: Bearer <token>"), as the simulator's --http_host requires --http_token. Every
// error is a ConfigError naming the JSON path (uvmodbus-server exits 2). docs/configuration.md, docs/metrics.md.
// Parsed by detail/http_entry_json.h (parseServerConfig calls it).
// Tests: tests/protocols/config/http_entry_config_test.cc, tests/integration/metrics_test.cc
#pragma once

#include <string>
#include <vector>

namespace modbus {

struct HttpEntry {
  std::string endpoint;            ///< as configured: "http:9102:interface=127.0.0.1"
  std::string listen;              ///< the reactor's stream endpoint: "tcp:9102:interface=127.0.0.1"
  std::string interface;           ///< "127.0.0.1" unless given
  std::vector<std::string> serve;  ///< what to serve: "metrics"
  std::string token;               ///< the bearer token read from token_file; empty = none required
  std::string jsonPath;            ///< "servers[2]", for messages
};

}  // namespace modbus
