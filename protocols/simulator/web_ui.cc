// WebUi: embedded files with ETags and revalidation (rules in web_ui.h).
#include "protocols/simulator/web_ui.h"

#include <memory>
#include <stdexcept>

#include "protocols/http/static_files.h"

namespace modbus {

bool etagMatches(std::string_view value, std::string_view etag) {
  // RFC 9110 13.1.2: a comma-separated list of entity tags, or "*"; the comparison is weak, so a
  // "W/" prefix does not matter.
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*") return true;
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (!item.empty() && item == etag) return true;
  }
  return false;
}

WebUi::WebUi(std::span<const WebAsset> assets) {
  for (const WebAsset& asset : assets) assets_.emplace(std::string(asset.path), asset);
  if (!assets_.contains("index.html")) throw std::invalid_argument("WebUi: the assets hold no index.html");
}

http::Response WebUi::serve(std::string_view encodedPath, const http::Request& request) const {
  const auto rel = http::safeRelativePath(encodedPath);
  if (!rel) return http::Response::error(404);
  const auto it = assets_.find(*rel);
  if (it == assets_.end()) return http::Response::error(404);
  const WebAsset& asset = it->second;
  http::Response response;
  const auto ifNoneMatch = request.headers.get("If-None-Match");
  if (ifNoneMatch && etagMatches(*ifNoneMatch, asset.etag)) {
    response.status = 304;
  } else {
    response = http::Response::text(200, std::string(asset.bytes), std::string(http::contentTypeFor(*rel)));
  }
  response.headers.set("ETag", std::string(asset.etag));
  response.headers.set("Cache-Control", "no-cache");
  response.headers.set("X-Content-Type-Options", "nosniff");
  return response;
}

http::Handler WebUi::indexHandler() const {
  auto self = std::make_shared<const WebUi>(*this);
  return [self](http::Request& request) { return self->serve("index.html", request); };
}

http::Handler WebUi::fileHandler() const {
  auto self = std::make_shared<const WebUi>(*this);
  return [self](http::Request& request) {
    const auto tail = request.params.find("*");
    return self->serve(tail != request.params.end() ? std::string_view(tail->second) : std::string_view{}, request);
  };
}

http::Handler WebUi::iconHandler() const {
  auto self = std::make_shared<const WebUi>(*this);
  return [self](http::Request& request) { return self->serve("favicon.svg", request); };
}

}  // namespace modbus
