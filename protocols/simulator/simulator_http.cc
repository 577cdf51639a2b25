// SimulatorHttp: routes, the bearer token, query parsing and the listening endpoint.
#include "protocols/simulator/simulator_http.h"

#include <utility>

#include "protocols/http/detail/json_body.h"
#include "protocols/http/static_files.h"
#include "protocols/servers/server_metrics.h"
#include "protocols/simulator/detail/simulator_http_api.h"
#include "protocols/simulator/log_ring.h"
#include "protocols/simulator/simulator_server.h"
#include "reactor/endpoints.h"

namespace modbus {
namespace {

using simulator_http::Json;

/// Compares without stopping at the first difference: the time taken does not tell how much of a
/// guessed token was right.
bool sameToken(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

Json viewResult(std::string_view view, SimulatorServer& simulator, LogRing* log, const Json& params) {
  if (view == "registers") return simulator_http::registersView(simulator, params);
  if (view == "calls") return simulator_http::callsView(simulator, params);
  if (view == "log") return simulator_http::logView(log, params);
  return simulator_http::serverView(simulator, params);
}

}  // namespace

bool isLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string simulatorHttpEndpoint(const std::string& host, std::uint16_t port, const std::string& certFile,
                                  const std::string& keyFile) {
  const bool v6 = host.find(':') != std::string::npos;
  std::string endpoint = certFile.empty() ? (v6 ? "tcp6:" : "tcp:") : "tls:";
  endpoint += std::to_string(port) + ":interface=" + reactor::quoteStringArgument(host);
  if (!certFile.empty()) {
    endpoint += ":cert=" + reactor::quoteStringArgument(certFile);
    endpoint += ":key=" + reactor::quoteStringArgument(keyFile.empty() ? certFile : keyFile);
    endpoint += ":require_client_cert=false";  // plain HTTPS: browsers and curl bring no certificate
  }
  return endpoint;
}

std::optional<std::string> queryAsJson(std::string_view query) {
  Json out = Json::object();
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    std::string name(pair.substr(0, eq)), value(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    for (char& c : name) c = c == '+' ? ' ' : c;  // form encoding: '+' is a space
    for (char& c : value) c = c == '+' ? ' ' : c;
    auto n = http::percentDecode(name);
    auto v = http::percentDecode(value);
    if (!n || !v) return std::nullopt;
    if (!out.contains(*n)) {
      out[*n] = *v;
    } else if (out[*n].is_array()) {
      out[*n].push_back(*v);
    } else {
      out[*n] = Json::array({out[*n], *v});
    }
  }
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

SimulatorHttp::SimulatorHttp(SimulatorServer& simulator, LogRing* log, SimulatorHttpOptions options)
    : simulator_(simulator), log_(log), options_(std::move(options)), router_(std::make_shared<http::Router>()) {
  simulator_.calls();  // hooks the call monitor into the servers runForever starts
  router_->get("/", [](http::Request&) {
    return http::Response::text(200, simulator_http::renderIndex(), "text/html; charset=utf-8");
  });
  for (const char* view : {"registers", "calls", "log", "server"}) {
    const std::string name = view;
    router_->get("/api/" + name, [this, name](http::Request& r) { return page(name, r); });
    router_->post("/restapi/" + name, [this, name](http::Request& r) { return restApi(name, r); });
  }
  router_->get("/metrics", metricsHandler([this] { return metricsSources(simulator_.servers()); }));
  if (!options_.staticFolder.empty()) {
    router_->fallback(http::StaticFiles(options_.staticFolder).handler());
  }
}

http::Response SimulatorHttp::handle(http::Request& request) {
  if (!options_.token.empty()) {
    const auto authorization = request.headers.get("Authorization");
    const std::string_view scheme = "Bearer ";
    if (!authorization || authorization->size() <= scheme.size() ||
        !http::equalsIgnoreCase(authorization->substr(0, scheme.size()), scheme) ||
        !sameToken(authorization->substr(scheme.size()), options_.token)) {
      http::Response refused = http::Response::error(401);
      refused.headers.set("WWW-Authenticate", "Bearer realm=\"uvmodbus-simulator\"");
      return refused;
    }
  }
  return router_->handle(request);
}

http::Handler SimulatorHttp::handler() {
  return [this](http::Request& request) { return handle(request); };
}

http::Response SimulatorHttp::page(std::string_view view, http::Request& request) {
  const std::optional<std::string> query = queryAsJson(request.query);
  if (!query) return http::Response::error(400);
  Json params = Json::parse(*query);
  const std::string submit = params.contains("submit") && params["submit"].is_string() ? params["submit"].get<std::string>() : "";
  if (view == "log" && submit == "Download" && log_ != nullptr) {
    http::Response file = http::Response::text(200, log_->download());
    file.headers.set("Content-Disposition", "attachment; filename=\"uvmodbus-simulator.log\"");
    return file;
  }
  if (view == "registers" && (submit.empty() || submit == "Clear" || submit == "Add")) {
    if (submit == "Clear") params = Json::object();
    params["submit"] = "Register";
  }
  int refresh = 0;
  try {
    refresh = static_cast<int>(simulator_http::intField(params, "refresh").value_or(0));
  } catch (const simulator_http::FieldError&) {
  }
  const Json result = viewResult(view, simulator_, log_, params);
  return http::Response::text(200, simulator_http::renderPage(std::string(view), params, result, refresh),
                              "text/html; charset=utf-8");
}

http::Response SimulatorHttp::restApi(std::string_view view, http::Request& request) {
  auto body = http::parseJsonBody(request);
  if (!body) return http::jsonResponse(simulator_http::errorResult("the body is not JSON"), 400);
  return http::jsonResponse(viewResult(view, simulator_, log_, *body));
}

}  // namespace modbus
