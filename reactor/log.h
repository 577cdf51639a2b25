// A small leveled logger: one line per event, to stderr by default, replaceable sink.
#pragma once

#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace reactor::log {

enum class Level { Debug = 0, Info, Warning, Error, Critical, Off };

void setLevel(Level level);
Level level();
inline bool enabled(Level l) { return l >= level(); }
/// "debug", "info", "warning", "error", "critical", "off" (case-insensitive).
std::optional<Level> parseLevel(std::string_view name);
const char* toString(Level level);

using Sink = std::function<void(Level, std::string_view)>;
/// Replaces where lines go; an empty sink restores stderr. Not thread-safe: set it before run().
void setSink(Sink sink);
void write(Level level, std::string_view message);
/// What write() does without a sink: one time-stamped line on stderr. For sinks that keep it.
void writeToStderr(Level level, std::string_view message);

template <class... Args>
void emit(Level l, const Args&... args) {
  if (!enabled(l)) return;
  std::ostringstream out;
  (out << ... << args);
  write(l, out.str());
}
template <class... Args> void debug(const Args&... a) { emit(Level::Debug, a...); }
template <class... Args> void info(const Args&... a) { emit(Level::Info, a...); }
template <class... Args> void warning(const Args&... a) { emit(Level::Warning, a...); }
template <class... Args> void error(const Args&... a) { emit(Level::Error, a...); }

}  // namespace reactor::log
