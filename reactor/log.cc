// Leveled logging to stderr (or a sink the application sets).
#include "reactor/log.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace reactor::log {
namespace {
Level gLevel = Level::Info;
Sink gSink;
}  // namespace

void setLevel(Level level) { gLevel = level; }
Level level() { return gLevel; }

const char* toString(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warning: return "warning";
    case Level::Error: return "error";
    case Level::Critical: return "critical";
    case Level::Off: return "off";
  }
  return "?";
}

std::optional<Level> parseLevel(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (Level l : {Level::Debug, Level::Info, Level::Warning, Level::Error, Level::Critical, Level::Off}) {
    if (lower == toString(l)) return l;
  }
  if (lower == "warn") return Level::Warning;
  return std::nullopt;
}

void setSink(Sink sink) { gSink = std::move(sink); }

void write(Level level, std::string_view message) {
  if (gSink) {
    gSink(level, message);
    return;
  }
  writeToStderr(level, message);
}

void writeToStderr(Level level, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ %-7s %.*s\n", stamp, static_cast<int>(ms), toString(level),
               static_cast<int>(message.size()), message.data());
}

}  // namespace reactor::log
