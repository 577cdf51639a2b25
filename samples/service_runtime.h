// What makes uvmodbus-server a well-behaved Unix service (twistd's --pidfile and --logfile):
// a PID file that refuses a second instance and replaces a stale one, and the log destination
// (--logfile PATH, --log-format text|json) with the file reopened on SIGUSR1 for logrotate.
// Header-only: the commands include it; nothing in the libraries needs it.
// Tests: tests/integration/service_runtime_test.cc
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "reactor/log.h"
#include "reactor/log_observer.h"
#include "reactor/reactor.h"

namespace uvmodbus_command {

/// Thrown when another live process holds the PID file.
class PidFileBusy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// twistd's checkPID + the PID file it writes. Construct it once the process is ready to serve
/// (listening): it writes getpid() to `path`. The destructor removes the file if it still holds
/// our PID (a clean exit), so a second instance started meanwhile keeps its own.
class PidFile {
 public:
  /// Throws PidFileBusy when `path` names a live process other than us (kill(pid, 0) succeeds or
  /// fails with EPERM); a file naming a dead process, or holding no PID, is stale and replaced.
  /// Throws std::runtime_error when the file cannot be written.
  explicit PidFile(std::string path) : path_(std::move(path)) {
    if (std::optional<pid_t> other = holder(path_); other && *other != ::getpid() && alive(*other)) {
      throw PidFileBusy("PID file " + path_ + " names process " + std::to_string(*other) +
                        ", which is still running: another instance is serving");
    } else if (other && *other != ::getpid()) {
      reactor::log::warning("PID file ", path_, " named process ", *other, ", which is gone: replacing it");
    }
    // Written to a temporary and renamed: a reader never sees a half-written PID.
    const std::string temporary = path_ + ".tmp";
    {
      std::ofstream out(temporary, std::ios::trunc);
      out << ::getpid() << '\n';
      if (!out.flush()) {
        std::remove(temporary.c_str());
        throw std::runtime_error("cannot write PID file " + temporary + ": " + std::strerror(errno));
      }
    }
    if (std::rename(temporary.c_str(), path_.c_str()) != 0) {
      const int err = errno;
      std::remove(temporary.c_str());
      throw std::runtime_error("cannot write PID file " + path_ + ": " + std::strerror(err));
    }
  }
  ~PidFile() {
    if (holder(path_) == ::getpid()) std::remove(path_.c_str());
  }
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

  /// Before binding: the same refusal the constructor makes, so a second instance fails fast
  /// (exit 1) without touching the first one's ports or file.
  static void checkFree(const std::string& path) {
    if (std::optional<pid_t> other = holder(path); other && *other != ::getpid() && alive(*other)) {
      throw PidFileBusy("PID file " + path + " names process " + std::to_string(*other) +
                        ", which is still running: another instance is serving");
    }
  }

  /// The PID in `path`; nullopt if missing, unreadable or not a positive number.
  static std::optional<pid_t> holder(const std::string& path) {
    std::ifstream in(path);
    long long pid = 0;
    if (!(in >> pid) || pid <= 0 || pid > 0x7fffffff) return std::nullopt;
    return static_cast<pid_t>(pid);
  }

 private:
  static bool alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

  std::string path_;
};

/// The log destination of a command: --log-format json writes one JSON object per line (to stderr,
/// or to --logfile); --logfile PATH appends there instead of stderr. reopen() (SIGUSR1) opens the
/// path again after logrotate moved the file.
class LogDestination {
 public:
  /// Throws std::runtime_error when the file cannot be opened.
  LogDestination(const std::string& logfile, reactor::log::Format format) {
    if (!logfile.empty()) {
      observer_ = std::make_unique<reactor::log::FileLogObserver>(logfile, format);
    } else if (format == reactor::log::Format::Json) {
      observer_ = std::make_unique<reactor::log::FileLogObserver>(stderr, format);
    }
    // Text to stderr needs no observer: it is what log lines do by default.
    if (observer_) id_ = reactor::log::addObserver(observer_->observer());
  }
  ~LogDestination() {
    if (observer_) reactor::log::removeObserver(id_);
  }
  LogDestination(const LogDestination&) = delete;
  LogDestination& operator=(const LogDestination&) = delete;

  /// Installs SIGUSR1 on `reactor`: reopen the log file (a no-op without --logfile).
  void reopenOnSigusr1(reactor::Reactor& reactor) {
    reactor.addSignalHandler(SIGUSR1, [this] {
      if (observer_ && !observer_->path().empty()) {
        if (observer_->reopen()) reactor::log::info("received signal SIGUSR1: reopened log file ", observer_->path());
      } else {
        reactor::log::info("received signal SIGUSR1: no log file to reopen");
      }
    });
  }

 private:
  std::unique_ptr<reactor::log::FileLogObserver> observer_;
  reactor::log::ObserverId id_ = 0;
};

}  // namespace uvmodbus_command
