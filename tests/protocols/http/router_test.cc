// The router (literal and {param} segments, "*" tails, 404, 405 with Allow, HEAD) and the JSON
// body helpers.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "protocols/http/detail/json_body.h"
#include "protocols/http/router.h"
#include "tests/protocols/http/http_test_support.h"

using namespace http;

namespace {

Request request(std::string method, std::string path, std::string body = {}) {
  Request r;
  r.method = std::move(method);
  r.target = path;
  std::size_t q = path.find('?');
  r.path = path.substr(0, q);
  if (q != std::string::npos) r.query = path.substr(q + 1);
  r.body = std::move(body);
  return r;
}

Router sample() {
  Router router;
  router.get("/", [](Request&) { return Response::text(200, "root"); });
  router.get("/api/v1/devices", [](Request&) { return Response::text(200, "list"); });
  router.get("/api/v1/devices/{id}", [](Request& r) { return Response::text(200, "device " + std::string(r.param("id"))); });
  router.put("/api/v1/devices/{id}", [](Request& r) { return Response::text(200, "put " + std::string(r.param("id"))); });
  router.get("/api/v1/devices/{id}/registers/{table}/{address}", [](Request& r) {
    return Response::text(200, std::string(r.param("id")) + ":" + std::string(r.param("table")) + ":" +
                                   std::string(r.param("address")));
  });
  router.get("/static/*", [](Request& r) { return Response::text(200, "file " + std::string(r.param("*"))); });
  return router;
}

}  // namespace

TEST_CASE("routes match literal paths and {param} segments, percent-decoded") {
  Router router = sample();
  auto root = request("GET", "/");
  CHECK(router.handle(root).body == "root");
  auto list = request("GET", "/api/v1/devices");
  CHECK(router.handle(list).body == "list");
  auto one = request("GET", "/api/v1/devices/7");
  CHECK(router.handle(one).body == "device 7");
  auto encoded = request("GET", "/api/v1/devices/a%20b");
  CHECK(router.handle(encoded).body == "device a b");
  auto three = request("GET", "/api/v1/devices/1/registers/holding/40");
  CHECK(router.handle(three).body == "1:holding:40");
  auto put = request("PUT", "/api/v1/devices/9");
  CHECK(router.handle(put).body == "put 9");
}

TEST_CASE("a path no route matches is 404, an empty {param} segment does not match") {
  Router router = sample();
  for (const char* path : {"/nope", "/api/v1/devices/", "/api/v1/devices/1/extra", "/api", "/api/v1/devices/1/registers/x"}) {
    CAPTURE(path);
    auto r = request("GET", path);
    CHECK(router.handle(r).status == 404);
  }
}

TEST_CASE("a path matched with another method is 405 with Allow") {
  Router router = sample();
  auto post = request("POST", "/api/v1/devices/3");
  Response r = router.handle(post);
  CHECK(r.status == 405);
  CHECK(r.headers.get("Allow").value_or("") == "GET, HEAD, PUT");
  auto del = request("DELETE", "/");
  Response d = router.handle(del);
  CHECK(d.status == 405);
  CHECK(d.headers.get("Allow").value_or("") == "GET, HEAD");
}

TEST_CASE("HEAD runs the GET route") {
  Router router = sample();
  auto head = request("HEAD", "/api/v1/devices/5");
  CHECK(router.handle(head).body == "device 5");
}

TEST_CASE("a \"*\" tail takes the rest of the path, still encoded") {
  Router router = sample();
  auto r = request("GET", "/static/css/a%20b.css");
  CHECK(router.handle(r).body == "file css/a%20b.css");
  auto empty = request("GET", "/static/");
  CHECK(router.handle(empty).body == "file ");
}

TEST_CASE("a path that does not percent-decode is 400") {
  Router router = sample();
  for (const char* path : {"/api/v1/devices/%zz", "/%", "/a%0", "/x%00y"}) {
    CAPTURE(path);
    auto r = request("GET", path);
    CHECK(router.handle(r).status == 400);
  }
}

TEST_CASE("the fallback answers what no route matches, but not a 405") {
  Router router = sample();
  router.fallback([](Request&) { return Response::text(200, "fallback"); });
  auto miss = request("GET", "/elsewhere");
  CHECK(router.handle(miss).body == "fallback");
  auto wrongMethod = request("POST", "/");
  CHECK(router.handle(wrongMethod).status == 405);
}

TEST_CASE("a router serves a connection: 404 and 405 on the wire") {
  auto router = std::make_shared<Router>(sample());
  http::testing::Connection c(Router::asHandler(router));
  c.send("GET /api/v1/devices/12 HTTP/1.1\r\n\r\nGET /missing HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  CHECK(c.out() ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\n\r\ndevice 12"
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\n404 Not Found\n"
        "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nAllow: GET, HEAD\r\n"
        "Content-Length: 23\r\n\r\n405 Method Not Allowed\n");
  CHECK_FALSE(c.closing());
}

TEST_CASE("JSON bodies: parse a request body, answer a JSON value, refuse what is not JSON") {
  Router router;
  router.post("/api/v1/sum", [](Request& r) {
    auto body = parseJsonBody(r);
    if (!body || !body->is_object() || !(*body)["values"].is_array()) return jsonError(400, "expected {\"values\": [...]}");
    long long sum = 0;
    for (const auto& v : (*body)["values"]) sum += v.get<long long>();
    return jsonResponse({{"sum", sum}});
  });
  auto ok = request("POST", "/api/v1/sum", R"({"values": [1, 2, 39]})");
  Response r = router.handle(ok);
  CHECK(r.status == 200);
  CHECK(r.headers.get("Content-Type").value_or("") == "application/json");
  CHECK(r.body == R"({"sum":42})");
  auto bad = request("POST", "/api/v1/sum", "{not json");
  Response b = router.handle(bad);
  CHECK(b.status == 400);
  CHECK(b.body == R"({"error":"expected {\"values\": [...]}"})");
}

TEST_CASE("jsonResponse replaces invalid UTF-8 instead of throwing") {
  Response r = jsonResponse(nlohmann::json{{"s", std::string("a\xff")}});
  CHECK(r.body == "{\"s\":\"a\xef\xbf\xbd\"}");
}
