// Leveled logging to stderr (or a sink the application sets).
#include "reactor/log.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "reactor/log_observer.h"

namespace reactor::log {
namespace {
Level gLevel = Level::Info;
Sink gSink;
// Observers may be called from worker threads (a deferToThread function that logs): one lock
// keeps the list and the calls in one piece. Logging is never on the request path.
std::recursive_mutex gObserverMutex;  // recursive: an observer that logs must not deadlock
std::vector<std::pair<ObserverId, Observer>> gObservers;
ObserverId gNextObserverId = 1;
bool gDispatching = false;

double nowSeconds() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}
}  // namespace

ObserverId addObserver(Observer observer) {
  std::lock_guard<std::recursive_mutex> lock(gObserverMutex);
  ObserverId id = gNextObserverId++;
  gObservers.emplace_back(id, std::move(observer));
  return id;
}

void removeObserver(ObserverId id) {
  std::lock_guard<std::recursive_mutex> lock(gObserverMutex);
  std::erase_if(gObservers, [id](const auto& o) { return o.first == id; });
}

void writeEvent(Level level, std::string_view ns, std::string_view message, const std::vector<Field>& fields) {
  bool observed = false;
  {
    std::lock_guard<std::recursive_mutex> lock(gObserverMutex);
    if (!gObservers.empty() && !gDispatching) {
      observed = true;
      gDispatching = true;  // an event logged by an observer goes to the sink/stderr, not round again
      Event e{level, ns, message, &fields, nowSeconds()};
      auto observers = gObservers;  // an observer may remove itself
      for (auto& [id, o] : observers) {
        try {
          o(e);
        } catch (...) {
        }
      }
      gDispatching = false;
    }
  }
  if (gSink) {
    gSink(level, message);
    return;
  }
  if (observed) return;
  if (ns == kDefaultNamespace && fields.empty()) {
    writeToStderr(level, message);
    return;
  }
  Event e{level, ns, message, &fields, nowSeconds()};
  std::string line = formatEventAsText(e);
  std::fprintf(stderr, "%s\n", line.c_str());
}

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
  static const std::vector<Field> kNoFields;
  writeEvent(level, kDefaultNamespace, message, kNoFields);
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
