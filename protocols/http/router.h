// A small request router: method + path pattern → Handler. Patterns are literal segments and
// "{name}" segments (one non-empty segment, percent-decoded into Request::params), and may end in
// "*" (the rest of the path, decoded, in params["*"]): "/api/v1/devices/{id}", "/static/*".
// Rules: the first matching route wins, in the order added; a HEAD request runs the GET route (the
// server drops the body); a path some route matches with another method → 405 with Allow; no route
// → the fallback, else 404. A path that does not decode (bad %XX, encoded NUL) → 400.
// Tests: tests/protocols/http/router_test.cc
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http/http_message.h"
#include "protocols/http/http_server.h"

namespace http {

class Router {
 public:
  Router& add(std::string method, std::string_view pattern, Handler handler);
  Router& get(std::string_view pattern, Handler handler) { return add("GET", pattern, std::move(handler)); }
  Router& post(std::string_view pattern, Handler handler) { return add("POST", pattern, std::move(handler)); }
  Router& put(std::string_view pattern, Handler handler) { return add("PUT", pattern, std::move(handler)); }
  Router& del(std::string_view pattern, Handler handler) { return add("DELETE", pattern, std::move(handler)); }
  /// What answers a path no route matches (instead of 404).
  Router& fallback(Handler handler);

  Response handle(Request& request) const;
  /// This router as the server's Handler; the handler keeps the router alive.
  static Handler asHandler(std::shared_ptr<const Router> router);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    bool rest = false;
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string_view>& path, Request* request);

  std::vector<Route> routes_;
  Handler fallback_;
};

/// "/a/b/" → {"a", "b", ""}; "/" → {""}. Segments stay percent-encoded.
std::vector<std::string_view> splitPath(std::string_view path);

}  // namespace http
