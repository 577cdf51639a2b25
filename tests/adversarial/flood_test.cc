// The adversarial suite (issue 13): the real uvmodbus-server, started with the shipped defaults on
// a free loopback port, attacked as an outsider would while a legitimate client on another address
// (127.0.0.3) keeps asking for a register on fresh connections. Each test asserts figures, not "did
// not crash": the server's peak resident memory (VmHWM) and the legitimate client's worst answer time.
// Rules kept: loopback only; client sockets bound to their source address before connect; no sleeping
// (poll with deadlines, progress measured by the legitimate client's answers); every loop bounded,
// each test well under 30 s; the server is killed by PID at the end (Subprocess), every socket closed.
// The tests run one at a time (RUN_SERIAL in tests/CMakeLists.txt): the figures are the server's alone.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"

namespace {

using testsupport::Subprocess;
using Clock = std::chrono::steady_clock;

constexpr double kStartTimeout = 10.0;
constexpr const char* kListening = R"(listening on tcp 127\.0\.0\.1:(\d+))";
// The shipped defaults: nothing but the endpoint and a unit.
constexpr const char* kConfig = R"({
  "servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}],
  "units": {"1": {"holding_registers": {"start": 0, "count": 125}}}})";

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// The server under attack, started from a temporary configuration, killed by its PID at the end.
class Server {
 public:
  Server() : configPath_(testsupport::buildDir() + "/adversarial_" + std::to_string(::getpid()) + ".json") {
    const std::string binary = testsupport::buildDir() + "/uvmodbus-server";
    REQUIRE_MESSAGE(std::filesystem::exists(binary), "missing " << binary << ": build the uvmodbus-server target");
    std::ofstream(configPath_) << kConfig;
    process_.emplace(std::vector<std::string>{binary, "--config", configPath_});
    auto m = process_->waitForLine(kListening, kStartTimeout);
    REQUIRE_MESSAGE(m.has_value(), "no listening line; output:\n" << process_->output());
    port_ = std::stoi((*m)[1]);
  }
  ~Server() {
    process_.reset();
    std::remove(configPath_.c_str());
  }
  int port() const { return port_; }
  bool running() { return !process_->wait(0).has_value(); }
  /// The server's peak resident set (VmHWM, /proc/PID/status), in KiB.
  long peakRssKiB() const {
    std::ifstream status("/proc/" + std::to_string(process_->pid()) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
  }
  std::string output() { return process_->output(); }

 private:
  std::string configPath_;
  std::optional<Subprocess> process_;
  int port_ = 0;
};

/// RLIMIT_NOFILE's soft limit raised to the hard one; fails the test if that is below `needed`.
void raiseFileLimit(rlim_t needed) {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  REQUIRE_MESSAGE(limit.rlim_max >= needed, "this test needs " << needed << " file descriptors; the hard limit "
                                                               << "(ulimit -Hn) is " << limit.rlim_max);
  limit.rlim_cur = limit.rlim_max;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
}

/// A TCP socket bound to `source` and connecting (non-blocking unless `blocking`) to 127.0.0.1:port;
/// -1 if the socket could not even be made. Buffer sizes > 0 are set before connecting.
int connectFrom(const std::string& source, int port, bool blocking, int receiveBuffer = 0, int sendBuffer = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
  if (fd < 0) return -1;
  if (receiveBuffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  if (sendBuffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof sendBuffer);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Sockets closed together at the end of a test.
struct Sockets {
  ~Sockets() {
    for (int fd : fds) ::close(fd);
  }
  std::vector<int> fds;
};

/// MBAP FC3 request for `count` registers of unit 1 from address 0.
std::vector<std::uint8_t> readRequest(std::uint16_t tid, std::uint8_t count) {
  return {static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), 0, 0, 0, 6, 1, 3, 0, 0, 0, count};
}

/// A well-behaved client on 127.0.0.3, on its own thread: a fresh connection, one FC3 request, the
/// whole answer, close — again and again until stopped. It records the worst time from connect to
/// answer; a failure (refused, reset, 2 s without an answer) counts as a failure and as 2 s.
class LegitimateClient {
 public:
  explicit LegitimateClient(int port) : thread_([this, port] { run(port); }) {}
  ~LegitimateClient() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int answered() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return answered_;
  }
  int failures() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failures_;
  }
  double worstSeconds() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return worst_;
  }
  /// Blocks (bounded by `timeoutSeconds`) until `more` further answers or failures; false on timeout.
  bool waitForRequests(int more, double timeoutSeconds) {
    std::unique_lock<std::mutex> lock(mutex_);
    const int target = answered_ + failures_ + more;
    return finished_.wait_for(lock, std::chrono::duration<double>(timeoutSeconds),
                              [&] { return answered_ + failures_ >= target; });
  }

 private:
  void run(int port) {
    std::uint16_t tid = 0;
    while (!stopping_) {
      const auto start = Clock::now();
      const bool ok = askOnce(port, ++tid);
      const double took = ok ? since(start) : 2.0;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        worst_ = std::max(worst_, took);
        ++(ok ? answered_ : failures_);
      }
      finished_.notify_all();
    }
  }
  static bool askOnce(int port, std::uint16_t tid) {
    const int fd = connectFrom("127.0.0.3", port, /*blocking=*/true);
    if (fd < 0) return false;
    timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    const auto request = readRequest(tid, 1);
    bool ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
    std::uint8_t answer[11];
    std::size_t got = 0;
    while (ok && got < sizeof answer) {
      const ssize_t n = ::recv(fd, answer + got, sizeof answer - got, 0);
      ok = n > 0;
      if (ok) got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return ok && answer[0] == (tid >> 8) && answer[1] == (tid & 0xFF) && answer[7] == 3;
  }

  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable finished_;
  int answered_ = 0;
  int failures_ = 0;
  double worst_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("400 clients pipelining FC3x125 without reading keep the server under 64 MB and another peer is answered within 1 s") {
  constexpr int kClients = 400;
  // Requests each client tries to send: 192 KiB (4 MiB of answers), more than the server reads
  // before it stops reading that client; the rest waits in the kernel's socket buffers.
  constexpr std::size_t kQuota = 192 * 1024;
  raiseFileLimit(kClients + 64);
  Server server;
  LegitimateClient legit(server.port());
  REQUIRE(legit.waitForRequests(5, 5.0));

  std::vector<std::uint8_t> chunk;  // 64 KiB of pipelined FC3x125 requests
  for (std::uint16_t tid = 0; chunk.size() + 12 <= 65536; ++tid) {
    const auto r = readRequest(tid, 125);
    chunk.insert(chunk.end(), r.begin(), r.end());
  }
  // 50 clients on each of 127.0.2.1-8: within the per-peer limit (128), so all 400 are served and
  // the bound on output per connection is what is measured. Small socket buffers keep the kernel's
  // share (which VmRSS does not count) small, so the server itself must hold the backlog.
  Sockets clients;
  for (int i = 0; i < kClients; ++i) {
    const int fd = connectFrom("127.0.2." + std::to_string(1 + i / 50), server.port(), false, 4096, 65536);
    REQUIRE(fd >= 0);
    clients.fds.push_back(fd);
  }
  std::vector<std::size_t> sent(kClients, 0);
  std::vector<bool> done(kClients, false);
  const auto start = Clock::now();
  // Send until every client has sent its quota or been unable to send for 1 s (the server stopped
  // reading it); 15 s at most.
  auto lastProgress = Clock::now();
  while (since(start) < 15.0 && since(lastProgress) < 1.0) {
    std::vector<pollfd> waiting;
    std::vector<int> index;
    for (int i = 0; i < kClients; ++i) {
      if (done[static_cast<std::size_t>(i)]) continue;
      waiting.push_back({clients.fds[static_cast<std::size_t>(i)], POLLOUT, 0});
      index.push_back(i);
    }
    if (waiting.empty()) break;
    if (::poll(waiting.data(), waiting.size(), 100) <= 0) continue;
    for (std::size_t k = 0; k < waiting.size(); ++k) {
      if (waiting[k].revents == 0) continue;
      const auto i = static_cast<std::size_t>(index[k]);
      const std::size_t offset = sent[i] % chunk.size();
      const ssize_t n = ::send(waiting[k].fd, chunk.data() + offset, chunk.size() - offset, MSG_NOSIGNAL);
      if (n > 0) {
        sent[i] += static_cast<std::size_t>(n);
        lastProgress = Clock::now();
      } else if (errno != EAGAIN) {
        done[i] = true;  // the server closed it
      }
      if (sent[i] >= kQuota) done[i] = true;
    }
  }
  const double floodSeconds = since(start);
  REQUIRE(legit.waitForRequests(10, 10.0));  // answers measured while every flooder is stalled
  const long peakKiB = server.peakRssKiB();
  legit.stop();
  std::size_t total = 0;
  for (std::size_t s : sent) total += s;
  const auto closed = std::count(done.begin(), done.end(), true);
  MESSAGE("flood: " << kClients << " clients sent " << total / 1024 << " KiB of requests in " << floodSeconds
                    << " s (" << closed << " reached the quota or were closed); server peak RSS " << peakKiB
                    << " KiB; legitimate client: " << legit.answered() << " answered, " << legit.failures()
                    << " failed, worst " << legit.worstSeconds() * 1000 << " ms");
  CHECK(server.running());
  CHECK(peakKiB > 0);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's shadow memory and quarantine (up to 256 MB of freed blocks) are resident in the
  // server too, so its RSS is not the server's: the 64 MB ceiling is asserted by the uninstrumented
  // build (CI's first stage, the README's test command).
#else
  CHECK(peakKiB < 64 * 1024);
#endif
  CHECK(legit.failures() == 0);
  CHECK(legit.worstSeconds() < 1.0);
}

TEST_CASE("one peer with 4200 idle and 500 trickling connections cannot delay another peer's answer beyond 1 s") {
  constexpr int kIdle = 4200;
  constexpr int kTrickling = 500;
  raiseFileLimit(kIdle + kTrickling + 256);
  Server server;
  LegitimateClient legit(server.port());
  REQUIRE(legit.waitForRequests(5, 5.0));

  const auto start = Clock::now();
  Sockets idle;
  Sockets trickling;
  for (int i = 0; i < kIdle; ++i) {
    const int fd = connectFrom("127.0.0.2", server.port(), false);
    REQUIRE(fd >= 0);
    idle.fds.push_back(fd);
  }
  for (int i = 0; i < kTrickling; ++i) {
    const int fd = connectFrom("127.0.0.2", server.port(), false);
    REQUIRE(fd >= 0);
    trickling.fds.push_back(fd);
  }
  const double connectSeconds = since(start);
  // Each trickler sends one byte of a request per round; a round lasts 25 legitimate answers.
  const auto request = readRequest(1, 1);
  int rounds = 0;
  for (; rounds < static_cast<int>(request.size()) - 1 && since(start) < 20.0; ++rounds) {
    for (int fd : trickling.fds) ::send(fd, &request[static_cast<std::size_t>(rounds)], 1, MSG_NOSIGNAL);
    if (!legit.waitForRequests(25, 5.0)) break;
  }
  const double attackSeconds = since(start);
  legit.stop();
  MESSAGE("attack: " << kIdle << " idle + " << kTrickling << " trickling connections from 127.0.0.2 opened in "
                     << connectSeconds << " s, " << rounds << " trickle rounds in " << attackSeconds
                     << " s; legitimate client on 127.0.0.3: " << legit.answered() << " answered, "
                     << legit.failures() << " failed, worst " << legit.worstSeconds() * 1000 << " ms; server peak RSS "
                     << server.peakRssKiB() << " KiB");
  CHECK(server.running());
  CHECK(rounds == static_cast<int>(request.size()) - 1);
  CHECK(legit.failures() == 0);
  CHECK(legit.worstSeconds() < 1.0);
  // The server said why it refused them, in a bounded number of lines.
  const std::string out = server.output();
  CHECK(out.find("max_connections_per_peer") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') < 100);
}
