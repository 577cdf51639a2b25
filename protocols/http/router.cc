// The router: first match in order, 405 with Allow, 404. See router.h.
#include "protocols/http/router.h"

#include <utility>

namespace http {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

Router& Router::add(std::string method, std::string_view pattern, Handler handler) {
  Route route;
  route.method = std::move(method);
  for (std::string_view s : splitPath(pattern)) route.segments.emplace_back(s);
  if (!route.segments.empty() && route.segments.back() == "*") {
    route.segments.pop_back();
    route.rest = true;
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
  return *this;
}

Router& Router::fallback(Handler handler) {
  fallback_ = std::move(handler);
  return *this;
}

bool Router::match(const Route& route, const std::vector<std::string_view>& path, Request* request) {
  if (route.rest ? path.size() < route.segments.size() : path.size() != route.segments.size()) return false;
  std::map<std::string, std::string, std::less<>> params;
  for (std::size_t i = 0; i < route.segments.size(); ++i) {
    const std::string& want = route.segments[i];
    auto decoded = percentDecode(path[i]);
    if (!decoded) return false;
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      if (decoded->empty()) return false;
      params[want.substr(1, want.size() - 2)] = std::move(*decoded);
    } else if (*decoded != want) {
      return false;
    }
  }
  if (route.rest) {
    std::string tail;
    for (std::size_t i = route.segments.size(); i < path.size(); ++i) {
      if (i > route.segments.size()) tail += '/';
      tail.append(path[i]);
    }
    params["*"] = std::move(tail);  // still encoded: a file handler decodes it per segment
  }
  if (request) request->params = std::move(params);
  return true;
}

Response Router::handle(Request& request) const {
  if (request.path.empty() || request.path.front() != '/') return Response::error(request.path == "*" ? 404 : 400);
  if (!percentDecode(request.path)) return Response::error(400);
  auto path = splitPath(request.path);
  const std::string_view method = request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  std::string allow;
  for (const Route& route : routes_) {
    if (!match(route, path, nullptr)) continue;
    if (route.method == method) {
      match(route, path, &request);
      return route.handler(request);
    }
    if (allow.find(route.method) == std::string::npos) {
      if (!allow.empty()) allow += ", ";
      allow += route.method;
      if (route.method == "GET") allow += ", HEAD";
    }
  }
  if (!allow.empty()) {
    Response r = Response::error(405);
    r.headers.set("Allow", allow);
    return r;
  }
  if (fallback_) return fallback_(request);
  return Response::error(404);
}

Handler Router::asHandler(std::shared_ptr<const Router> router) {
  return [router = std::move(router)](Request& request) { return router->handle(request); };
}

}  // namespace http
