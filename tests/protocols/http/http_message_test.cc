// HTTP message values: header lookup, percent-decoding, query parameters, status phrases and the
// serialized response.
#include <doctest/doctest.h>

#include "protocols/http/http_message.h"
#include "protocols/http/http_server.h"

using namespace http;

TEST_CASE("header names compare case-insensitively, set replaces every field of that name") {
  Headers h;
  h.add("Content-Type", "a");
  h.add("content-type", "b");
  CHECK(h.get("CONTENT-TYPE").value_or("") == "a");
  h.set("Content-type", "c");
  CHECK(h.size() == 1);
  CHECK(h.get("content-type").value_or("") == "c");
  CHECK_FALSE(h.get("x").has_value());
}

TEST_CASE("percentDecode decodes %XX and refuses bad escapes and NUL") {
  CHECK(percentDecode("a%20b%2F%2e").value_or("?") == "a b/.");
  CHECK(percentDecode("a+b").value_or("?") == "a+b");
  CHECK_FALSE(percentDecode("%").has_value());
  CHECK_FALSE(percentDecode("%4").has_value());
  CHECK_FALSE(percentDecode("%g0").has_value());
  CHECK_FALSE(percentDecode("%00").has_value());
}

TEST_CASE("query parameters are decoded, '+' is a space, the first match wins") {
  Request r;
  r.query = "a=1&name=x+y%21&a=2&flag";
  CHECK(r.queryParam("a").value_or("?") == "1");
  CHECK(r.queryParam("name").value_or("?") == "x y!");
  CHECK(r.queryParam("flag").value_or("?") == "");
  CHECK_FALSE(r.queryParam("b").has_value());
}

TEST_CASE("statusReason knows the statuses the server sends") {
  CHECK(statusReason(200) == "OK");
  CHECK(statusReason(400) == "Bad Request");
  CHECK(statusReason(404) == "Not Found");
  CHECK(statusReason(405) == "Method Not Allowed");
  CHECK(statusReason(408) == "Request Timeout");
  CHECK(statusReason(413) == "Content Too Large");
  CHECK(statusReason(431) == "Request Header Fields Too Large");
  CHECK(statusReason(799) == "Unknown");
}

TEST_CASE("the server owns Content-Length and Connection, 204 and 304 carry no length") {
  Response r = Response::text(200, "hi");
  r.headers.set("Content-Length", "999");
  r.headers.set("Connection", "keep-alive");
  CHECK(serializeResponse(r, true, false, true) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nhi");
  CHECK(serializeResponse(r, false, false, false) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
  Response none;
  none.status = 204;
  none.body = "ignored";
  CHECK(serializeResponse(none, true, true, true) == "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
}

TEST_CASE("formField decodes a form body as a query string is decoded") {
  CHECK(formField("token=a+b%3Bc&x=1", "token") == std::optional<std::string>("a b;c"));
  CHECK(formField("x=1", "token") == std::nullopt);
  CHECK(formField("token=%zz", "token") == std::nullopt);
  CHECK(formField("", "token") == std::nullopt);
}

TEST_CASE("cookie finds a name in any Cookie header and returns its value as sent") {
  Headers h;
  h.add("Cookie", "a=1; theme=dark");
  h.add("cookie", "token=abc");
  CHECK(cookie(h, "theme") == std::optional<std::string_view>("dark"));
  CHECK(cookie(h, "token") == std::optional<std::string_view>("abc"));
  CHECK(cookie(h, "them") == std::nullopt);
  CHECK(cookie(Headers{}, "a") == std::nullopt);
}
