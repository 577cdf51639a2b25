// An HTTP/1.1 server protocol for the reactor (what twisted.web's HTTPChannel is), on Debian's
// libhttp-parser, and its factory. Knows no Modbus: an application is one Handler (a Router, see
// router.h) that turns a Request into a Response.
//
// Rules it keeps:
// - Keep-alive as RFC 9112 says: HTTP/1.1 keeps the connection unless "Connection: close"; HTTP/1.0
//   closes unless "Connection: keep-alive". Pipelined requests are answered one at a time, in order.
// - Refused input gets its status and the connection closes after the answer: malformed → 400, request
//   line plus headers over maxHeaderBytes or more than maxHeaderCount fields → 431, a body over
//   maxBodyBytes (declared or de-chunked) → 413, a request not complete within requestTimeout → 408.
//   A handler that throws → 500 (the connection carries on). Nothing after an Upgrade request is read.
// - idleTimeout: a connection that sends nothing for that long, with no answer open, is closed.
//   Both deadlines run on the factory's clock (a ManualClock in tests). 0 disables either.
// - Output is bounded: once more than maxBufferedOutput waits to be sent, reading stops (the rest of
//   a pipelined batch waits unparsed, at most one read) until the client has read its answers.
// - A Server-Sent Events response keeps the connection until either side ends it; bytes the client
//   sends meanwhile are ignored (EventSource sends none).
// Tests: tests/protocols/http/http_server_test.cc, http_limits_test.cc, event_stream_test.cc
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "protocols/http/http_message.h"
#include "reactor/delayed_call.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor {
class Reactor;
}

namespace http {

namespace detail {
class RequestParser;
}

using Handler = std::function<Response(Request&)>;

struct HttpOptions {
  std::size_t maxHeaderBytes = 8 * 1024;   ///< request line + header fields, in bytes
  std::size_t maxHeaderCount = 100;        ///< header fields (and trailers)
  std::size_t maxBodyBytes = 1024 * 1024;  ///< de-chunked body
  double idleTimeout = 60.0;               ///< seconds without a byte between requests; 0 = never
  double requestTimeout = 30.0;            ///< seconds from a request's first byte to its last; 0 = never
  std::size_t maxBufferedOutput = 1024 * 1024;
};

class HttpServerFactory;
class EventStream;

class HttpServerProtocol : public reactor::Protocol, public reactor::IProducer {
 public:
  HttpServerProtocol(Handler handler, reactor::IReactorTime* clock, HttpOptions options);
  ~HttpServerProtocol() override;

  void connectionMade() override;
  void dataReceived(reactor::ByteView data) override;
  void connectionLost(const reactor::Failure& reason) override;
  std::string logPrefix() const override { return "HttpServerProtocol"; }

  // IProducer: the transport pauses us when our answers pile up unread.
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override {}

  /// Requests answered on this connection.
  std::size_t requestCount() const { return requests_; }

 private:
  void process();
  void answer(Request& request);
  void refuse(int status);
  void closeAfterAnswer();
  void armIdle();
  void armRequestTimer();
  void cancelTimers();
  void onTimeout(bool wholeRequest);

  Handler handler_;
  reactor::IReactorTime* clock_;
  HttpOptions options_;
  std::unique_ptr<detail::RequestParser> parser_;
  std::string input_;  // received and not parsed yet (held while paused)
  std::shared_ptr<EventStream> stream_;
  reactor::DelayedCall idleCall_;
  reactor::DelayedCall requestCall_;
  std::size_t requests_ = 0;
  bool closing_ = false;
  bool paused_ = false;
  bool processing_ = false;
};

/// Builds an HttpServerProtocol per connection, all sharing one handler, clock and options.
class HttpServerFactory : public reactor::ServerFactory {
 public:
  /// `clock` (usually the Reactor) must outlive every connection; null disables the timeouts.
  HttpServerFactory(Handler handler, reactor::IReactorTime* clock, HttpOptions options = {});
  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address& addr) override;
  const HttpOptions& options() const { return options_; }

 private:
  Handler handler_;
  reactor::IReactorTime* clock_;
  HttpOptions options_;
};

/// Listens with `factory` on a stream endpoint string ("tcp:8080:interface=127.0.0.1", "tcp:0:...",
/// "tls:..."): Twisted's serverFromString(reactor, description).listen(factory). Throws what the
/// endpoint throws (EndpointError, CannotListenError).
std::shared_ptr<reactor::IListeningPort> listenHTTP(reactor::Reactor& reactor, std::string_view endpoint,
                                                    std::shared_ptr<HttpServerFactory> factory);

/// The bytes of a response's status line and headers (and body unless `withBody` is false), with
/// Content-Length and Connection set by the server. Exposed for tests.
std::string serializeResponse(const Response& response, bool keepAlive, bool http10, bool withBody);

}  // namespace http
