// Pseudo-terminal helpers for serial tests (openpty, a relay thread, paced writes).
#include "tests/support/pty_pair.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace testsupport {

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool writeAll(int fd, const std::uint8_t* data, std::size_t size) {
  std::size_t done = 0;
  int spins = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && ++spins < 2000) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 5);
      continue;
    }
    return false;
  }
  return true;
}

void makeRaw(int fd) {
  termios t{};
  if (::tcgetattr(fd, &t) != 0) return;
  ::cfmakeraw(&t);
  ::tcsetattr(fd, TCSANOW, &t);
}

std::uint16_t crc16(const Bytes& data) {
  std::uint16_t crc = 0xFFFF;
  for (std::uint8_t b : data) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
  }
  return crc;
}

}  // namespace

void sleepSeconds(double seconds) {
  if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

Bytes hexBytes(std::string_view hex) {
  Bytes out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ') continue;
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else throw std::invalid_argument("hexBytes: bad character");
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("hexBytes: odd number of digits");
  return out;
}

Bytes withCrc(Bytes frame) {
  std::uint16_t crc = crc16(frame);
  frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  frame.push_back(static_cast<std::uint8_t>(crc >> 8));
  return frame;
}

// --- Pty -----------------------------------------------------------------------------------------

Pty::Pty() {
  char name[256] = {0};
  if (::openpty(&master_, &slave_, name, nullptr, nullptr) != 0) {
    throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
  }
  slavePath_ = name;
  makeRaw(slave_);
  ::fcntl(master_, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave_, F_SETFD, FD_CLOEXEC);
  ::fcntl(master_, F_SETFL, ::fcntl(master_, F_GETFL) | O_NONBLOCK);
}

Pty::~Pty() {
  closeMaster();
  releaseSlave();
}

bool Pty::write(const Bytes& bytes) { return master_ >= 0 && writeAll(master_, bytes.data(), bytes.size()); }

bool Pty::write(std::string_view text) {
  return master_ >= 0 && writeAll(master_, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

bool Pty::writePaced(const Bytes& bytes, double secondsPerByte) {
  double start = now();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    // Against the start time, so scheduling delays do not add up.
    double due = start + secondsPerByte * static_cast<double>(i);
    sleepSeconds(due - now());
    if (!writeAll(master_, &bytes[i], 1)) return false;
  }
  return true;
}

Bytes Pty::read(std::size_t expected, double timeoutSeconds) {
  Bytes out;
  double deadline = now() + timeoutSeconds;
  std::uint8_t buf[4096];
  while (master_ >= 0 && out.size() < expected) {
    double left = deadline - now();
    if (left <= 0) break;
    pollfd p{master_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
    if (rc <= 0) continue;
    ssize_t n = ::read(master_, buf, std::min(sizeof buf, expected - out.size()));
    if (n > 0) out.insert(out.end(), buf, buf + n);
    else if (n < 0 && errno != EAGAIN && errno != EINTR) break;
  }
  return out;
}

Bytes Pty::readFor(double seconds) { return read(static_cast<std::size_t>(-1), seconds); }

void Pty::closeMaster() {
  if (master_ >= 0) ::close(master_);
  master_ = -1;
}

void Pty::releaseSlave() {
  if (slave_ >= 0) ::close(slave_);
  slave_ = -1;
}

// --- PtyLink -------------------------------------------------------------------------------------

PtyLink::PtyLink() {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2 failed");
  thread_ = std::thread([this] { relay(); });
}

PtyLink::~PtyLink() {
  char c = 'x';
  [[maybe_unused]] ssize_t n = ::write(wake_[1], &c, 1);
  if (thread_.joinable()) thread_.join();
  ::close(wake_[0]);
  ::close(wake_[1]);
}

Bytes PtyLink::trafficAtoB() {
  std::lock_guard<std::mutex> lock(mutex_);
  return aToB_;
}

Bytes PtyLink::trafficBtoA() {
  std::lock_guard<std::mutex> lock(mutex_);
  return bToA_;
}

void PtyLink::relay() {
  std::uint8_t buf[4096];
  for (;;) {
    pollfd fds[3] = {{a_.masterFd(), POLLIN, 0}, {b_.masterFd(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int rc = ::poll(fds, 3, 1000);
    if (rc < 0 && errno != EINTR) return;
    if (fds[2].revents != 0) return;
    bool idleError = false;
    for (int side = 0; side < 2; ++side) {
      if ((fds[side].revents & POLLIN) == 0 && (fds[side].revents & (POLLHUP | POLLERR)) != 0) idleError = true;
    }
    if (idleError) sleepSeconds(0.01);  // a side hung up: do not spin on it
    for (int side = 0; side < 2; ++side) {
      if ((fds[side].revents & POLLIN) == 0) continue;
      ssize_t n = ::read(fds[side].fd, buf, sizeof buf);
      if (n <= 0) continue;
      int to = side == 0 ? b_.masterFd() : a_.masterFd();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        Bytes& log = side == 0 ? aToB_ : bToA_;
        log.insert(log.end(), buf, buf + n);
      }
      writeAll(to, buf, static_cast<std::size_t>(n));
    }
  }
}

}  // namespace testsupport
