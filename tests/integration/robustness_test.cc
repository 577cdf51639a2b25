// Integration tests: our Modbus/TCP server under raw sockets — split and pipelined frames, bad MBAP
// headers, unknown codes and units, a hundred concurrent clients, clients that vanish or reset.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/server_context.h"
#include "reactor/log.h"
#include "tests/support/server_thread.h"

namespace {

using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;
using testsupport::ServerThread;

const bool kQuiet = [] {
  reactor::log::setLevel(reactor::log::Level::Error);
  return true;
}();

/// One MBAP ADU: transaction id, protocol id, length (unit id + PDU), unit id, PDU.
Bytes adu(std::uint16_t tid, std::uint8_t unit, const Bytes& pdu, std::uint16_t protocol = 0) {
  const std::size_t length = pdu.size() + 1;
  Bytes out{static_cast<std::uint8_t>(tid >> 8),
            static_cast<std::uint8_t>(tid),
            static_cast<std::uint8_t>(protocol >> 8),
            static_cast<std::uint8_t>(protocol),
            static_cast<std::uint8_t>(length >> 8),
            static_cast<std::uint8_t>(length),
            unit};
  out.insert(out.end(), pdu.begin(), pdu.end());
  return out;
}

Bytes readHolding(std::uint16_t address, std::uint16_t count) {
  return {0x03, static_cast<std::uint8_t>(address >> 8), static_cast<std::uint8_t>(address),
          static_cast<std::uint8_t>(count >> 8), static_cast<std::uint8_t>(count)};
}
Bytes writeHolding(std::uint16_t address, std::uint16_t value) {
  return {0x06, static_cast<std::uint8_t>(address >> 8), static_cast<std::uint8_t>(address),
          static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
}
Bytes append(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
std::uint16_t u16(const Bytes& b, std::size_t at) { return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]); }

/// Pacing between the pieces of a split frame (not a wait for readiness).
void pace1ms() {
  timespec ts{0, 1'000'000};
  nanosleep(&ts, nullptr);
}

/// A raw TCP client socket to 127.0.0.1; every read is bounded by a timeout (poll, no sleeping).
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int e = errno;
      ::close(fd_);
      throw std::runtime_error("connect: " + std::string(std::strerror(e)));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  int fd() const { return fd_; }

  /// Sends every byte (blocking socket; MSG_NOSIGNAL so a closed peer is an error, not SIGPIPE).
  bool send(const Bytes& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  /// Sends `data` one byte per write, 1 ms apart.
  bool sendByteByByte(const Bytes& data) {
    for (std::uint8_t b : data) {
      if (!send(Bytes{b})) return false;
      pace1ms();
    }
    return true;
  }

  /// Exactly `n` bytes, or nullopt on timeout / close.
  std::optional<Bytes> read(std::size_t n, double timeoutSeconds = 5) {
    Bytes out(n);
    std::size_t got = 0;
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeoutSeconds);
    while (got < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;
      ssize_t k = ::recv(fd_, out.data() + got, n - got, 0);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return std::nullopt;
      got += static_cast<std::size_t>(k);
    }
    return out;
  }
  /// One whole response ADU (header + PDU), or nullopt.
  std::optional<Bytes> readAdu(double timeoutSeconds = 5) {
    auto header = read(7, timeoutSeconds);
    if (!header) return std::nullopt;
    std::uint16_t length = u16(*header, 4);
    if (length < 2) return header;
    auto rest = read(length - 1u, timeoutSeconds);
    if (!rest) return std::nullopt;
    return append(*header, *rest);
  }
  /// True when nothing at all is readable within `seconds` (the peer neither answered nor closed).
  bool silentFor(double seconds) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(seconds * 1000)) == 0;
  }
  /// True when the peer closes the connection within `timeoutSeconds` (any data before is dropped).
  bool closedByPeer(double timeoutSeconds = 5) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeoutSeconds);
    std::uint8_t buf[512];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      ssize_t k = ::recv(fd_, buf, sizeof buf, 0);
      if (k == 0 || (k < 0 && errno == ECONNRESET)) return true;
    }
  }
  /// close() with SO_LINGER 0: the kernel sends RST and drops anything unread.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

