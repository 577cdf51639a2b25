// LogRing: installed in front of the previous sink, it keeps the newest lines (bounded), newest
// first, downloads them oldest first, clears, and restores the sink when it goes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "protocols/simulator/log_ring.h"
#include "reactor/log.h"

using namespace modbus;

TEST_CASE("log ring: keeps lines newest first and passes them on to the sink it was put in front of") {
  std::vector<std::string> passed;
  {
    LogRing ring(3);
    ring.install([&](reactor::log::Level, std::string_view line) { passed.emplace_back(line); });
    for (int i = 1; i <= 5; ++i) reactor::log::warning("line ", i);
    const auto lines = ring.newestFirst();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].text == "line 5");
    CHECK(lines[2].text == "line 3");
    CHECK(lines[0].number == 5);
    CHECK(static_cast<int>(lines[0].level) == static_cast<int>(reactor::log::Level::Warning));
    const std::string file = ring.download();
    CHECK(file.find("line 3") < file.find("line 5"));  // oldest first in the file
    CHECK(file.find("warning") != std::string::npos);
    ring.clear();
    CHECK(ring.size() == 0);
    reactor::log::warning("after clear");
    CHECK(ring.newestFirst().at(0).number == 6);  // numbering goes on
  }
  CHECK(passed.size() == 6);
  reactor::log::warning("after the ring");  // the ring is gone: its sink is the previous one again
  CHECK(passed.size() == 7);
  reactor::log::setSink(nullptr);
}

TEST_CASE("log ring: a very long line is cut to kMaxLineBytes") {
  LogRing ring(2);
  ring.add(reactor::log::Level::Info, std::string(LogRing::kMaxLineBytes + 100, 'x'));
  CHECK(ring.newestFirst().at(0).text.size() == LogRing::kMaxLineBytes);
}
