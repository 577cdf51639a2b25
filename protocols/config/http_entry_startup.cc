// The "http:" entry's HTTP server: a router, the bearer token, the listening port.
#include "protocols/config/http_entry_startup.h"

#include "protocols/http/http_server.h"
#include "protocols/http/router.h"
#include "protocols/servers/server_metrics.h"
#include "reactor/log.h"

namespace modbus {
namespace {

/// Compares without stopping at the first difference (a guessed token's timing tells nothing).
bool sameToken(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

std::shared_ptr<reactor::IListeningPort> startHttpEntry(reactor::Reactor& reactor, const HttpEntry& entry,
                                                        const std::vector<std::unique_ptr<ModbusServer>>& servers) {
  auto router = std::make_shared<http::Router>();
  for (const std::string& what : entry.serve) {
    if (what == "metrics") {
      router->get("/metrics", metricsHandler([&servers] { return metricsSources(servers); }));
    }
  }
  http::Handler routes = http::Router::asHandler(router);
  http::Handler handler = routes;
  if (!entry.token.empty()) {
    handler = [routes, token = entry.token](http::Request& request) {
      const auto authorization = request.headers.get("Authorization");
      const std::string_view scheme = "Bearer ";
      if (!authorization || authorization->size() <= scheme.size() ||
          !http::equalsIgnoreCase(authorization->substr(0, scheme.size()), scheme) ||
          !sameToken(authorization->substr(scheme.size()), token)) {
        http::Response refused = http::Response::error(401);
        refused.headers.set("WWW-Authenticate", "Bearer realm=\"uvmodbus-server\"");
        return refused;
      }
      return routes(request);
    };
  }
  auto factory = std::make_shared<http::HttpServerFactory>(std::move(handler), &reactor);
  auto port = http::listenHTTP(reactor, entry.listen, factory);
  const std::string host = entry.interface.find(':') != std::string::npos ? "[" + entry.interface + "]" : entry.interface;
  reactor::log::info("HTTP listening on http://", host.empty() ? "0.0.0.0" : host, ":", port->getHost().port,
                     "/metrics", entry.token.empty() ? "" : " (bearer token required)");
  return port;
}

}  // namespace modbus
