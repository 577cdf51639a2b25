// LogRing: the newest log lines of the process, kept for the simulator's Log page (pymodbus's is a
// placeholder). A bounded ring fed by reactor/log.h's sink: install() puts it in front of whatever
// sink the program had (or stderr), so nothing that was logged before stops being logged.
// Rules: at most `capacity` lines of at most kMaxLineBytes each (longer lines are cut); the oldest
// goes first. A mutex guards the ring: a line may be logged from another thread (callFromThread
// work, a Deferred's thread), and logging is never on the request path.
// Tests: tests/protocols/simulator/log_ring_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/log.h"

namespace modbus {

struct LogLine {
  std::uint64_t number = 0;  ///< 1 for the first line kept since start (cleared lines keep counting)
  double time = 0;           ///< seconds since the Unix epoch
  reactor::log::Level level = reactor::log::Level::Info;
  std::string text;
};

class LogRing {
 public:
  static constexpr std::size_t kMaxLineBytes = 2048;

  explicit LogRing(std::size_t capacity = 1000) : capacity_(capacity) {}
  ~LogRing();
  LogRing(const LogRing&) = delete;
  LogRing& operator=(const LogRing&) = delete;

  /// Becomes the log sink; every line is kept, then passed to `next` (empty: stderr, as without a
  /// sink). Uninstalled by the destructor (the sink is then `next` again).
  void install(reactor::log::Sink next = {});
  void add(reactor::log::Level level, std::string_view text);
  /// The kept lines, newest first.
  std::vector<LogLine> newestFirst() const;
  /// The kept lines as a text file, oldest first: "2026-12-06T01:02:03Z info    text".
  std::string download() const;
  void clear();
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::deque<LogLine> lines_;
  std::uint64_t next_ = 1;
  bool installed_ = false;
  reactor::log::Sink previous_;
};

/// "2026-12-06T01:02:03Z" for seconds since the epoch.
std::string isoTime(double unixSeconds);

}  // namespace modbus
