// Formatting events as text or JSON lines, and the reopenable log file.
#include "reactor/log_observer.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace reactor::log {
namespace {

/// "2026-12-06T04:30:00.123Z" for `time` seconds since the epoch (UTC, as stderr lines are).
std::string timestamp(double time) {
  double whole = std::floor(time);
  auto t = static_cast<std::time_t>(whole);
  int ms = static_cast<int>((time - whole) * 1000.0);
  if (ms > 999) ms = 999;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", stamp, ms);
  return out;
}

void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned char>(c));
          out += esc;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string number(double v) {
  if (!std::isfinite(v)) return "null";  // JSON has no NaN or infinity
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string textValue(const Field& f) {
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          if (v.empty() || v.find_first_of(" \t\"=") != std::string::npos) {
            std::string quoted;
            appendJsonString(quoted, v);
            return quoted;
          }
          return v;
        } else if constexpr (std::is_same_v<V, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<V, double>) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%g", v);
          return buf;
        } else {
          return std::to_string(v);
        }
      },
      f.value);
}

void appendJsonValue(std::string& out, const Field& f) {
  std::visit(
      [&out](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          appendJsonString(out, v);
        } else if constexpr (std::is_same_v<V, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<V, double>) {
          out += number(v);
        } else {
          out += std::to_string(v);
        }
      },
      f.value);
}

}  // namespace

std::optional<Format> parseFormat(std::string_view name) {
  if (name == "text") return Format::Text;
  if (name == "json") return Format::Json;
  return std::nullopt;
}

std::string formatEventAsText(const Event& event) {
  char level[16];
  std::snprintf(level, sizeof level, "%-7s", toString(event.level));
  std::string line = timestamp(event.time) + " " + level + " ";
  if (event.ns != kDefaultNamespace && !event.ns.empty()) {
    line += "[";
    line += event.ns;
    line += "] ";
  }
  line += event.message;
  if (event.fields) {
    for (const auto& f : *event.fields) line += " " + f.key + "=" + textValue(f);
  }
  return line;
}

std::string formatEventAsJson(const Event& event) {
  std::string out = "{\"time\":" + number(event.time) + ",\"timestamp\":\"" + timestamp(event.time) +
                    "\",\"level\":\"" + toString(event.level) + "\",\"namespace\":";
  appendJsonString(out, event.ns);
  out += ",\"message\":";
  appendJsonString(out, event.message);
  out += ",\"fields\":{";
  if (event.fields) {
    bool first = true;
    for (const auto& f : *event.fields) {
      if (!first) out += ',';
      first = false;
      appendJsonString(out, f.key);
      out += ':';
      appendJsonValue(out, f);
    }
  }
  out += "}}";
  return out;
}

std::string formatEvent(const Event& event, Format format) {
  return format == Format::Json ? formatEventAsJson(event) : formatEventAsText(event);
}

FileLogObserver::FileLogObserver(std::string path, Format format) : path_(std::move(path)), format_(format) {
  file_ = std::fopen(path_.c_str(), "a");
  if (file_ == nullptr) throw std::runtime_error("cannot open log file " + path_ + ": " + std::strerror(errno));
  owned_ = true;
}

FileLogObserver::FileLogObserver(FILE* stream, Format format) : format_(format), file_(stream) {}

FileLogObserver::~FileLogObserver() {
  if (owned_ && file_ != nullptr) std::fclose(file_);
}

bool FileLogObserver::reopen() {
  if (!owned_) return true;
  FILE* fresh = std::fopen(path_.c_str(), "a");
  if (fresh == nullptr) {
    int err = errno;
    // Logged after the lock is released: this observer takes the event too.
    warning("cannot reopen log file ", path_, ": ", std::strerror(err), "; still writing to the old one");
    return false;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::fclose(file_);
  file_ = fresh;
  return true;
}

void FileLogObserver::operator()(const Event& event) {
  std::string line = formatEvent(event, format_);
  line += '\n';
  std::lock_guard<std::mutex> lock(mutex_);
  // One fwrite per line and a flush: a line is whole in the file even if the process dies next.
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace reactor::log
