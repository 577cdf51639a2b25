// A small leveled logger whose lines are also structured events, as twisted.logger's are: each
// carries a level, a namespace (Twisted's log_namespace / log_system), the message, named fields
// and the time. Observers (addObserver) receive every event; formatters turn one into a text line
// or a JSON object (reactor/log_observer.h holds them and a file observer that reopens on request).
// Without an observer or a sink, an event is one time-stamped line on stderr, as it always was.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace reactor::log {

enum class Level { Debug = 0, Info, Warning, Error, Critical, Off };

void setLevel(Level level);
Level level();
inline bool enabled(Level l) { return l >= level(); }
/// "debug", "info", "warning", "error", "critical", "off" (case-insensitive).
std::optional<Level> parseLevel(std::string_view name);
const char* toString(Level level);

/// One named value of an event (Twisted's event keys beyond log_format): text, integer, real or flag.
struct Field {
  std::string key;
  std::variant<std::string, std::int64_t, double, bool> value;
};

/// Twisted's event dictionary, for observers. Valid during the observer call only.
struct Event {
  Level level = Level::Info;
  std::string_view ns;       ///< Twisted's log_namespace: "uvmodbus" for the free functions below
  std::string_view message;  ///< the formatted text (Twisted's log_format, already rendered)
  const std::vector<Field>* fields = nullptr;  ///< never null inside an observer call
  double time = 0;           ///< seconds since the Unix epoch (Twisted's log_time)
};

/// The namespace of events written through write()/info()/... without one.
inline constexpr std::string_view kDefaultNamespace = "uvmodbus";

using Observer = std::function<void(const Event&)>;
using ObserverId = std::uint64_t;
/// Twisted's globalLogPublisher.addObserver: `observer` receives every event at or above level()
/// from now on, on the thread that logs it (observers are called one at a time, under a lock). An
/// observer that throws is ignored for that event. While any observer is registered, events no
/// longer go to stderr by default (an observer writing there is added instead).
ObserverId addObserver(Observer observer);
/// Unknown ids are ignored.
void removeObserver(ObserverId id);

/// Logs one structured event: to the observers, then to the sink or (with neither) stderr.
void writeEvent(Level level, std::string_view ns, std::string_view message, const std::vector<Field>& fields = {});

/// Twisted's Logger(namespace=...): events carrying a namespace and fields.
/// `Logger("modbus.server").info("listening", {{"port", std::int64_t{502}}})`.
class Logger {
 public:
  explicit Logger(std::string ns) : ns_(std::move(ns)) {}
  const std::string& ns() const { return ns_; }
  void emit(Level l, std::string_view message, std::vector<Field> fields = {}) const {
    if (enabled(l)) writeEvent(l, ns_, message, fields);
  }
  void debug(std::string_view m, std::vector<Field> f = {}) const { emit(Level::Debug, m, std::move(f)); }
  void info(std::string_view m, std::vector<Field> f = {}) const { emit(Level::Info, m, std::move(f)); }
  void warn(std::string_view m, std::vector<Field> f = {}) const { emit(Level::Warning, m, std::move(f)); }
  void error(std::string_view m, std::vector<Field> f = {}) const { emit(Level::Error, m, std::move(f)); }
  void critical(std::string_view m, std::vector<Field> f = {}) const { emit(Level::Critical, m, std::move(f)); }

 private:
  std::string ns_;
};

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
