// The HTTP/1.1 server protocol: parse (detail/request_parser), answer in order, close on the rules in
// http_server.h. One close path (closeAfterAnswer) for every refusal and deadline.
#include "protocols/http/http_server.h"

#include <exception>
#include <utility>

#include "protocols/http/detail/request_parser.h"
#include "protocols/http/event_stream.h"
#include "reactor/endpoints.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

namespace http {

namespace {

bool mayHaveBody(int status) { return status >= 200 && status != 204 && status != 304; }

// The status line and headers. `contentLength` < 0: an open-ended body (event stream) that the
// connection's close ends.
std::string serializeHead(const Response& response, bool keepAlive, bool http10, long long contentLength) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + std::string(statusReason(response.status)) + "\r\n";
  for (const auto& [name, value] : response.headers.fields()) {
    // The server owns the framing headers.
    if (equalsIgnoreCase(name, "Content-Length") || equalsIgnoreCase(name, "Transfer-Encoding") ||
        equalsIgnoreCase(name, "Connection")) {
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (contentLength >= 0 && mayHaveBody(response.status)) out += "Content-Length: " + std::to_string(contentLength) + "\r\n";
  if (!keepAlive) {
    out += "Connection: close\r\n";
  } else if (http10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace

std::string serializeResponse(const Response& response, bool keepAlive, bool http10, bool withBody) {
  bool body = mayHaveBody(response.status);
  std::string out = serializeHead(response, keepAlive, http10, static_cast<long long>(body ? response.body.size() : 0));
  if (withBody && body) out += response.body;
  return out;
}

HttpServerProtocol::HttpServerProtocol(Handler handler, reactor::IReactorTime* clock, HttpOptions options)
    : handler_(std::move(handler)),
      clock_(clock),
      options_(options),
      parser_(std::make_unique<detail::RequestParser>(
          detail::ParserLimits{options.maxHeaderBytes, options.maxHeaderCount, options.maxBodyBytes})) {}

HttpServerProtocol::~HttpServerProtocol() = default;

void HttpServerProtocol::connectionMade() {
  auto& t = transport();
  if (auto* tcp = dynamic_cast<reactor::ITCPTransport*>(&t)) tcp->setTcpNoDelay(true);
  t.setWriteHighWaterMark(options_.maxBufferedOutput);
  t.registerProducer(std::shared_ptr<reactor::IProducer>(shared_from_this(), static_cast<reactor::IProducer*>(this)),
                     /*streaming=*/true);
  armIdle();
}

void HttpServerProtocol::dataReceived(reactor::ByteView data) {
  if (closing_ || stream_) return;
  armIdle();
  input_.append(reactor::asText(data));
  process();
}

void HttpServerProtocol::process() {
  if (processing_) return;
  processing_ = true;
  while (!closing_ && !stream_ && !paused_ && !input_.empty()) {
    auto r = parser_->feed(input_);
    input_.erase(0, r.consumed);
    if (r.status == detail::RequestParser::Status::NeedMore) {
      if (parser_->midRequest()) armRequestTimer();
      break;
    }
    if (r.status == detail::RequestParser::Status::Error) {
      refuse(r.errorStatus);
      break;
    }
    if (requestCall_.active()) requestCall_.cancel();
    Request request = parser_->takeRequest();
    answer(request);
  }
  processing_ = false;
}

void HttpServerProtocol::answer(Request& request) {
  ++requests_;
  const bool head = request.method == "HEAD";
  const bool http10 = request.versionMajor == 1 && request.versionMinor == 0;
  Response response;
  try {
    response = handler_(request);
  } catch (const std::exception& e) {
    reactor::log::emit(reactor::log::Level::Error, "HTTP handler for ", request.method, " ", request.target,
                       " threw: ", e.what());
    response = Response::error(500);
  }
  bool keepAlive = request.keepAlive && !parser_->upgraded();
  if (auto c = response.headers.get("Connection"); c && equalsIgnoreCase(*c, "close")) keepAlive = false;
  if (response.eventStream && !head && response.status == 200) {
    // The body runs until either side closes: no length, and no further request is read.
    transport().write(reactor::asBytes(serializeHead(response, false, http10, -1)));
    cancelTimers();
    stream_ = std::make_shared<EventStream>(transportPtr(), options_.maxBufferedOutput);
    input_.clear();
    auto onOpen = std::move(response.eventStream);
    try {
      onOpen(stream_);
    } catch (const std::exception& e) {
      reactor::log::emit(reactor::log::Level::Error, "HTTP event stream for ", request.target, " threw: ", e.what());
      stream_->close();
    }
    return;
  }
  transport().write(reactor::asBytes(serializeResponse(response, keepAlive, http10, !head)));
  if (!keepAlive) closeAfterAnswer();
}

void HttpServerProtocol::refuse(int status) {
  transport().write(reactor::asBytes(serializeResponse(Response::error(status), false, false, true)));
  closeAfterAnswer();
}

void HttpServerProtocol::closeAfterAnswer() {
  if (closing_) return;
  closing_ = true;
  input_.clear();
  cancelTimers();
  // A registered producer would hold the close back (interfaces.h): we have nothing more to produce.
  transport().unregisterProducer();
  transport().loseConnection();
}

void HttpServerProtocol::armIdle() {
  if (!clock_ || options_.idleTimeout <= 0) return;
  if (idleCall_.active()) {
    idleCall_.reset(options_.idleTimeout);
    return;
  }
  std::weak_ptr<reactor::Protocol> weak = weak_from_this();
  idleCall_ = clock_->callLater(options_.idleTimeout, [weak, this] {
    if (auto self = weak.lock()) onTimeout(false);
  });
}

void HttpServerProtocol::armRequestTimer() {
  if (!clock_ || options_.requestTimeout <= 0 || requestCall_.active()) return;
  std::weak_ptr<reactor::Protocol> weak = weak_from_this();
  requestCall_ = clock_->callLater(options_.requestTimeout, [weak, this] {
    if (auto self = weak.lock()) onTimeout(true);
  });
}

void HttpServerProtocol::cancelTimers() {
  if (idleCall_.active()) idleCall_.cancel();
  if (requestCall_.active()) requestCall_.cancel();
}

void HttpServerProtocol::onTimeout(bool wholeRequest) {
  if (closing_ || stream_ || !connected()) return;
  if (wholeRequest || parser_->midRequest()) {
    refuse(408);
  } else {
    closeAfterAnswer();
  }
}

void HttpServerProtocol::connectionLost(const reactor::Failure& reason) {
  (void)reason;
  closing_ = true;
  cancelTimers();
  input_.clear();
  if (auto stream = std::move(stream_)) stream->connectionClosed();
}

void HttpServerProtocol::pauseProducing() {
  paused_ = true;
  transport().pauseProducing();
}

void HttpServerProtocol::resumeProducing() {
  paused_ = false;
  if (closing_ || !connected()) return;
  // The client has read its answers: answer what is held, then read again.
  process();
  if (!paused_ && !closing_) transport().resumeProducing();
}

HttpServerFactory::HttpServerFactory(Handler handler, reactor::IReactorTime* clock, HttpOptions options)
    : handler_(std::move(handler)), clock_(clock), options_(options) {}

std::shared_ptr<reactor::Protocol> HttpServerFactory::buildProtocol(const reactor::Address& addr) {
  (void)addr;
  auto p = std::make_shared<HttpServerProtocol>(handler_, clock_, options_);
  adopt(*p);
  return p;
}

std::shared_ptr<reactor::IListeningPort> listenHTTP(reactor::Reactor& reactor, std::string_view endpoint,
                                                    std::shared_ptr<HttpServerFactory> factory) {
  return reactor::serverFromString(reactor, endpoint)->listen(std::move(factory));
}

}  // namespace http