/// Request → response round trip on one socket.
std::optional<Bytes> roundTrip(RawSocket& s, const Bytes& request) {
  if (!s.send(request)) return std::nullopt;
  return s.readAdu();
}

struct Fixture {
  std::shared_ptr<modbus::ServerContext> context = testsupport::makeUnitContext(1, 1000);
  ServerThread server{context};

  std::vector<std::uint16_t> holding(std::uint16_t address, std::uint16_t count) {
    return server.call([=, this] { return context->find(1)->holdingRegisters()->getValues(address, count); });
  }
  void setHolding(std::uint16_t address, std::vector<std::uint16_t> values) {
    server.call([=, this] { context->find(1)->holdingRegisters()->setValues(address, values); });
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "a request sent one byte at a time is answered once, when it is whole") {
  setHolding(3, {0x1234});
  RawSocket s(server.port());
  Bytes request = adu(0x0102, 1, readHolding(3, 1));
  Bytes head(request.begin(), request.end() - 1);
  REQUIRE(s.sendByteByByte(head));
  CHECK(s.silentFor(0.05));  // nothing is answered before the last byte
  REQUIRE(s.send(Bytes{request.back()}));
  auto reply = s.readAdu();
  REQUIRE(reply);
  CHECK(*reply == Bytes{0x01, 0x02, 0x00, 0x00, 0x00, 0x05, 0x01, 0x03, 0x02, 0x12, 0x34});
  CHECK(s.silentFor(0.05));  // and answered once
}

TEST_CASE_FIXTURE(Fixture, "a request split in two at every position is answered, and so is the next one") {
  RawSocket s(server.port());
  Bytes request = adu(0, 1, writeHolding(9, 0));
  for (std::size_t cut = 1; cut < request.size(); ++cut) {
    request = adu(static_cast<std::uint16_t>(cut), 1, writeHolding(9, static_cast<std::uint16_t>(500 + cut)));
    REQUIRE(s.send(Bytes(request.begin(), request.begin() + static_cast<long>(cut))));
    pace1ms();
    REQUIRE(s.send(Bytes(request.begin() + static_cast<long>(cut), request.end())));
    auto reply = s.readAdu();
    REQUIRE(reply);
    CHECK(*reply == request);  // FC 6 echoes the request
  }
  CHECK(holding(9, 1) == std::vector<std::uint16_t>{static_cast<std::uint16_t>(500 + request.size() - 1)});
}

TEST_CASE_FIXTURE(Fixture,
                  "fifty pipelined requests in one write get fifty replies, in order, with their transaction ids") {
  RawSocket s(server.port());
  Bytes batch;
  for (std::uint16_t i = 0; i < 25; ++i) {
    batch = append(batch, adu(static_cast<std::uint16_t>(0x7000 + 2 * i), 1,
                              writeHolding(i, static_cast<std::uint16_t>(1000 + i))));
    batch = append(batch, adu(static_cast<std::uint16_t>(0x7001 + 2 * i), 1, readHolding(i, 1)));
  }
  REQUIRE(s.send(batch));
  for (std::uint16_t i = 0; i < 25; ++i) {
    auto write = s.readAdu();
    REQUIRE(write);
    CHECK(u16(*write, 0) == 0x7000 + 2 * i);
    CHECK(Bytes(write->begin() + 7, write->end()) == writeHolding(i, static_cast<std::uint16_t>(1000 + i)));
    auto read = s.readAdu();
    REQUIRE(read);
    CHECK(u16(*read, 0) == 0x7001 + 2 * i);
    CHECK(Bytes(read->begin() + 7, read->end()) ==
          Bytes{0x03, 0x02, static_cast<std::uint8_t>((1000 + i) >> 8), static_cast<std::uint8_t>(1000 + i)});
  }
  CHECK(s.silentFor(0.05));
  CHECK(holding(24, 1) == std::vector<std::uint16_t>{1024});
}

TEST_CASE_FIXTURE(
    Fixture, "a frame with protocol id other than 0 gets no reply and the next frame on the connection is answered") {
  setHolding(0, {77});
  RawSocket s(server.port());
  // In one write: a write with protocol id 1 (dropped, not executed), then a read.
  REQUIRE(s.send(append(adu(1, 1, writeHolding(0, 99), /*protocol=*/1), adu(2, 1, readHolding(0, 1)))));
  auto reply = s.readAdu();
  REQUIRE(reply);
  CHECK(*reply == Bytes{0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x01, 0x03, 0x02, 0x00, 77});
  // In separate writes.
  REQUIRE(s.send(adu(3, 1, readHolding(0, 1), /*protocol=*/0xFFFF)));
  CHECK(s.silentFor(0.05));
  reply = roundTrip(s, adu(4, 1, readHolding(0, 1)));
  REQUIRE(reply);
  CHECK(u16(*reply, 0) == 4);
  CHECK(holding(0, 1) == std::vector<std::uint16_t>{77});
}

TEST_CASE_FIXTURE(Fixture, "an MBAP length out of range closes that connection and no other") {
  RawSocket bystander(server.port());
  REQUIRE(roundTrip(bystander, adu(1, 1, readHolding(0, 1))));
  for (std::uint16_t length : {0, 1, 255, 256, 0xFFFF}) {
    CAPTURE(length);
    RawSocket bad(server.port());
    Bytes header{
        0x00, 0x09, 0x00, 0x00, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length), 0x01, 0x03,
        0x00, 0x00, 0x00, 0x01};
    REQUIRE(bad.send(header));
    CHECK(bad.closedByPeer());
    auto reply = roundTrip(bystander, adu(length, 1, readHolding(0, 1)));
    REQUIRE(reply);
    CHECK(u16(*reply, 0) == length);
  }
  // A good frame ahead of the bad header in the same write is still answered before the close.
  {
    RawSocket bad(server.port());
    REQUIRE(bad.send(append(adu(0x0042, 1, readHolding(0, 1)), {0x00, 0x43, 0x00, 0x00, 0x01, 0x00, 0x01, 0x03})));
    auto reply = bad.readAdu();
    REQUIRE(reply);
    CHECK(*reply == Bytes{0x00, 0x42, 0x00, 0x00, 0x00, 0x05, 0x01, 0x03, 0x02, 0x00, 0x00});
    CHECK(bad.closedByPeer());
  }
  // The largest legal length, 254 (a 253-byte PDU), is a frame: an unknown code gets exception 01.
  RawSocket edge(server.port());
  Bytes pdu(253, 0x00);
  pdu[0] = 0x41;
  auto reply = roundTrip(edge, adu(0x0A0B, 1, pdu));
  REQUIRE(reply);
  CHECK(*reply == Bytes{0x0A, 0x0B, 0x00, 0x00, 0x00, 0x03, 0x01, 0xC1, 0x01});
}

