// RtuBench: RTU request/response pairs over a pseudo-terminal's master side, one at a time.
#include "bench/loadgen/rtu_bench.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <vector>

#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/load_client.h"
#include "bench/loadgen/proc_stats.h"

namespace bench {
namespace {

double ownCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double nowSeconds() { return static_cast<double>(nowNanos()) / 1e9; }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

pid_t readPidFile(const std::string& path) {
  if (path.empty()) return 0;
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

/// Writes all of `bytes` to a non-blocking fd, polling for room until `deadline`.
bool writeAll(int fd, const std::uint8_t* bytes, std::size_t size, double deadline) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, bytes + done, size - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    double left = deadline - nowSeconds();
    if (left <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
  }
  return true;
}

/// Discards whatever arrives during `seconds` (to resynchronise after a bad reply).
void drain(int fd, double seconds) {
  const double end = nowSeconds() + seconds;
  std::uint8_t buf[512];
  while (true) {
    double left = end - nowSeconds();
    if (left <= 0) return;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
    if (::read(fd, buf, sizeof buf) < 0 && errno != EAGAIN && errno != EINTR) return;
  }
}

struct Exchange {
  RtuReplyStatus status = RtuReplyStatus::NeedMore;  ///< NeedMore here means: timed out
  std::int64_t sentNanos = 0;
  std::int64_t doneNanos = 0;
};

/// One request, then read until its reply is complete (or wrong), or `timeout` passes.
Exchange exchange(int fd, const std::array<std::uint8_t, 8>& request, const RtuBenchOptions& o,
                  std::vector<std::uint8_t>& reply, double timeout) {
  Exchange ex;
  reply.clear();
  ex.sentNanos = nowNanos();
  const double deadline = static_cast<double>(ex.sentNanos) / 1e9 + timeout;
  if (!writeAll(fd, request.data(), request.size(), deadline)) return ex;
  std::uint8_t buf[512];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      reply.insert(reply.end(), buf, buf + n);
      ex.status = checkRtuReply(o.request, reply, o.expectAddressValues);
      if (ex.status != RtuReplyStatus::NeedMore) {
        ex.doneNanos = nowNanos();
        return ex;
      }
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return ex;
    double left = deadline - nowSeconds();
    if (left <= 0) return ex;
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
  }
}

}  // namespace

RtuBenchResult runRtuBench(const RtuBenchOptions& o, const std::function<void(const std::string&)>& onPty) {
  const auto request = o.request.encode();  // validates the request
  if (!(o.duration > 0) || !(o.warmup >= 0) || !(o.startTimeout > 0) || !(o.replyTimeout > 0)) {
    throw std::invalid_argument("RTU bench: duration, start and reply timeouts must be > 0, warmup >= 0");
  }
  RtuBenchResult r;
  r.line = rtuLineRate(o.baud, o.bitsPerCharacter, request.size(), o.request.replyLength());

  int masterFd = -1;
  int slaveFd = -1;
  if (::openpty(&masterFd, &slaveFd, nullptr, nullptr, nullptr) != 0) {
    throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
  }
  Fd master(masterFd);
  Fd slave(slaveFd);  // kept open so the master never sees a hang-up between the server's opens
  termios tio{};
  if (::tcgetattr(slaveFd, &tio) == 0) {
    ::cfmakeraw(&tio);
    ::cfsetspeed(&tio, B115200);
    ::tcsetattr(slaveFd, TCSANOW, &tio);
  }
  ::fcntl(masterFd, F_SETFL, ::fcntl(masterFd, F_GETFL) | O_NONBLOCK);
  r.ptyPath = ::ptsname(masterFd) ? ::ptsname(masterFd) : "";
  onPty(r.ptyPath);

  // Wait for the server: a probe every 100 ms until one gets a valid reply. Probes written before
  // the server opened the slave are flushed by its open.
  std::vector<std::uint8_t> reply;
  reply.reserve(512);
  const double startDeadline = nowSeconds() + o.startTimeout;
  while (nowSeconds() < startDeadline) {
    Exchange ex = exchange(masterFd, request, o, reply, 0.1);
    if (ex.status == RtuReplyStatus::Ok) {
      r.serverReady = true;
      break;
    }
    if (ex.status != RtuReplyStatus::NeedMore) drain(masterFd, 0.05);
  }
  if (!r.serverReady) return r;
  drain(masterFd, 0.05);  // a second answer to an earlier probe, if any

  auto count = [&r](RtuReplyStatus status) {
    ++r.errors;
    ++r.errorsByKind[status == RtuReplyStatus::NeedMore ? "timeout" : rtuReplyStatusName(status)];
  };
  LatencyHistogram histogram;
  const double runEnd = nowSeconds() + o.warmup + o.duration + 5.0;  // the overall bound
  // Warmup, then the measured window.
  const double warmupEnd = nowSeconds() + o.warmup;
  while (nowSeconds() < warmupEnd) {
    Exchange ex = exchange(masterFd, request, o, reply, o.replyTimeout);
    if (ex.status != RtuReplyStatus::Ok) {
      count(ex.status);
      drain(masterFd, 0.02);
    }
  }
  const pid_t serverPid = readPidFile(o.serverPidFile);
  std::optional<ProcSample> serverStart;
  if (serverPid > 0) serverStart = sampleProcess(serverPid);
  const double cpuStart = ownCpuSeconds();
  const std::int64_t start = nowNanos();
  const std::int64_t end = start + static_cast<std::int64_t>(o.duration * 1e9);
  while (nowNanos() < end) {
    if (nowSeconds() > runEnd) {
      r.timedOut = true;
      break;
    }
    Exchange ex = exchange(masterFd, request, o, reply, o.replyTimeout);
    if (ex.status == RtuReplyStatus::Ok) {
      histogram.record(static_cast<std::uint64_t>(ex.doneNanos - ex.sentNanos));
      ++r.pairs;
    } else {
      count(ex.status);
      drain(masterFd, 0.02);
    }
  }
  const std::int64_t stop = nowNanos();
  r.measuredSeconds = static_cast<double>(stop - start) / 1e9;
  r.pairsPerSecond = static_cast<double>(r.pairs) / r.measuredSeconds;
  r.ratioToLine = r.pairsPerSecond / r.line.pairsPerSecond;
  r.p50Us = histogram.percentileMicros(50);
  r.p99Us = histogram.percentileMicros(99);
  r.maxUs = histogram.maxMicros();
  r.meanUs = histogram.meanMicros();
  r.loadgenCpuPercent = 100.0 * (ownCpuSeconds() - cpuStart) / r.measuredSeconds;
  if (serverStart) {
    if (auto now = sampleProcess(serverPid)) {
      r.haveServer = true;
      r.serverCpuSeconds = now->cpuSeconds - serverStart->cpuSeconds;
      r.serverCpuPercent = 100.0 * r.serverCpuSeconds / r.measuredSeconds;
      if (r.pairs > 0) r.serverCpuUsPerRequest = r.serverCpuSeconds * 1e6 / static_cast<double>(r.pairs);
      r.serverPeakRssKb = now->hwmKb;
    }
  }
  return r;
}

}  // namespace bench
