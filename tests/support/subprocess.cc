// The shared process harness: posix_spawn, one pipe for stdout+stderr, a pidfd to wait on exit.
#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <stdexcept>

extern char** environ;

namespace testsupport {
namespace {

using Clock = std::chrono::steady_clock;

std::runtime_error systemError(const std::string& what, int err) {
  return std::runtime_error("Subprocess: " + what + ": " + std::strerror(err));
}

/// Milliseconds left until `deadline` (0 when past), for poll().
int msUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > 60'000 ? 60'000 : static_cast<int>(left) + 1;
}

Clock::time_point deadlineIn(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

/// The current environment with `extra` ("NAME=value") added, replacing variables of the same name.
std::vector<std::string> mergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& x : extra) overridden = overridden || x.substr(0, x.find('=')) == name;
    if (!overridden) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> cStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv, std::vector<std::string> extraEnv) {
  if (argv.empty()) throw std::runtime_error("Subprocess: empty argv");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw systemError("pipe2", errno);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  // The child starts with default dispositions and nothing blocked, whatever this process set up
  // (a reactor here may ignore SIGPIPE, which exec would otherwise pass on).
  sigset_t defaults;
  sigset_t none;
  sigemptyset(&defaults);
  sigemptyset(&none);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> env = mergedEnvironment(extraEnv);
  std::vector<char*> cArgv = cStrings(argv);
  std::vector<char*> cEnv = cStrings(env);
  int rc = ::posix_spawn(&pid_, argv[0].c_str(), &actions, &attr, cArgv.data(), cEnv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw systemError("cannot start " + argv[0], rc);
  }
  outFd_ = fds[0];
  ::fcntl(outFd_, F_SETFL, ::fcntl(outFd_, F_GETFL) | O_NONBLOCK);
  pidFd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidFd_ >= 0) ::fcntl(pidFd_, F_SETFD, FD_CLOEXEC);
}

Subprocess::~Subprocess() {
  if (!reaped_ && !tryReap()) {
    ::kill(pid_, SIGTERM);
    if (!wait(5.0)) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
  }
  if (outFd_ >= 0) ::close(outFd_);
  if (pidFd_ >= 0) ::close(pidFd_);
}

pid_t Subprocess::pid() const { return pid_; }

bool Subprocess::tryReap() {
  if (reaped_) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = status;
  }
  return reaped_;
}

void Subprocess::pump(int timeoutMs) {
  pollfd fds[2];
  nfds_t n = 0;
  if (outFd_ >= 0) fds[n++] = pollfd{outFd_, POLLIN, 0};
  if (pidFd_ >= 0 && !reaped_) fds[n++] = pollfd{pidFd_, POLLIN, 0};
  if (n == 0) {
    // Output closed and no pidfd: nothing to wait on but the exit itself, checked in short steps.
    ::poll(nullptr, 0, timeoutMs < 10 ? timeoutMs : 10);
    return;
  }
  if (::poll(fds, n, timeoutMs) <= 0) return;
  for (nfds_t i = 0; i < n; ++i) {
    if (fds[i].fd == pidFd_ && fds[i].revents != 0) tryReap();  // exited: stop polling the pidfd
  }
  if (outFd_ < 0) return;
  char buf[4096];
  for (;;) {
    ssize_t got = ::read(outFd_, buf, sizeof buf);
    if (got > 0) {
      output_.append(buf, static_cast<std::size_t>(got));
      continue;
    }
    if (got == 0) {  // EOF: every writer (the process and anything it started) has gone
      ::close(outFd_);
      outFd_ = -1;
    } else if (errno == EINTR) {
      continue;
    }
    break;  // EAGAIN: all read for now
  }
}

std::optional<std::vector<std::string>> Subprocess::waitForLine(const std::string& regex, double timeoutSeconds) {
  std::regex re(regex);
  auto deadline = deadlineIn(timeoutSeconds);
  std::size_t scanned = consumed_;  // start of the first line not yet tried
  for (;;) {
    // Try every complete line; at EOF, the unterminated last one too.
    for (;;) {
      std::size_t nl = output_.find('\n', scanned);
      bool last = nl == std::string::npos;
      if (last && (outFd_ >= 0 || scanned >= output_.size())) break;
      std::size_t end = last ? output_.size() : nl;
      std::string line = output_.substr(scanned, end - scanned);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      scanned = last ? end : end + 1;
      std::smatch m;
      if (std::regex_search(line, m, re)) {
        consumed_ = scanned;
        std::vector<std::string> groups;
        for (const auto& g : m) groups.push_back(g.str());
        return groups;
      }
    }
    if (outFd_ < 0) return std::nullopt;  // the output has ended without a match
    int left = msUntil(deadline);
    if (left == 0) return std::nullopt;
    pump(left);
    // A process that exited but left a child holding the pipe would keep us here until the
    // deadline; that is the timeout's job.
  }
}

void Subprocess::signal(int sig) {
  if (!tryReap()) ::kill(pid_, sig);
}

std::optional<int> Subprocess::wait(double timeoutSeconds) {
  auto deadline = deadlineIn(timeoutSeconds);
  while (!tryReap()) {
    int left = msUntil(deadline);
    if (left == 0) return std::nullopt;
    pump(left);  // keeps draining the output, so the process never blocks on a full pipe
  }
  // Collect what it wrote last (the pipe may still be open if it left children behind).
  if (outFd_ >= 0) pump(0);
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return std::nullopt;
}

std::string Subprocess::output() {
  if (outFd_ >= 0) pump(0);
  return output_;
}

std::string buildDir() {
  const char* env = std::getenv("UVMODBUS_BUILD_DIR");
  return env && *env ? env : UVMODBUS_BUILD_DIR_DEFAULT;
}

std::string sourceDir() {
  const char* env = std::getenv("UVMODBUS_SOURCE_DIR");
  return env && *env ? env : UVMODBUS_SOURCE_DIR_DEFAULT;
}

}  // namespace testsupport
