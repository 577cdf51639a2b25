// RESP encoding (ours) checked against hiredis's own formatter, and replies decoded by hiredis's
// reader through our Reply view, byte by byte where it matters.
#include <doctest/doctest.h>

#include <hiredis/hiredis.h>

#include <string>
#include <string_view>
#include <vector>

#include "protocols/redis/resp.h"
#include "reactor/bytes.h"

namespace {

std::string hiredisFormat(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  char* out = nullptr;
  int n = redisFormatCommandArgv(&out, static_cast<int>(args.size()), argv.data(), lengths.data());
  REQUIRE(n > 0);
  std::string s(out, static_cast<std::size_t>(n));
  redisFreeCommand(out);
  return s;
}

std::span<const std::uint8_t> bytes(std::string_view s) { return reactor::asBytes(s); }

}  // namespace

TEST_CASE("appendCommand encodes an array of bulk strings exactly as hiredis does") {
  std::string out;
  redis::appendCommand(out, {"HMGET", "p:1:hr", "0", "1"});
  CHECK(out == "*4\r\n$5\r\nHMGET\r\n$6\r\np:1:hr\r\n$1\r\n0\r\n$1\r\n1\r\n");
  CHECK(out == hiredisFormat({"HMGET", "p:1:hr", "0", "1"}));
  // Binary-safe: spaces, CR LF and NUL travel inside the length-prefixed argument.
  std::string binary("a b\r\n\0z", 7);
  out.clear();
  std::string_view args[] = {"SET", binary};
  redis::appendCommand(out, args);
  CHECK(out == hiredisFormat({"SET", binary}));
}

TEST_CASE("CommandWriter writes its count first and numbers as decimal arguments") {
  std::string out = "prefix";
  redis::CommandWriter w(out, 3);
  CHECK_FALSE(w.complete());
  w.arg("HGET");
  w.arg(std::int64_t{-12});
  w.arg(std::int64_t{65535});
  CHECK(w.complete());
  CHECK(out == "prefix" + hiredisFormat({"HGET", "-12", "65535"}));
}

TEST_CASE("ReplyReader decodes every reply type, across split feeds") {
  redis::ReplyReader reader;
  const std::string wire = "+OK\r\n-ERR wrong\r\n:42\r\n$-1\r\n*3\r\n$2\r\n17\r\n$-1\r\n$5\r\n65535\r\n";
  // One byte at a time: nothing is lost between feeds.
  std::vector<std::string> seen;
  for (char c : wire) {
    reader.feed(bytes(std::string_view(&c, 1)));
    while (reader.next([&](const redis::Reply& r) {
      switch (r.type()) {
        case redis::Reply::Type::Status: seen.push_back("status " + std::string(r.string())); break;
        case redis::Reply::Type::Error: seen.push_back("error " + std::string(r.string())); break;
        case redis::Reply::Type::Integer: seen.push_back("integer " + std::to_string(r.integer())); break;
        case redis::Reply::Type::Nil: seen.push_back("nil"); break;
        case redis::Reply::Type::String: seen.push_back("string " + std::string(r.string())); break;
        case redis::Reply::Type::Array: {
          std::string s = "array";
          for (std::size_t i = 0; i < r.size(); ++i) {
            auto e = r.element(i);
            s += e.type() == redis::Reply::Type::Nil ? " nil" : " " + std::string(e.string());
          }
          seen.push_back(s);
          break;
        }
      }
    })) {
    }
  }
  CHECK(seen == std::vector<std::string>{"status OK", "error ERR wrong", "integer 42", "nil", "array 17 nil 65535"});
}

TEST_CASE("ReplyReader refuses bytes that are not RESP, and reset() starts clean") {
  redis::ReplyReader reader;
  reader.feed(bytes("?garbage\r\n"));
  CHECK_THROWS_AS(reader.next([](const redis::Reply&) {}), redis::ProtocolError);
  reader.reset();
  reader.feed(bytes(":7\r\n"));
  std::int64_t got = 0;
  CHECK(reader.next([&](const redis::Reply& r) { got = r.integer(); }));
  CHECK(got == 7);
  CHECK_FALSE(reader.next([](const redis::Reply&) {}));
}

TEST_CASE("parseInteger accepts whole decimal numbers in range only") {
  CHECK(redis::parseInteger("65535", 0, 65535) == 65535);
  CHECK(redis::parseInteger("0", 0, 1) == 0);
  CHECK_FALSE(redis::parseInteger("65536", 0, 65535).has_value());
  CHECK_FALSE(redis::parseInteger("-1", 0, 65535).has_value());
  CHECK_FALSE(redis::parseInteger("12a", 0, 65535).has_value());
  CHECK_FALSE(redis::parseInteger("", 0, 65535).has_value());
  CHECK_FALSE(redis::parseInteger(" 1", 0, 65535).has_value());
}