TEST_CASE_FIXTURE(Fixture, "an unknown function code is answered exception 01 with the request's transaction id") {
  RawSocket s(server.port());
  auto reply = roundTrip(s, adu(0xBEEF, 1, {0x41, 0x01, 0x02}));
  REQUIRE(reply);
  CHECK(*reply == Bytes{0xBE, 0xEF, 0x00, 0x00, 0x00, 0x03, 0x01, 0xC1, 0x01});
  reply = roundTrip(s, adu(0xCAFE, 1, {0x00}));
  REQUIRE(reply);
  CHECK(*reply == Bytes{0xCA, 0xFE, 0x00, 0x00, 0x00, 0x03, 0x01, 0x80, 0x01});
}

TEST_CASE_FIXTURE(Fixture, "a unit id with no device is answered exception 0x0B with the request's transaction id") {
  RawSocket s(server.port());
  auto reply = roundTrip(s, adu(0x0203, 7, readHolding(0, 1)));
  REQUIRE(reply);
  CHECK(*reply == Bytes{0x02, 0x03, 0x00, 0x00, 0x00, 0x03, 0x07, 0x83, 0x0B});
  reply = roundTrip(s, adu(0x0204, 7, writeHolding(0, 5)));
  REQUIRE(reply);
  CHECK(*reply == Bytes{0x02, 0x04, 0x00, 0x00, 0x00, 0x03, 0x07, 0x86, 0x0B});
  CHECK(holding(0, 1) == std::vector<std::uint16_t>{0});
}

