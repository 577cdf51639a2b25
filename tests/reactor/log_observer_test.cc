// Structured log events (twisted.logger's observers, Logger namespaces, formatEvent / eventAsJSON)
// and the reopenable log file.
#include "reactor/log_observer.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <stdexcept>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "reactor/log.h"
#include "tests/support/temp_dir.h"

namespace rlog = reactor::log;

namespace {

struct Recorded {
  rlog::Level level;
  std::string ns;
  std::string message;
  std::vector<rlog::Field> fields;
  double time;
};

/// Records every event while it lives.
class Recorder {
 public:
  Recorder()
      : id_(rlog::addObserver([this](const rlog::Event& e) {
          events.push_back({e.level, std::string(e.ns), std::string(e.message), *e.fields, e.time});
        })) {}
  ~Recorder() { rlog::removeObserver(id_); }
  std::vector<Recorded> events;

 private:
  rlog::ObserverId id_;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("rlog::info makes an event in the default namespace that observers receive") {
  Recorder r;
  rlog::info("listening on ", 5020);
  REQUIRE(r.events.size() == 1);
  CHECK(static_cast<int>(r.events[0].level) == static_cast<int>(rlog::Level::Info));
  CHECK(r.events[0].ns == "uvmodbus");
  CHECK(r.events[0].message == "listening on 5020");
  CHECK(r.events[0].fields.empty());
  CHECK(r.events[0].time > 1.6e9);  // seconds since the epoch
}

TEST_CASE("events below the level reach no observer, and a removed observer receives nothing more") {
  std::vector<std::string> seen;
  auto id = rlog::addObserver([&](const rlog::Event& e) { seen.emplace_back(e.message); });
  rlog::debug("hidden");  // the default level is info
  rlog::warning("shown");
  rlog::removeObserver(id);
  rlog::warning("after removal");
  CHECK(seen == std::vector<std::string>{"shown"});
}

TEST_CASE("Logger carries its namespace and fields to observers") {
  Recorder r;
  rlog::Logger logger("modbus.server");
  logger.warn("client refused", {{"peer", std::string("10.0.0.7")}, {"open", std::int64_t{100}}, {"full", true}});
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].ns == "modbus.server");
  CHECK(static_cast<int>(r.events[0].level) == static_cast<int>(rlog::Level::Warning));
  REQUIRE(r.events[0].fields.size() == 3);
  CHECK(r.events[0].fields[0].key == "peer");
  CHECK(std::get<std::string>(r.events[0].fields[0].value) == "10.0.0.7");
  CHECK(std::get<std::int64_t>(r.events[0].fields[1].value) == 100);
}

TEST_CASE("an observer that throws does not stop the others, and one that logs does not recurse") {
  int second = 0;
  auto a = rlog::addObserver([](const rlog::Event&) { throw std::runtime_error("broken observer"); });
  auto b = rlog::addObserver([&](const rlog::Event& e) {
    ++second;
    if (e.message == "outer") rlog::info("inner");  // goes to stderr, not round the observers again
  });
  rlog::info("outer");
  rlog::removeObserver(a);
  rlog::removeObserver(b);
  CHECK(second == 1);
}

TEST_CASE("the text formatter writes the stderr line, with the namespace and fields when there are some") {
  std::vector<rlog::Field> none;
  rlog::Event plain{rlog::Level::Info, rlog::kDefaultNamespace, "hello", &none, 1733459400.25};
  CHECK(rlog::formatEventAsText(plain) == "2024-12-06T04:30:00.250Z info    hello");
  std::vector<rlog::Field> fields{{"port", std::int64_t{502}}, {"who", std::string("a b")}, {"ok", false}};
  rlog::Event rich{rlog::Level::Error, "modbus", "failed", &fields, 1733459400.0};
  CHECK(rlog::formatEventAsText(rich) == "2024-12-06T04:30:00.000Z error   [modbus] failed port=502 who=\"a b\" ok=false");
}

TEST_CASE("the JSON formatter writes one object that parses back, with control characters escaped") {
  std::vector<rlog::Field> fields{{"port", std::int64_t{502}}, {"ratio", 0.5}, {"note", std::string("tab\there \"q\"")}};
  rlog::Event e{rlog::Level::Warning, "modbus.tcp", "line1\nline2\x01", &fields, 1733459400.5};
  const std::string line = rlog::formatEventAsJson(e);
  CHECK(line.find('\n') == std::string::npos);
  auto j = nlohmann::json::parse(line);
  CHECK(j.at("level") == "warning");
  CHECK(j.at("namespace") == "modbus.tcp");
  CHECK(j.at("message") == "line1\nline2\x01");
  CHECK(j.at("timestamp") == "2024-12-06T04:30:00.500Z");
  CHECK(j.at("time").get<double>() == doctest::Approx(1733459400.5));
  CHECK(j.at("fields").at("port") == 502);
  CHECK(j.at("fields").at("ratio") == 0.5);
  CHECK(j.at("fields").at("note") == "tab\there \"q\"");
  CHECK(rlog::parseFormat("json").value() == rlog::Format::Json);
  CHECK(rlog::parseFormat("text").value() == rlog::Format::Text);
  CHECK_FALSE(rlog::parseFormat("xml").has_value());
}

TEST_CASE("FileLogObserver appends lines and, after a rename, reopen() starts a new file at the path") {
  testsupport::TempDir dir;
  const std::string path = dir.file("server.log");
  { std::ofstream(path) << "kept\n"; }
  rlog::FileLogObserver file(path, rlog::Format::Text);
  {
    rlog::ScopedObserver observing(file.observer());
    rlog::info("first");
    std::filesystem::rename(path, dir.file("server.log.1"));
    rlog::info("second");  // still into the renamed file, as with logrotate before the signal
    CHECK(file.reopen());
    rlog::info("third");
  }
  rlog::info("not observed");
  const std::string rotated = readFile(dir.file("server.log.1"));
  const std::string fresh = readFile(path);
  CHECK(rotated.rfind("kept\n", 0) == 0);
  CHECK(rotated.find("first") != std::string::npos);
  CHECK(rotated.find("second") != std::string::npos);
  CHECK(rotated.find("third") == std::string::npos);
  CHECK(fresh.find("third") != std::string::npos);
  CHECK(fresh.find("not observed") == std::string::npos);
  CHECK_THROWS_AS(rlog::FileLogObserver(dir.file("missing/dir/x.log"), rlog::Format::Text), std::runtime_error);
}
