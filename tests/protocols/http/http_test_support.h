// One HTTP server connection on a StringTransport and a ManualClock, for the protocols/http tests:
// bytes in with send(), what the server wrote with out(), time moved with clock.advance().
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "protocols/http/http_server.h"
#include "reactor/delayed_call.h"
#include "tests/support/reactor_harness.h"

namespace http::testing {

/// Answers "METHOD TARGET|BODY" as text/plain: every test can see what the server parsed.
inline Response echo(Request& request) {
  return Response::text(200, request.method + " " + request.target + "|" + request.body);
}

struct Connection {
  explicit Connection(Handler handler = echo, HttpOptions options = {})
      : protocol(std::make_shared<HttpServerProtocol>(std::move(handler), &clock, options)) {
    protocol->makeConnection(transport);
  }
  ~Connection() { lose(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(std::string_view bytes) { protocol->dataReceived(reactor::asBytes(bytes)); }
  /// Sends `bytes` one byte per dataReceived.
  void sendBytewise(std::string_view bytes) {
    for (char c : bytes) send(std::string_view(&c, 1));
  }
  std::string out() const { return transport->value(); }
  bool closing() const { return transport->disconnecting(); }
  /// The client goes away (connectionLost, once).
  void lose() { transport->reportConnectionLost(*protocol); }

  reactor::ManualClock clock;
  std::shared_ptr<reactor::testing::StringTransport> transport = std::make_shared<reactor::testing::StringTransport>();
  std::shared_ptr<HttpServerProtocol> protocol;
};

/// How many times `needle` occurs in `haystack`.
inline std::size_t occurrences(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

/// The exact bytes echo() answers to a request, keep-alive HTTP/1.1.
inline std::string echoAnswer(std::string_view method, std::string_view target, std::string_view body = {},
                              bool close = false) {
  std::string text = std::string(method) + " " + std::string(target) + "|" + std::string(body);
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(text.size()) +
         "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n" + text;
}

}  // namespace http::testing
