// Server-Sent Events: the wire format, a stream kept open on a connection, pushes, the close from
// either side (onClose exactly once), no idle timeout while open, and a client that stops reading.
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "protocols/http/event_stream.h"
#include "tests/protocols/http/http_test_support.h"

using namespace http;
using http::testing::Connection;

namespace {

const std::string kSubscribe = "GET /events HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n";
const std::string kHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";

// A handler that opens a stream and hands it to the test.
struct Subscriber {
  Handler handler() {
    return [this](Request&) {
      return Response::events([this](std::shared_ptr<EventStream> s) {
        stream = s;
        s->onClose([this] { ++closes; });
      });
    };
  }
  std::shared_ptr<EventStream> stream;
  int closes = 0;
};

}  // namespace

TEST_CASE("formatEvent writes event, id and one data line per line") {
  CHECK(formatEvent("x") == "data: x\n\n");
  CHECK(formatEvent("a\nb\r\nc\rd", "tick", "7") == "event: tick\nid: 7\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  CHECK(formatEvent("", "e\nvil") == "event: e vil\ndata: \n\n");
}

TEST_CASE("an event stream sends its headers, stays open and pushes events") {
  Subscriber sub;
  Connection c(sub.handler());
  c.send(kSubscribe);
  REQUIRE(sub.stream);
  CHECK(c.out() == kHead);
  CHECK(sub.stream->send("{\"v\":1}", "register"));
  CHECK(sub.stream->comment("ping"));
  CHECK(c.out() == kHead + "event: register\ndata: {\"v\":1}\n\n: ping\n\n");
  CHECK_FALSE(c.closing());
}

TEST_CASE("when the client goes, onClose runs once and sends are refused") {
  Subscriber sub;
  Connection c(sub.handler());
  c.send(kSubscribe);
  c.lose();
  CHECK(sub.closes == 1);
  CHECK(sub.stream->closed());
  CHECK_FALSE(sub.stream->send("late"));
  int late = 0;
  sub.stream->onClose([&] { ++late; });
  CHECK(late == 1);
}

TEST_CASE("close() from the server ends the connection, onClose follows connectionLost") {
  Subscriber sub;
  Connection c(sub.handler());
  c.send(kSubscribe);
  sub.stream->close();
  CHECK(c.closing());
  CHECK(sub.closes == 0);
  c.lose();
  CHECK(sub.closes == 1);
}

TEST_CASE("bytes after the subscription are ignored, and the idle timeout does not cut the stream") {
  HttpOptions o;
  o.idleTimeout = 5;
  Subscriber sub;
  Connection c(sub.handler(), o);
  c.send(kSubscribe + "GET /other HTTP/1.1\r\n\r\n");
  c.send("GET /more HTTP/1.1\r\n\r\n");
  c.clock.advance(60);
  CHECK(c.out() == kHead);
  CHECK_FALSE(c.closing());
  CHECK(c.protocol->requestCount() == 1);
}

TEST_CASE("a client that stops reading is cut off once maxBufferedOutput would be passed") {
  HttpOptions o;
  o.maxBufferedOutput = 100;
  Subscriber sub;
  Connection c(sub.handler(), o);
  c.send(kSubscribe);
  c.transport->setBufferedAmount(89);
  CHECK(sub.stream->send("123"));  // 89 + 11 ("data: 123\n\n") = 100: fits
  CHECK_FALSE(c.transport->aborted());
  c.transport->setBufferedAmount(90);
  CHECK_FALSE(sub.stream->send("123"));
  CHECK(c.transport->aborted());
}

TEST_CASE("an event stream whose opener throws is closed and the error logged") {
  Connection c([](Request&) {
    return Response::events([](std::shared_ptr<EventStream>) { throw std::runtime_error("no subscribers table"); });
  });
  reactor::testing::LogCapture log;
  c.send(kSubscribe);
  CHECK(c.out() == kHead);
  CHECK(c.closing());
  CHECK(log.count("threw: no subscribers table") == 1);
}
