// Observers and formatters for reactor/log.h's events (twisted.logger's formatEvent /
// eventAsJSON / FileLogObserver / jsonFileLogObserver), and a log file that can be reopened after
// logrotate moved it (SIGUSR1 in uvmodbus-server).
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "reactor/log.h"

namespace reactor::log {

enum class Format { Text, Json };
/// "text" or "json".
std::optional<Format> parseFormat(std::string_view name);

/// One line, no newline: "2026-12-06T04:30:00.123Z info    message", with " [namespace]" before the
/// message when it is not the default one and " key=value" after it per field (text fields quoted
/// when they hold a blank, a quote or '='). For the default namespace without fields it is exactly
/// the line written to stderr.
std::string formatEventAsText(const Event& event);
/// One JSON object, no newline: {"time":..., "timestamp":"...Z", "level":"info",
/// "namespace":"uvmodbus", "message":"...", "fields":{"key":value,...}}. Strings are escaped per
/// RFC 8259 (control characters as \u00XX); bytes that are not UTF-8 pass through unchanged.
std::string formatEventAsJson(const Event& event);
std::string formatEvent(const Event& event, Format format);

/// An observer writing one formatted line per event to a file opened for appending. reopen() closes
/// and opens the path again: after logrotate renamed the file, the next lines go to a new file at
/// the original path. Thread-safe. Register it with addObserver(observer()) and remove it before
/// destroying this object (ScopedObserver does both).
class FileLogObserver {
 public:
  /// std::runtime_error naming the path and the reason when it cannot be opened.
  FileLogObserver(std::string path, Format format);
  /// Writes to an already open stream it does not own (stderr), which reopen() leaves alone.
  FileLogObserver(FILE* stream, Format format);
  ~FileLogObserver();
  FileLogObserver(const FileLogObserver&) = delete;
  FileLogObserver& operator=(const FileLogObserver&) = delete;

  /// False (and the old file kept) if the path cannot be opened again; the reason is logged.
  bool reopen();
  void operator()(const Event& event);
  Observer observer() {
    return [this](const Event& e) { (*this)(e); };
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Format format_;
  FILE* file_ = nullptr;
  bool owned_ = false;
  std::mutex mutex_;
};

/// addObserver in the constructor, removeObserver in the destructor.
class ScopedObserver {
 public:
  explicit ScopedObserver(Observer observer) : id_(addObserver(std::move(observer))) {}
  ~ScopedObserver() { removeObserver(id_); }
  ScopedObserver(const ScopedObserver&) = delete;
  ScopedObserver& operator=(const ScopedObserver&) = delete;

 private:
  ObserverId id_;
};

}  // namespace reactor::log
