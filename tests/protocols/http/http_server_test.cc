// The HTTP/1.1 server protocol over a StringTransport: answers, byte-by-byte parsing, pipelining,
// chunked bodies, keep-alive and close, HEAD, handler errors, deadlines, backpressure.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "tests/protocols/http/http_test_support.h"

using namespace http;
using http::testing::Connection;
using http::testing::echoAnswer;
using http::testing::occurrences;

namespace {

const std::string kGet = "GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kPost = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
const std::string kChunked =
    "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer-A: 1\r\n\r\n";

}  // namespace

TEST_CASE("a GET is answered with status, headers, length and body, and the connection stays open") {
  Connection c;
  c.send(kGet);
  CHECK(c.out() == echoAnswer("GET", "/a?b=1"));
  CHECK_FALSE(c.closing());
  CHECK(c.protocol->requestCount() == 1);
}

TEST_CASE("a request split at every offset gets the same answer") {
  for (const std::string* request : {&kGet, &kPost, &kChunked}) {
    for (std::size_t split = 0; split <= request->size(); ++split) {
      Connection c;
      c.send(request->substr(0, split));
      c.send(request->substr(split));
      CAPTURE(split);
      CHECK(occurrences(c.out(), "HTTP/1.1 200 OK") == 1);
      CHECK_FALSE(c.closing());
    }
  }
}

TEST_CASE("a request sent one byte at a time is answered once, after its last byte") {
  Connection c;
  for (std::size_t i = 0; i + 1 < kChunked.size(); ++i) c.send(kChunked.substr(i, 1));
  CHECK(c.out().empty());
  c.send(kChunked.substr(kChunked.size() - 1));
  CHECK(c.out() == echoAnswer("POST", "/c", "hello world"));
}

TEST_CASE("a Content-Length body reaches the handler whole") {
  Connection c;
  c.sendBytewise(kPost);
  CHECK(c.out() == echoAnswer("POST", "/p", "hello"));
}

TEST_CASE("a chunked body is de-chunked and its trailers are headers") {
  std::string trailer;
  Connection c([&](Request& r) {
    trailer = std::string(r.headers.get("trailer-a").value_or("none"));
    return http::testing::echo(r);
  });
  c.send(kChunked);
  CHECK(c.out() == echoAnswer("POST", "/c", "hello world"));
  CHECK(trailer == "1");
}

TEST_CASE("pipelined requests are answered in order, whatever the split") {
  const std::string batch = kGet + kPost + kChunked + "GET /last HTTP/1.1\r\n\r\n";
  const std::string expected =
      echoAnswer("GET", "/a?b=1") + echoAnswer("POST", "/p", "hello") + echoAnswer("POST", "/c", "hello world") +
      echoAnswer("GET", "/last");
  for (std::size_t split = 0; split <= batch.size(); ++split) {
    Connection c;
    c.send(batch.substr(0, split));
    c.send(batch.substr(split));
    CAPTURE(split);
    CHECK(c.out() == expected);
  }
  Connection c;
  c.sendBytewise(batch);
  CHECK(c.out() == expected);
  CHECK(c.protocol->requestCount() == 4);
}

TEST_CASE("Connection: close is answered with Connection: close, then the connection closes") {
  Connection c;
  c.send("GET /x HTTP/1.1\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n");
  CHECK(c.out() == echoAnswer("GET", "/x", "", true));
  CHECK(c.closing());
  c.send("GET /after HTTP/1.1\r\n\r\n");
  CHECK(c.protocol->requestCount() == 1);
}

TEST_CASE("HTTP/1.0 closes after the answer unless it asks for keep-alive") {
  Connection c;
  c.send("GET /old HTTP/1.0\r\n\r\n");
  CHECK(c.out() == echoAnswer("GET", "/old", "", true));
  CHECK(c.closing());

  Connection k;
  k.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(k.out().find("Connection: keep-alive\r\n") != std::string::npos);
  CHECK_FALSE(k.closing());
}

TEST_CASE("HEAD gets the GET answer's headers and no body") {
  Connection c;
  c.send("HEAD /h HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n");
  std::string head = echoAnswer("HEAD", "/h");
  head = head.substr(0, head.find("\r\n\r\n") + 4);
  CHECK(c.out() == head + echoAnswer("GET", "/g"));
}