TEST_CASE("with ignoreMissingSlaves a unit id with no device gets silence and the next frame is answered") {
  auto context = testsupport::makeUnitContext(1, 10);
  ServerThread server(context, modbus::ServerOptions{.ignoreMissingSlaves = true});
  RawSocket s(server.port());
  REQUIRE(s.send(append(adu(1, 5, writeHolding(0, 5)), adu(2, 1, readHolding(0, 1)))));
  auto reply = s.readAdu();
  REQUIRE(reply);
  CHECK(*reply == Bytes{0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x01, 0x03, 0x02, 0x00, 0x00});
  REQUIRE(s.send(adu(3, 200, readHolding(0, 1))));
  CHECK(s.silentFor(0.1));
}

TEST_CASE_FIXTURE(Fixture, "a hundred concurrent clients each get every reply matched to its transaction id") {
  constexpr int kClients = 100;
  constexpr int kRounds = 20;
  std::vector<std::unique_ptr<RawSocket>> sockets;
  for (int c = 0; c < kClients; ++c) sockets.push_back(std::make_unique<RawSocket>(server.port()));

  struct State {
    int round = 0;    // rounds finished
    Bytes in;         // bytes received, not yet parsed
    int replies = 0;  // replies of the current round
    bool failed = false;
  };
  std::vector<State> states(kClients);
  // Round r of client c: write register c, then read it back, pipelined.
  auto tid = [](int c, int r, int k) { return static_cast<std::uint16_t>(c * 256 + r * 2 + k); };
  auto value = [](int c, int r) { return static_cast<std::uint16_t>(r * 1000 + c); };
  auto sendRound = [&](int c) {
    const int r = states[c].round;
    auto address = static_cast<std::uint16_t>(c);
    REQUIRE(sockets[c]->send(append(adu(tid(c, r, 0), 1, writeHolding(address, value(c, r))),
                                    adu(tid(c, r, 1), 1, readHolding(address, 1)))));
  };
  for (int c = 0; c < kClients; ++c) sendRound(c);

  int finished = 0;
  int mismatches = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::vector<pollfd> fds(kClients);
  while (finished < kClients && Clock::now() < deadline) {
    for (int c = 0; c < kClients; ++c) {
      bool open = states[c].round < kRounds && !states[c].failed;
      fds[c] = pollfd{open ? sockets[c]->fd() : -1, POLLIN, 0};
    }
    if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
    for (int c = 0; c < kClients; ++c) {
      if (!(fds[c].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      State& st = states[c];
      std::uint8_t buf[256];
      ssize_t n = ::recv(fds[c].fd, buf, sizeof buf, 0);
      if (n <= 0) {
        st.failed = true;
        ++finished;
        continue;
      }
      st.in.insert(st.in.end(), buf, buf + n);
      while (st.in.size() >= 7 && st.in.size() >= 6u + u16(st.in, 4)) {
        const std::size_t size = 6u + u16(st.in, 4);
        Bytes frame(st.in.begin(), st.in.begin() + static_cast<long>(size));
        st.in.erase(st.in.begin(), st.in.begin() + static_cast<long>(size));
        const int r = st.round;
        const std::uint16_t v = value(c, r);
        Bytes expected =
            st.replies == 0
                ? adu(tid(c, r, 0), 1, writeHolding(static_cast<std::uint16_t>(c), v))
                : adu(tid(c, r, 1), 1, {0x03, 0x02, static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
        if (frame != expected) ++mismatches;
        if (++st.replies == 2) {
          st.replies = 0;
          if (++st.round == kRounds) {
            ++finished;
          } else {
            sendRound(c);
          }
        }
      }
    }
  }
  CHECK(mismatches == 0);
  int completed = 0;
  for (const State& st : states) completed += (st.round == kRounds && !st.failed) ? 1 : 0;
  CHECK(completed == kClients);
  std::vector<std::uint16_t> expected;
  for (int c = 0; c < kClients; ++c) expected.push_back(value(c, kRounds - 1));
  CHECK(holding(0, kClients) == expected);
  CHECK(server.connectionCount() == kClients);
}

TEST_CASE_FIXTURE(
    Fixture,
    "clients that vanish mid-frame or reset with requests pending leave the others served and the data intact") {
  std::vector<std::uint16_t> seeded;
  for (std::uint16_t i = 0; i < 100; ++i) seeded.push_back(static_cast<std::uint16_t>(40000 + i));
  setHolding(0, seeded);
  RawSocket steady(server.port());
  REQUIRE(roundTrip(steady, adu(1, 1, readHolding(0, 1))));

  for (int round = 0; round < 10; ++round) {
    CAPTURE(round);
    // Half of a write of registers 0..9: never applied.
    {
      RawSocket vanishing(server.port());
      Bytes write{0x10, 0x00, 0x00, 0x00, 0x0A, 0x14};
      write.resize(write.size() + 20, 0xEE);
      Bytes frame = adu(2, 1, write);
      REQUIRE(vanishing.send(Bytes(frame.begin(), frame.begin() + static_cast<long>(frame.size() / 2))));
      vanishing.close();
    }
    // A hundred pipelined reads of 125 registers (about 25 KB of answers), then a reset unread.
    {
      RawSocket resetting(server.port());
      Bytes batch;
      for (std::uint16_t i = 0; i < 100; ++i) batch = append(batch, adu(i, 1, readHolding(0, 125)));
      REQUIRE(resetting.send(batch));
      resetting.reset();
    }
    // Half a header, then a reset.
    {
      RawSocket resetting(server.port());
      REQUIRE(resetting.send(Bytes{0x00, 0x01, 0x00}));
      resetting.reset();
    }
    auto reply = roundTrip(steady, adu(static_cast<std::uint16_t>(100 + round), 1, readHolding(0, 3)));
    REQUIRE(reply);
    CHECK(*reply == Bytes{static_cast<std::uint8_t>(0), static_cast<std::uint8_t>(100 + round), 0x00, 0x00, 0x00, 0x09,
                          0x01, 0x03, 0x06, 0x9C, 0x40, 0x9C, 0x41, 0x9C, 0x42});
  }
  // Every dropped connection is eventually closed on the server side too; the steady client's
  // round trips pace the check (bounded).
  std::size_t open = 0;
  for (int i = 0; i < 2000; ++i) {
    open = server.connectionCount();
    if (open == 1) break;
    REQUIRE(roundTrip(steady, adu(0x0FFF, 1, readHolding(0, 1))));
  }
  CHECK(open == 1);
  CHECK(holding(0, 100) == seeded);
  // A new client is served as well.
  RawSocket late(server.port());
  auto reply = roundTrip(late, adu(0x4444, 1, writeHolding(50, 1)));
  REQUIRE(reply);
  CHECK(u16(*reply, 0) == 0x4444);
  CHECK(holding(50, 1) == std::vector<std::uint16_t>{1});
}

TEST_CASE_FIXTURE(Fixture, "a client that resets with a large backlog of unread answers does not disturb the server") {
  setHolding(0, {321});
  RawSocket steady(server.port());
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    RawSocket greedy(server.port());
    int small = 4096;
    ::setsockopt(greedy.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    Bytes batch;
    // 2000 reads of 125 registers: about 500 KB of answers, more than the client's window takes,
    // so the server stops reading (maxBufferedOutput) and holds answers it cannot send.
    for (std::uint16_t i = 0; i < 2000; ++i) {
      Bytes request = adu(i, 1, readHolding(0, 125));
      batch.insert(batch.end(), request.begin(), request.end());
    }
    REQUIRE(greedy.send(batch));
    REQUIRE(greedy.read(7));  // the first answer has arrived
    greedy.reset();
    auto reply = roundTrip(steady, adu(static_cast<std::uint16_t>(round), 1, readHolding(0, 1)));
    REQUIRE(reply);
    CHECK(*reply ==
          Bytes{0x00, static_cast<std::uint8_t>(round), 0x00, 0x00, 0x00, 0x05, 0x01, 0x03, 0x02, 0x01, 0x41});
  }
  CHECK(holding(0, 1) == std::vector<std::uint16_t>{321});
}
