// ConnectionLog: what one server logs about its connections, with a bound. Every connect,
// disconnect, refusal, server-side close and output pause is counted by kind; the first `burst`
// lines of each kind in a window go out at info, the rest at debug, and the window's end logs one
// info line saying how many were suppressed and the totals of refusals, closes and pauses since
// start. Connection churn (or an attack) therefore costs a bounded number of info lines per window
// however fast it goes, and a quiet server logs nothing extra.
// Rules kept: the log line is only formatted when it is written (reactor::log checks the level);
// counting is a plain increment; without a clock nothing is limited (every line at its level, no
// summary). One timer at a time, started by the first event of a window, cancelled with this object.
// The rate limiter is generic enough for reactor/log.h and should move there (it lives here because
// reactor/ belongs to another helper in this wave).
// Tests: tests/protocols/serving/connection_log_test.cc, and through modbus_server_factory_test.cc.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "reactor/delayed_call.h"
#include "reactor/log.h"

namespace modbus {

/// What happened to a connection, for counting and for the log.
enum class ConnectionEvent : std::uint8_t {
  Connected,
  Disconnected,
  RefusedPerPeer,  ///< refused at accept: its peer address had maxConnectionsPerPeer open
  RefusedFull,     ///< refused at accept: maxConnections open and none could be evicted
  EvictedIdle,     ///< closed to make room for a newcomer: the stalest connection (idle longest or frame overdue)
  FrameDeadline,   ///< closed: a frame started and not completed within frameTimeout
  IdleTimeout,     ///< closed: nothing received for idleTimeout
  OutputPaused,    ///< stopped reading: the client did not read its answers (maxBufferedOutput)
  FramingError,    ///< closed: a stream the framer cannot resynchronise
};
inline constexpr std::size_t kConnectionEventCount = 9;

/// The spelling of `event` in log lines ("per-peer limit", "idle timeout", ...).
const char* connectionEventName(ConnectionEvent event);

class ConnectionLog {
 public:
  /// `burst` info lines per kind per `windowSeconds`.
  ConnectionLog(std::size_t burst, double windowSeconds) : burst_(burst), windowSeconds_(windowSeconds) {}
  ~ConnectionLog();
  ConnectionLog(const ConnectionLog&) = delete;
  ConnectionLog& operator=(const ConnectionLog&) = delete;

  /// The clock windows are measured on (the server's reactor); null = no limiting, no summary.
  void setClock(reactor::IReactorTime* clock) { clock_ = clock; }

  /// Counts `event` and logs the message at `level`, or at debug once this window's burst of
  /// `event` lines is spent.
  template <class... Args>
  void record(ConnectionEvent event, reactor::log::Level level, const Args&... message) {
    const auto i = static_cast<std::size_t>(event);
    ++totals_[i];
    ++windowCounts_[i];
    if (clock_) startWindow();
    if (clock_ && windowCounts_[i] > burst_) {
      ++suppressed_[i];
      level = reactor::log::Level::Debug;
    }
    reactor::log::emit(level, message...);
  }

  /// Events of this kind since start.
  std::uint64_t total(ConnectionEvent event) const { return totals_[static_cast<std::size_t>(event)]; }

 private:
  void startWindow();
  /// The window's end: one summary line if anything was suppressed or refused/closed/paused.
  void summarise();

  std::size_t burst_;
  double windowSeconds_;
  reactor::IReactorTime* clock_ = nullptr;
  reactor::DelayedCall windowEnd_;
  std::array<std::uint64_t, kConnectionEventCount> totals_{};
  std::array<std::uint64_t, kConnectionEventCount> windowCounts_{};
  std::array<std::uint64_t, kConnectionEventCount> suppressed_{};
};

}  // namespace modbus