TEST_CASE("a handler that throws gets 500 and the connection carries on") {
  int calls = 0;
  Connection c([&](Request& r) -> Response {
    if (++calls == 1) throw std::runtime_error("boom");
    return http::testing::echo(r);
  });
  reactor::testing::LogCapture log;
  c.send(kGet + kGet);
  CHECK(c.out().rfind("HTTP/1.1 500 Internal Server Error\r\n", 0) == 0);
  CHECK(c.out().find(echoAnswer("GET", "/a?b=1")) != std::string::npos);
  CHECK(log.count("threw: boom") == 1);
  CHECK_FALSE(c.closing());
}

TEST_CASE("a response may ask to close the connection") {
  Connection c([](Request&) {
    Response r = Response::text(200, "bye");
    r.headers.set("Connection", "close");
    return r;
  });
  c.send(kGet);
  CHECK(c.out().find("Connection: close\r\n") != std::string::npos);
  CHECK(c.closing());
}

TEST_CASE("an Upgrade request is answered, then the connection closes") {
  Connection c;
  c.send("GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
  CHECK(c.out() == echoAnswer("GET", "/ws", "", true));
  CHECK(c.closing());
}

TEST_CASE("the idle timeout closes a connection that sends nothing, and every byte restarts it") {
  HttpOptions o;
  o.idleTimeout = 10;
  o.requestTimeout = 0;
  Connection c(http::testing::echo, o);
  c.clock.advance(9.5);
  c.send(kGet);
  c.clock.advance(9.5);
  CHECK_FALSE(c.closing());
  c.clock.advance(0.5);
  CHECK(c.closing());
  CHECK(c.out() == echoAnswer("GET", "/a?b=1"));  // nothing was owed: closed without a word
}

TEST_CASE("the idle timeout answers 408 to a request it cuts off") {
  HttpOptions o;
  o.idleTimeout = 10;
  o.requestTimeout = 0;
  Connection c(http::testing::echo, o);
  c.send("GET / HTTP/1.1\r\n");
  c.clock.advance(10);
  CHECK(c.out().rfind("HTTP/1.1 408 Request Timeout\r\n", 0) == 0);
  CHECK(c.out().find("Connection: close\r\n") != std::string::npos);
  CHECK(c.closing());
}

TEST_CASE("the request timeout answers 408 to a request trickled a byte at a time") {
  HttpOptions o;
  o.idleTimeout = 10;
  o.requestTimeout = 30;
  Connection c(http::testing::echo, o);
  c.send("GET /slow HTTP/1.1\r\nX-Slow: ");
  for (int i = 0; i < 40 && !c.closing(); ++i) {
    c.clock.advance(1);
    c.send("a");
  }
  CHECK(c.clock.seconds() == doctest::Approx(30));
  CHECK(c.out().rfind("HTTP/1.1 408 Request Timeout\r\n", 0) == 0);
  CHECK(c.closing());
}

TEST_CASE("a complete request stops the request timeout") {
  HttpOptions o;
  o.idleTimeout = 0;
  o.requestTimeout = 5;
  Connection c(http::testing::echo, o);
  c.send("GET / HTTP/1.1\r\n");
  c.clock.advance(4);
  c.send("\r\n");
  c.clock.advance(100);
  CHECK(c.out() == echoAnswer("GET", "/"));
  CHECK_FALSE(c.closing());
}

TEST_CASE("while the transport pauses us, pipelined requests wait unparsed, resuming answers them") {
  Connection c;
  c.protocol->pauseProducing();
  CHECK(c.transport->producerState() == reactor::testing::StringTransport::ProducerState::Paused);
  c.send(kGet + kGet);
  CHECK(c.out().empty());
  c.protocol->resumeProducing();
  CHECK(c.out() == echoAnswer("GET", "/a?b=1") + echoAnswer("GET", "/a?b=1"));
  CHECK(c.transport->producerState() == reactor::testing::StringTransport::ProducerState::Producing);
}

TEST_CASE("the connection registers as a streaming producer with maxBufferedOutput as high-water mark") {
  HttpOptions o;
  o.maxBufferedOutput = 4096;
  Connection c(http::testing::echo, o);
  CHECK(c.transport->producer() != nullptr);
  CHECK(c.transport->streaming());
  CHECK(c.transport->writeHighWaterMark() == 4096);
  CHECK(c.transport->getTcpNoDelay());
}
