// SimulatorHttp: the HTTP half of pymodbus's ModbusSimulatorServer, on protocols/http/ and the same
// reactor and datastore as the Modbus servers (no locks: both run on the reactor thread).
// Routes (pymodbus's, docs/simulator.md "HTTP"):
//   GET  /                          the live web UI (web_ui.h) when one is given, else an index page
//                                   linking the four views; GET /ui/<file>: the UI's files
//   GET  /api/registers|calls|log|server     server-rendered HTML pages; the query is the form
//   POST /restapi/registers|calls|log|server  JSON in, JSON out (simulator_http_api.h's shapes)
//   GET  /api/log?submit=Download   the kept log as a text file
//   GET  /<file>                    from the static folder, when one is given (never outside it)
//   /api/v1/...                     the versioned JSON API (simulator_api_v1.h, docs/openapi.json)
// Rules:
// - With a token, every request needs "Authorization: Bearer <token>" or the cookie that POST /login
//   sets for a browser (HttpOnly, SameSite=Strict); others get 401 with WWW-Authenticate, and a page
//   request gets the login form with it. The program requires one to bind anything but a loopback address.
// - A view that cannot do what it is asked answers 200 with {"result": "error", "error": ...}, as
//   pymodbus does; a body that is not JSON gets 400 with the same shape.
// - The Calls and Server views hook SimulatorServer::calls() into the Modbus servers: construct
//   this before SimulatorServer::runForever().
// Tests: tests/protocols/simulator/simulator_http_test.cc, tests/integration/simulator_http_test.cc
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/http/http_server.h"
#include "protocols/http/router.h"

namespace modbus {

class SimulatorServer;
class LogRing;
class WebUi;
class SimulatorApiV1;

struct SimulatorHttpOptions {
  std::string token{};                   ///< non-empty: the bearer token every request must carry
  std::filesystem::path staticFolder{};  ///< empty: no static files
  const WebUi* ui = nullptr;             ///< the live UI at / and /ui/ (copied in); null: the plain index page
  bool https = false;                    ///< served over TLS: the login cookie is marked Secure
};

class SimulatorHttp {
 public:
  /// `simulator` (and `log`, which may be null: the Log view then answers an error) must outlive this.
  SimulatorHttp(SimulatorServer& simulator, LogRing* log, SimulatorHttpOptions options = {});
  ~SimulatorHttp();
  SimulatorHttp(const SimulatorHttp&) = delete;
  SimulatorHttp& operator=(const SimulatorHttp&) = delete;

  /// Answers one request (the token check, then the routes).
  http::Response handle(http::Request& request);
  /// handle() as the server's Handler; this object must outlive the server.
  http::Handler handler();
  /// The /api/v1 application (its routes, its call stream).
  SimulatorApiV1& apiV1() { return *apiV1_; }

 private:
  http::Response page(std::string_view view, http::Request& request);
  http::Response restApi(std::string_view view, http::Request& request);
  /// With a token: the request carries it as a bearer header or as the login cookie.
  bool authorized(const http::Request& request) const;
  /// GET /login: the form; POST /login: checks the token and sets the cookie (browsers cannot send
  /// a bearer header when they open a page).
  http::Response login(http::Request& request);

  SimulatorServer& simulator_;
  LogRing* log_;
  SimulatorHttpOptions options_;
  std::shared_ptr<http::Router> router_;
  std::unique_ptr<SimulatorApiV1> apiV1_;
  std::string cookieValue_;  ///< the token in hex: a cookie value needs no quoting then
};

/// True for "127.0.0.1" (any 127.x.y.z), "::1" and "localhost".
bool isLoopbackHost(std::string_view host);
/// The endpoint string for listenHTTP: "tcp:PORT:interface=HOST" ("tcp6:" for an IPv6 address),
/// or "tls:PORT:interface=HOST:cert=CERT:key=KEY:require_client_cert=false" when certFile is given.
std::string simulatorHttpEndpoint(const std::string& host, std::uint16_t port, const std::string& certFile = {},
                                  const std::string& keyFile = {});
/// "a=1&b=x+y&f=3&f=4" as a JSON object of strings ({"a":"1","b":"x y","f":["3","4"]}), as text so
/// that nlohmann stays out of this header. nullopt for a malformed escape.
std::optional<std::string> queryAsJson(std::string_view query);

}  // namespace modbus
