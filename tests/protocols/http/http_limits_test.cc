// Every limit of the HTTP server and its status: 400 malformed, 413 body, 431 header size and
// count; exactly at a limit is still served; the same status whatever the split; garbage never
// crashes or stalls the connection.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "protocols/http/detail/request_parser.h"
#include "tests/protocols/http/http_test_support.h"

using namespace http;
using http::testing::Connection;
using http::testing::echoAnswer;

namespace {

HttpOptions small() {
  HttpOptions o;
  o.maxHeaderBytes = 64;
  o.maxHeaderCount = 3;
  o.maxBodyBytes = 10;
  return o;
}

// The status line the server sent first ("" if none).
std::string statusLine(const std::string& out) { return out.substr(0, out.find("\r\n")); }

// Sends `request` to a fresh connection split at every offset and byte by byte; every time the
// first answer's status line must be `status` and (for an error) the connection must close.
void checkStatusAtEverySplit(const std::string& request, const std::string& status, bool closes) {
  for (std::size_t split = 0; split <= request.size(); ++split) {
    Connection c(http::testing::echo, small());
    c.send(request.substr(0, split));
    c.send(request.substr(split));
    CAPTURE(split);
    CHECK(statusLine(c.out()) == status);
    CHECK(c.closing() == closes);
  }
  Connection c(http::testing::echo, small());
  c.sendBytewise(request);
  CHECK(statusLine(c.out()) == status);
  CHECK(c.closing() == closes);
}

}  // namespace

TEST_CASE("malformed requests get 400 and the connection closes") {
  for (const char* bad : {"NOPE / HTTP/1.1\r\n\r\n", "GET / HTTP/9.9.9\r\n\r\n", "GET  HTTP/1.1\r\n\r\n",
                          "GET / HTTP/1.1\r\nBad Header\r\n\r\n", "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                          "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                          "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"}) {
    CAPTURE(bad);
    Connection c;
    c.send(bad);
    CHECK(statusLine(c.out()) == "HTTP/1.1 400 Bad Request");
    CHECK(c.out().find("Connection: close\r\n") != std::string::npos);
    CHECK(c.closing());
  }
}

TEST_CASE("400 at every split of a malformed request") {
  checkStatusAtEverySplit("GET / HTTP/1.1\r\nBad Header\r\n\r\n", "HTTP/1.1 400 Bad Request", true);
}

TEST_CASE("request line and headers over maxHeaderBytes get 431") {
  // 64 bytes counted: target + names + values. "/" + "Host" + "x" = 6; a 58-byte value reaches 64.
  std::string at = "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(57, 'v') + "\r\n\r\n";
  checkStatusAtEverySplit(at, "HTTP/1.1 200 OK", false);
  std::string over = "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(58, 'v') + "\r\n\r\n";
  checkStatusAtEverySplit(over, "HTTP/1.1 431 Request Header Fields Too Large", true);
  std::string longTarget = "GET /" + std::string(64, 'a') + " HTTP/1.1\r\n\r\n";
  checkStatusAtEverySplit(longTarget, "HTTP/1.1 431 Request Header Fields Too Large", true);
}

TEST_CASE("431 is sent before the oversized header has all arrived") {
  Connection c(http::testing::echo, small());
  c.send("GET / HTTP/1.1\r\nX: " + std::string(200, 'v'));
  CHECK(statusLine(c.out()) == "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST_CASE("more than maxHeaderCount fields get 431, exactly the limit is served") {
  checkStatusAtEverySplit("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", "HTTP/1.1 200 OK", false);
  checkStatusAtEverySplit("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
                          "HTTP/1.1 431 Request Header Fields Too Large", true);
}

TEST_CASE("trailers count towards maxHeaderCount") {
  checkStatusAtEverySplit("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nT1: 1\r\nT2: 2\r\n\r\n",
                          "HTTP/1.1 200 OK", false);
  checkStatusAtEverySplit(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nT1: 1\r\nT2: 2\r\nT3: 3\r\n\r\n",
      "HTTP/1.1 431 Request Header Fields Too Large", true);
}

TEST_CASE("a Content-Length over maxBodyBytes gets 413 before the body is sent") {
  Connection c(http::testing::echo, small());
  c.send("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
  CHECK(statusLine(c.out()) == "HTTP/1.1 413 Content Too Large");
  CHECK(c.closing());
  checkStatusAtEverySplit("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", "HTTP/1.1 200 OK", false);
  checkStatusAtEverySplit("POST / HTTP/1.1\r\nContent-Length: 99999999999999999\r\n\r\n",
                          "HTTP/1.1 413 Content Too Large", true);
}

TEST_CASE("a chunked body that grows over maxBodyBytes gets 413") {
  checkStatusAtEverySplit("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n",
                          "HTTP/1.1 200 OK", false);
  checkStatusAtEverySplit(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n56789a\r\n0\r\n\r\n",
      "HTTP/1.1 413 Content Too Large", true);
}

TEST_CASE("an error answers only what came before it: earlier pipelined requests are served") {
  Connection c(http::testing::echo, small());
  c.send("GET /1 HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 50\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
  std::string first = echoAnswer("GET", "/1");
  CHECK(c.out().substr(0, first.size()) == first);
  CHECK(statusLine(c.out().substr(first.size())) == "HTTP/1.1 413 Content Too Large");
  CHECK(c.protocol->requestCount() == 1);
}

TEST_CASE("the parser reports the same error again after failing") {
  detail::RequestParser parser;
  auto r = parser.feed("BAD\r\n\r\n");
  CHECK(r.status == detail::RequestParser::Status::Error);
  CHECK(r.errorStatus == 400);
  auto again = parser.feed("GET / HTTP/1.1\r\n\r\n");
  CHECK(again.status == detail::RequestParser::Status::Error);
  CHECK(again.errorStatus == 400);
}

TEST_CASE("pseudo-random garbage never crashes, and every connection ends answered or waiting") {
  std::uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return static_cast<unsigned char>(seed >> 16);
  };
  const std::string prefix = "GET / HTTP/1.1\r\n";
  for (int round = 0; round < 500; ++round) {
    std::string input = round % 2 ? prefix : std::string();
    std::size_t n = next() % 200;
    for (std::size_t i = 0; i < n; ++i) input.push_back(static_cast<char>(next()));
    Connection c(http::testing::echo, small());
    c.send(input);
    // Either refused with a status and closing, or the server is still waiting for more.
    if (c.closing()) CHECK(c.out().rfind("HTTP/1.1 ", 0) == 0);
  }
}
