// The shared process harness for integration tests: start a program, read its output line by line
// with timeouts (poll, never sleep), signal it, and always reap it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace testsupport {

class Subprocess {
 public:
  /// Starts argv[0] (a path) with the arguments; stdin is /dev/null, stdout and stderr are captured
  /// through one pipe (interleaved). extraEnv entries are "NAME=value". Throws std::runtime_error.
  explicit Subprocess(std::vector<std::string> argv, std::vector<std::string> extraEnv = {});
  /// If still running: SIGTERM, wait up to 5 s, then SIGKILL; always reaps it. Never leaves a process.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const;
  /// Reads output until a line matches `regex` (std::regex_search) or `timeoutSeconds` pass (poll(),
  /// no sleeping); returns the capture groups (element 0 = whole match), or nullopt on timeout/exit.
  /// Lines up to and including a matched line are consumed: the next call looks after it.
  std::optional<std::vector<std::string>> waitForLine(const std::string& regex, double timeoutSeconds);
  /// Sends `sig` (no-op once the process has been reaped).
  void signal(int sig);
  /// Waits for exit; returns the exit code (128+signal if killed by a signal), nullopt on timeout.
  std::optional<int> wait(double timeoutSeconds);
  /// Everything captured so far.
  std::string output();

 private:
  /// Reads what the pipe has now, or waits up to `timeoutMs` for something (or for the exit).
  void pump(int timeoutMs);
  bool tryReap();

  pid_t pid_ = -1;
  int outFd_ = -1;    // read end of the stdout+stderr pipe; -1 after EOF
  int pidFd_ = -1;    // readable when the process exits (pidfd_open); -1 if unsupported
  bool reaped_ = false;
  int status_ = 0;
  std::string output_;
  std::size_t consumed_ = 0;  // output_[0, consumed_) was matched by waitForLine already
};

/// The build dir and source dir (from the UVMODBUS_BUILD_DIR / UVMODBUS_SOURCE_DIR environment
/// variables CTest sets; fall back to the compile-time paths).
std::string buildDir();
std::string sourceDir();

}  // namespace testsupport
