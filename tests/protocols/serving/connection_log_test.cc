// ConnectionLog on a ManualClock: a burst of lines per kind per window at their level, the rest at
// debug, one summary line at the window's end with the suppressed counts and the totals; nothing
// limited without a clock.
#include <doctest/doctest.h>

#include <string>

#include "protocols/serving/connection_log.h"
#include "tests/support/reactor_harness.h"

using modbus::ConnectionEvent;
using modbus::ConnectionLog;
using reactor::log::Level;

TEST_CASE("a connection log writes a burst of each kind per window, then one summary line counting the rest") {
  reactor::testing::LogCapture capture;
  reactor::ManualClock clock;
  ConnectionLog log(2, 10);
  log.setClock(&clock);
  for (int i = 0; i < 5; ++i) log.record(ConnectionEvent::Connected, Level::Info, "client connected: ", i);
  log.record(ConnectionEvent::IdleTimeout, Level::Info, "client idle");
  CHECK(capture.lines.size() == 3);  // 2 connected lines and the idle one
  CHECK(log.total(ConnectionEvent::Connected) == 5);
  clock.advance(9.9);
  CHECK(capture.lines.size() == 3);
  clock.advance(0.1);
  REQUIRE(capture.lines.size() == 4);
  CHECK(capture.lines.back().find("connections in the last 10 s: 5 connected (3 lines suppressed); 1 closed (idle "
                                  "timeout); since start: 0 refused (per-peer limit), 0 refused (max_connections), "
                                  "0 evicted (stalest, to make room), 0 closed (frame deadline), 1 closed (idle "
                                  "timeout), 0 paused (output not read), 0 closed (framing error)") !=
        std::string::npos);
  log.record(ConnectionEvent::Connected, Level::Info, "client connected: again");  // a new window, a new burst
  CHECK(capture.lines.size() == 5);
}

TEST_CASE("a window with only a few connects and disconnects, each logged, ends without a summary") {
  reactor::testing::LogCapture capture;
  reactor::ManualClock clock;
  ConnectionLog log(10, 10);
  log.setClock(&clock);
  log.record(ConnectionEvent::Connected, Level::Info, "client connected");
  log.record(ConnectionEvent::Disconnected, Level::Info, "client disconnected");
  clock.advance(10);
  CHECK(capture.lines.size() == 2);
}

TEST_CASE("without a clock a connection log limits nothing") {
  reactor::testing::LogCapture capture;
  ConnectionLog log(2, 10);
  for (int i = 0; i < 5; ++i) log.record(ConnectionEvent::Connected, Level::Info, "client connected: ", i);
  CHECK(capture.lines.size() == 5);
  CHECK(log.total(ConnectionEvent::Connected) == 5);
}
