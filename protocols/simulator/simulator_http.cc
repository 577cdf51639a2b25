// SimulatorHttp: routes, the bearer token, query parsing and the listening endpoint.
#include "protocols/simulator/simulator_http.h"

#include <utility>

#include "protocols/http/detail/json_body.h"
#include "protocols/http/static_files.h"
#include "protocols/servers/server_metrics.h"
#include "protocols/simulator/detail/simulator_http_api.h"
#include "protocols/simulator/log_ring.h"
#include "protocols/simulator/simulator_api_v1.h"
#include "protocols/simulator/simulator_server.h"
#include "protocols/simulator/web_ui.h"
#include "reactor/endpoints.h"
#include "reactor/log.h"

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

constexpr std::string_view kLoginCookie = "uvmodbus_token";

std::string hexOf(std::string_view text) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * text.size());
  for (unsigned char c : text) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 0xF];
  }
  return hex;
}

/// The page a browser gets without the token: one field, posted to /login. No script, so it works
/// (and logs nothing) whatever the page it replaced.
http::Response loginForm(int status, std::string_view message) {
  std::string body =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>uvmodbus simulator: log in</title>"
      "<link rel=\"icon\" href=\"data:,\"></head>\n<body><h1>uvmodbus simulator</h1>\n";
  if (!message.empty()) body += "<p role=\"alert\">" + std::string(message) + "</p>\n";
  body +=
      "<form method=\"post\" action=\"/login\"><label>Token <input type=\"password\" name=\"token\" "
      "autocomplete=\"current-password\" autofocus></label> <button type=\"submit\">Log in</button></form>\n"
      "<p>The token is the first line of the file given to <code>--http_token</code>.</p></body></html>\n";
  return http::Response::text(status, std::move(body), "text/html; charset=utf-8");
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
    : simulator_(simulator),
      log_(log),
      options_(std::move(options)),
      router_(std::make_shared<http::Router>()),
      cookieValue_(hexOf(options_.token)) {
  simulator_.calls();  // hooks the call monitor into the servers runForever starts
  if (options_.ui != nullptr) {
    router_->get("/", options_.ui->indexHandler());
    router_->get("/ui/*", options_.ui->fileHandler());
    router_->get("/favicon.ico", options_.ui->iconHandler());  // browsers ask every page for it
  } else {
    router_->get("/", [](http::Request&) {
      return http::Response::text(200, simulator_http::renderIndex(), "text/html; charset=utf-8");
    });
  }
  for (const char* view : {"registers", "calls", "log", "server"}) {
    const std::string name = view;
    router_->get("/api/" + name, [this, name](http::Request& r) { return page(name, r); });
    router_->post("/restapi/" + name, [this, name](http::Request& r) { return restApi(name, r); });
  }
  apiV1_ = std::make_unique<SimulatorApiV1>(simulator_);
  for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) router_->add(method, "/api/v1/*", apiV1_->handler());
  router_->get("/metrics", metricsHandler([this] { return metricsSources(simulator_.servers()); }));
  if (!options_.staticFolder.empty()) {
    router_->fallback(http::StaticFiles(options_.staticFolder).handler());
  }
}

SimulatorHttp::~SimulatorHttp() = default;

http::Response SimulatorHttp::handle(http::Request& request) {
  if (!options_.token.empty()) {
    if (request.path == "/login") return login(request);
    if (!authorized(request)) {
      const bool v1 = request.path == "/api/v1" || request.path.rfind("/api/v1/", 0) == 0;
      const bool page = request.method == "GET" && !v1 && request.path.rfind("/restapi/", 0) != 0;
      http::Response refused = v1     ? apiV1Error(401, "a bearer token is required")
                               : page ? loginForm(401, "")
                                      : http::Response::error(401);
      refused.headers.set("WWW-Authenticate", "Bearer realm=\"uvmodbus-simulator\"");
      return refused;
    }
  }
  return router_->handle(request);
}

bool SimulatorHttp::authorized(const http::Request& request) const {
  const std::string_view scheme = "Bearer ";
  if (const auto authorization = request.headers.get("Authorization")) {
    return authorization->size() > scheme.size() &&
           http::equalsIgnoreCase(authorization->substr(0, scheme.size()), scheme) &&
           sameToken(authorization->substr(scheme.size()), options_.token);
  }
  const auto cookie = http::cookie(request.headers, kLoginCookie);
  return cookie && sameToken(*cookie, cookieValue_);
}

http::Response SimulatorHttp::login(http::Request& request) {
  if (request.method == "GET") return loginForm(200, "");
  if (request.method != "POST") {
    http::Response refused = http::Response::error(405);
    refused.headers.set("Allow", "GET, POST");
    return refused;
  }
  const auto token = http::formField(request.body, "token");
  if (!token || !sameToken(*token, options_.token)) {
    reactor::log::warning("simulator HTTP: a wrong token was given to /login");
    return loginForm(401, "That is not the token.");
  }
  http::Response done = http::Response::text(303, "303 See Other\n");
  done.headers.set("Location", "/");
  done.headers.set("Set-Cookie", std::string(kLoginCookie) + "=" + cookieValue_ + "; Path=/; HttpOnly; SameSite=Strict" +
                                     (options_.https ? "; Secure" : ""));
  return done;
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
