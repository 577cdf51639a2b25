// The "http:" entry of a server configuration (protocols/config/http_entry_config.h): its shape,
// defaults and every refusal, each naming the JSON path.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "protocols/config/server_config.h"
#include "tests/protocols/config/config_test_support.h"
#include "tests/support/temp_dir.h"

using modbus::testing::errorOf;

namespace {

std::string withHttp(const std::string& http) {
  return R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}, )" + http +
         R"(], "units": {"1": {"coils": {"count": 1}}}})";
}

}  // namespace

TEST_CASE("http entry: the issue's shape is read, with the reactor endpoint it listens on") {
  auto config = modbus::parseServerConfig(withHttp(R"({"endpoint": "http:9102:interface=127.0.0.1", "serve": ["metrics"]})"));
  REQUIRE(config.http.has_value());
  CHECK(config.servers.size() == 1);  // the http: entry is not a Modbus server
  CHECK(config.http->listen == "tcp:9102:interface=127.0.0.1");
  CHECK(config.http->serve == std::vector<std::string>{"metrics"});
  CHECK(config.http->token.empty());
  CHECK(config.http->jsonPath == "servers[1]");
}

TEST_CASE("http entry: without an interface it binds 127.0.0.1, not every interface") {
  auto config = modbus::parseServerConfig(withHttp(R"({"endpoint": "http:0", "serve": ["metrics"]})"));
  REQUIRE(config.http.has_value());
  CHECK(config.http->interface == "127.0.0.1");
  CHECK(config.http->listen == "tcp:0:interface=127.0.0.1");
  config = modbus::parseServerConfig(withHttp(R"({"endpoint": "http:0:interface=\\:\\:1", "serve": ["metrics"]})"));
  CHECK(config.http->listen == "tcp6:0:interface=\\:\\:1");
}

TEST_CASE("http entry: a non-loopback interface requires token_file, whose first line is the token") {
  CHECK(errorOf(withHttp(R"({"endpoint": "http:9102:interface=0.0.0.0", "serve": ["metrics"]})"))
            .rfind("servers[1]: serving HTTP on 0.0.0.0 (beyond this machine) requires \"token_file\"", 0) == 0);
  testsupport::TempDir dir;
  std::ofstream(dir.file("token")) << "  s3cret \nsecond line\n";
  auto config = modbus::parseServerConfig(withHttp(R"({"endpoint": "http:9102:interface=0.0.0.0", "serve": ["metrics"], "token_file": ")" +
                                                   dir.file("token") + "\"}"));
  CHECK(config.http->token == "s3cret");
  std::ofstream(dir.file("blank")) << "\n";
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0", "serve": ["metrics"], "token_file": ")" + dir.file("blank") + "\"}"))
            .rfind("servers[1].token_file: ", 0) == 0);
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0", "serve": ["metrics"], "token_file": "/nonexistent/token"})")) ==
        "servers[1].token_file: /nonexistent/token: cannot be read, or holds no token");
}

TEST_CASE("http entry: every malformed field is refused with its JSON path") {
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0"})")) ==
        "servers[1]: missing \"serve\" (what to serve over HTTP, e.g. [\"metrics\"])");
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0", "serve": []})")).rfind("servers[1].serve: serves nothing", 0) == 0);
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0", "serve": "metrics"})")).rfind("servers[1].serve: expected an array", 0) == 0);
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0", "serve": ["registers"]})")) ==
        "servers[1].serve[0]: \"registers\" cannot be served (known: \"metrics\")");
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0", "serve": ["metrics", "metrics"]})")) ==
        "servers[1].serve[1]: \"metrics\" is listed twice");
  CHECK(errorOf(withHttp(R"({"endpoint": "http:99999", "serve": ["metrics"]})")).rfind("servers[1].endpoint: ", 0) == 0);
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0:interface=not-an-ip", "serve": ["metrics"]})"))
            .rfind("servers[1].endpoint: ", 0) == 0);
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0:backlog=5", "serve": ["metrics"]})")).rfind("servers[1].endpoint: ", 0) == 0);
  CHECK(errorOf(withHttp(R"({"endpoint": "http:0", "serve": ["metrics"], "max_connections": 5})"))
            .rfind("servers[1]", 0) == 0);
}

TEST_CASE("http entry: a second http: entry, or http: alone, is refused") {
  CHECK(errorOf(R"({"servers": [{"endpoint": "tcp:0"}, {"endpoint": "http:0", "serve": ["metrics"]},
                                {"endpoint": "http:1", "serve": ["metrics"]}], "units": {"1": {"coils": {"count": 1}}}})") ==
        "servers[2]: a second \"http:\" entry (servers[1] is one)");
  CHECK(errorOf(R"({"servers": [{"endpoint": "http:0", "serve": ["metrics"]}], "units": {"1": {"coils": {"count": 1}}}})")
            .rfind("servers: no Modbus servers defined", 0) == 0);
}

TEST_CASE("http entry: a Modbus server after it keeps its own JSON path in messages") {
  const std::string json = R"({"servers": [{"endpoint": "http:0", "serve": ["metrics"]}, {"endpoint": "udp:0"}],
                               "units": {"1": {"remote": {"endpoint": "tcp:127.0.0.1:1502"}}}})";
  CHECK(errorOf(json).rfind("servers[1].endpoint: a udp: server cannot answer", 0) == 0);
}
