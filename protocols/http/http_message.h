// HTTP/1.1 messages as the server sees them: a parsed Request and the Response a handler returns.
// Plain values: no I/O, no reactor, no Modbus. Header names compare case-insensitively (RFC 9110
// §5.1); values are kept as received. A Response carries its body whole, or, for Server-Sent Events,
// a callback that takes over the connection's output (event_stream.h).
// Tests: tests/protocols/http/http_message_test.cc
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

class EventStream;

/// Header fields in arrival order; lookups ignore case.
class Headers {
 public:
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  /// Replaces every field named `name` with one.
  void set(std::string_view name, std::string value);
  /// The first value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  std::size_t size() const { return fields_.size(); }
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool equalsIgnoreCase(std::string_view a, std::string_view b);

struct Request {
  std::string method;  ///< "GET", "POST", ... as http_parser names them
  std::string target;  ///< the request target as sent: path and query, still percent-encoded
  std::string path;    ///< the target's path, percent-encoded (decode with percentDecode)
  std::string query;   ///< after '?', without it; "" when absent
  int versionMajor = 1;
  int versionMinor = 1;
  Headers headers;
  std::string body;  ///< de-chunked
  bool keepAlive = true;  ///< what the version and Connection header ask for
  /// Path parameters the router matched ("/devices/{id}" → params["id"]), percent-decoded.
  std::map<std::string, std::string, std::less<>> params;

  /// The decoded value of query parameter `name` ("a=1&b=x%20y"), if present.
  std::optional<std::string> queryParam(std::string_view name) const;
  std::string_view param(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  /// Set for a Server-Sent Events response: the headers go out, the connection stays open and the
  /// callback receives the stream to push events into. `body` is ignored.
  std::function<void(std::shared_ptr<EventStream>)> eventStream;

  static Response text(int status, std::string body, std::string contentType = "text/plain; charset=utf-8");
  /// A short plain-text error body naming the status ("404 Not Found\n").
  static Response error(int status);
  /// A Server-Sent Events response; `onOpen` receives the stream once the headers are sent.
  static Response events(std::function<void(std::shared_ptr<EventStream>)> onOpen);
};

/// "OK", "Not Found", ... ("Unknown" for a code it does not know).
std::string_view statusReason(int status);

/// The decoded value of field `name` in an application/x-www-form-urlencoded text ("a=1&b=x+y"), as a
/// query string or a form body carries it; nullopt when absent or malformed.
std::optional<std::string> formField(std::string_view form, std::string_view name);
/// The value of cookie `name` in the request's Cookie header(s) (RFC 6265 "a=1; b=2"), as sent.
std::optional<std::string_view> cookie(const Headers& headers, std::string_view name);

/// %XX decoded ("+" stays "+": this is for paths). nullopt for a malformed escape or an encoded NUL.
std::optional<std::string> percentDecode(std::string_view text);

}  // namespace http
