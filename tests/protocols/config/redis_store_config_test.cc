// "store" and "redis" in the JSON configuration (redis_store_config.h): which units go to Redis,
// the checked "redis" object, and every refusal naming its JSON path.
#include "protocols/config/redis_store_config.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/protocols/config/config_test_support.h"
#include "tests/support/subprocess.h"

using modbus::testing::errorOf;
using modbus::testing::withUnits;

namespace {

const std::string kUnits = R"({"1": {"holding_registers": {"count": 10}}, "2": {"coils": {"count": 8}}})";

}  // namespace

TEST_CASE("redis store config: a top-level store of redis moves every unit out of the memory context") {
  auto c = modbus::parseServerConfig(withUnits(kUnits, R"("store": "redis", "redis": {"endpoint": "tcp:10.0.0.5:6380", "prefix": "plant", "timeout": 0.25})"));
  CHECK(c.redisUnits.size() == 2);
  CHECK(c.context->find(1) == nullptr);
  REQUIRE(c.redis.has_value());
  CHECK(c.redis->options.host == "10.0.0.5");
  CHECK(c.redis->options.port == 6380);
  CHECK(c.redis->options.prefix == "plant");
  CHECK(c.redis->options.timeout == 0.25);
  CHECK(c.redis->options.password.empty());
  // Each unit keeps its tables: the layout, the seed values and the request checks.
  REQUIRE(c.redisUnits.at(1)->holdingRegisters() != nullptr);
  CHECK(c.redisUnits.at(1)->holdingRegisters()->validate(0, 10));
}

TEST_CASE("redis store config: a unix:PATH endpoint selects Redis's UNIX socket") {
  for (const char* endpoint : {"unix:/run/redis/redis.sock", "unix:path=/run/redis/redis.sock"}) {
    CAPTURE(endpoint);
    auto c = modbus::parseServerConfig(
        withUnits(kUnits, std::string(R"("store": "redis", "redis": {"endpoint": ")") + endpoint + R"("})"));
    REQUIRE(c.redis.has_value());
    CHECK(c.redis->options.unixPath == "/run/redis/redis.sock");
  }
}

TEST_CASE("redis store config: a unit's own store overrides the top-level one, both ways") {
  auto c = modbus::parseServerConfig(withUnits(
      R"({"1": {"store": "redis", "holding_registers": {"count": 10}}, "2": {"coils": {"count": 8}}})",
      R"("redis": {})"));
  CHECK(c.redisUnits.count(1) == 1);
  CHECK(c.context->find(2) != nullptr);
  CHECK(c.redis->options.host == "127.0.0.1");  // the defaults
  CHECK(c.redis->options.port == 6379);
  CHECK(c.redis->options.prefix == "uvmodbus");
  auto d = modbus::parseServerConfig(withUnits(
      R"({"1": {"store": "memory", "holding_registers": {"count": 10}}, "2": {"coils": {"count": 8}}})",
      R"("store": "redis", "redis": {})"));
  CHECK(d.context->find(1) != nullptr);
  CHECK(d.redisUnits.count(2) == 1);
  // "memory" everywhere: nothing in Redis, and no "redis" object needed.
  auto m = modbus::parseServerConfig(withUnits(kUnits, R"("store": "memory")"));
  CHECK(m.redisUnits.empty());
  CHECK_FALSE(m.redis.has_value());
}

TEST_CASE("redis store config: the password is read from password_file, without its final newline") {
  const std::string path = testsupport::buildDir() + "/redis_store_config_test_password";
  std::ofstream(path) << "pa ss\n";
  auto c = modbus::parseServerConfig(withUnits(kUnits, R"("store": "redis", "redis": {"password_file": ")" + path + "\"}"));
  CHECK(c.redis->options.password == "pa ss");
  std::ofstream(path) << "\n";
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"password_file": ")" + path + "\"}")) ==
        "redis.password_file: \"" + path + "\" is empty (it must hold the Redis password)");
  std::remove(path.c_str());
}

TEST_CASE("redis store config: bad values are refused naming their JSON path") {
  CHECK(errorOf(withUnits(kUnits, R"("store": "sql")")) == "store: \"sql\" is not a store (use \"memory\", \"persistent\" or \"redis\")");
  CHECK(errorOf(withUnits(kUnits, R"("store": 1)")) == "store: expected a string, got a number");
  CHECK(errorOf(withUnits(R"({"1": {"store": "disk", "coils": {"count": 1}}})")) ==
        "units.1.store: \"disk\" is not a store (use \"memory\", \"persistent\" or \"redis\")");
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis")")).find("configuration: units are stored in Redis") == 0);
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"endpoint": "tcp:host"})")).find("redis.endpoint: ") == 0);
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"endpoint": "tcp:host:99999"})")) ==
        "redis.endpoint: '99999' is not a port (1..65535)");
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"endpoint": "udp:host:6379"})")) ==
        "redis.endpoint: Redis needs a tcp:HOST:PORT or unix:PATH endpoint, not 'udp:'");
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"endpoint": "unix:"})")) ==
        "redis.endpoint: a unix: Redis endpoint needs the socket's path (unix:PATH)");
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"endpoint": "unix:/run/r.sock:mode=1"})")) ==
        "redis.endpoint: unknown keyword 'mode' for endpoint 'unix'");
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"prefix": ""})")) ==
        "redis.prefix: must be a non-empty name without spaces");
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"prefix": "a b"})")) ==
        "redis.prefix: must be a non-empty name without spaces");
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"timeout": 0})")) ==
        "redis.timeout: a request timeout must be more than 0 seconds");
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"password_file": "/nonexistent/pw"})"))
            .find("redis.password_file: cannot read \"/nonexistent/pw\"") == 0);
  CHECK(errorOf(withUnits(kUnits, R"("store": "redis", "redis": {"host": "x"})")).find("redis.host: unknown key") == 0);
  CHECK(errorOf(R"({"servers": [{"endpoint": "tcp:0"}], "single": true, "store": "redis", "redis": {},
                    "units": {"1": {"coils": {"count": 1}}}})") ==
        "units.1: a unit in Redis needs \"single\": false (its keys are named by unit id)");
}

TEST_CASE("redis store config: udp and serial servers cannot serve units in Redis") {
  CHECK(errorOf(R"({"servers": [{"endpoint": "udp:0:interface=127.0.0.1"}], "store": "redis", "redis": {},
                    "units": {"3": {"coils": {"count": 1}}}})")
            .find("servers[0].endpoint: a udp: server cannot answer the asynchronous units (\"remote\" or "
                  "\"store\": \"redis\": unit 3)") == 0);
}
