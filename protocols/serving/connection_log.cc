// ConnectionLog: the counted, rate-limited connection lines and the per-window summary.
#include "protocols/serving/connection_log.h"

#include <sstream>

namespace modbus {

const char* connectionEventName(ConnectionEvent event) {
  switch (event) {
    case ConnectionEvent::Connected: return "connected";
    case ConnectionEvent::Disconnected: return "disconnected";
    case ConnectionEvent::RefusedPerPeer: return "refused (per-peer limit)";
    case ConnectionEvent::RefusedFull: return "refused (max_connections)";
    case ConnectionEvent::EvictedIdle: return "evicted (stalest, to make room)";
    case ConnectionEvent::FrameDeadline: return "closed (frame deadline)";
    case ConnectionEvent::IdleTimeout: return "closed (idle timeout)";
    case ConnectionEvent::OutputPaused: return "paused (output not read)";
    case ConnectionEvent::FramingError: return "closed (framing error)";
  }
  return "?";
}

ConnectionLog::~ConnectionLog() {
  if (windowEnd_.active()) windowEnd_.cancel();
}

void ConnectionLog::startWindow() {
  if (windowEnd_.active()) return;
  windowEnd_ = clock_->callLater(windowSeconds_, [this] { summarise(); });
}

void ConnectionLog::summarise() {
  bool worthSaying = false;
  std::ostringstream line;
  line << "connections in the last " << windowSeconds_ << " s:";
  for (std::size_t i = 0; i < kConnectionEventCount; ++i) {
    if (windowCounts_[i] == 0) continue;
    const auto event = static_cast<ConnectionEvent>(i);
    line << ' ' << windowCounts_[i] << ' ' << connectionEventName(event);
    if (suppressed_[i] > 0) line << " (" << suppressed_[i] << " lines suppressed)";
    line << ';';
    worthSaying = worthSaying || suppressed_[i] > 0 ||
                  (event != ConnectionEvent::Connected && event != ConnectionEvent::Disconnected);
  }
  windowCounts_.fill(0);
  suppressed_.fill(0);
  if (!worthSaying) return;  // a few connections, each logged already
  line << " since start:";
  for (std::size_t i = static_cast<std::size_t>(ConnectionEvent::RefusedPerPeer); i < kConnectionEventCount; ++i) {
    line << ' ' << totals_[i] << ' ' << connectionEventName(static_cast<ConnectionEvent>(i))
         << (i + 1 < kConnectionEventCount ? "," : "");
  }
  reactor::log::info(line.str());
}

}  // namespace modbus
