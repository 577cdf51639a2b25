// The adversarial suite (issue 13, item 5): state-changing diagnostics (FC 8 sub-functions 03 and
// 04) sent by a client on one transport of the real uvmodbus-server, and what the other transports
// of the same unit see. One server process serves unit 1 on tcp:, udp: and an ASCII serial line
// (a pseudo-terminal). With the default the spec's behaviour holds and is reversible (FC 8/03 set
// back repairs the line, FC 8/01 ends listen-only mode); with "state_changing_diagnostics": false
// on the tcp: entry, its clients get exception 01 and nothing changes anywhere.
// Silence is checked with a bounded wait (0.3 s): a late answer can only make such a check pass
// wrongly, never fail by chance. Answers are awaited by condition (poll), never by sleeping.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/pty_pair.h"
#include "tests/support/subprocess.h"

namespace {

using testsupport::Subprocess;
using Bytes = std::vector<std::uint8_t>;

constexpr double kStartTimeout = 10.0;
constexpr double kAnswerTimeout = 5.0;
constexpr double kSilence = 0.3;

/// A socket to 127.0.0.1:port (TCP or UDP) with bounded reads.
class Socket {
 public:
  Socket(int type, int port) : fd_(::socket(AF_INET, type | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  /// Sends `request` and returns what arrives within `seconds` (up to `expected` bytes; a datagram
  /// is one read). Empty when nothing came.
  Bytes ask(const Bytes& request, std::size_t expected, double seconds) {
    REQUIRE(::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    Bytes got;
    while (got.size() < expected) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(seconds * 1000)) != 1) break;
      std::uint8_t buf[512];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.insert(got.end(), buf, buf + n);
    }
    return got;
  }

 private:
  int fd_;
};

/// An MBAP frame for unit 1 with transaction id 1.
Bytes mbap(const Bytes& pdu) {
  Bytes out = {0, 1, 0, 0, 0, static_cast<std::uint8_t>(pdu.size() + 1), 1};
  out.insert(out.end(), pdu.begin(), pdu.end());
  return out;
}

/// An ASCII frame for unit 1: ':' hex(unit, pdu, LRC) CR `end`.
std::string ascii(const Bytes& pdu, char end = '\n') {
  Bytes all = {1};
  all.insert(all.end(), pdu.begin(), pdu.end());
  std::uint8_t sum = 0;
  for (auto b : all) sum = static_cast<std::uint8_t>(sum + b);
  all.push_back(static_cast<std::uint8_t>(-sum));
  std::string out = ":";
  char hex[3];
  for (auto b : all) {
    std::snprintf(hex, sizeof hex, "%02X", b);
    out += hex;
  }
  return out + '\r' + end;
}

const Bytes kRead = {0x03, 0x00, 0x00, 0x00, 0x01};           // FC 3, register 0
const Bytes kReadAnswer = {0x03, 0x02, 0x00, 0x2A};            // it holds 42
const Bytes kListenOnly = {0x08, 0x00, 0x04, 0x00, 0x00};      // FC 8/04
const Bytes kRestart = {0x08, 0x00, 0x01, 0x00, 0x00};         // FC 8/01
Bytes setDelimiter(std::uint8_t c) { return {0x08, 0x00, 0x03, c, 0x00}; }  // FC 8/03

/// uvmodbus-server with unit 1 on tcp:, udp: and an ASCII line; killed by its PID at the end.
class Server {
 public:
  explicit Server(const std::string& tcpExtra) {
    path_ = testsupport::buildDir() + "/adversarial_diag_" + std::to_string(::getpid()) + ".json";
    std::ofstream(path_) << R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1")" + tcpExtra + R"(},
        {"endpoint": "udp:0:interface=127.0.0.1"},
        {"endpoint": "serial:)" + pty.slavePath() + R"(", "framer": "ascii"}],
      "units": {"1": {"holding_registers": {"count": 10, "values": [42]}}}})";
    process_.emplace(std::vector<std::string>{testsupport::buildDir() + "/uvmodbus-server", "--config", path_});
    auto tcp = process_->waitForLine(R"(listening on tcp 127\.0\.0\.1:(\d+))", kStartTimeout);
    auto udp = process_->waitForLine(R"(listening on udp 127\.0\.0\.1:(\d+))", kStartTimeout);
    auto serial = process_->waitForLine("serving Modbus ascii on serial", kStartTimeout);
    REQUIRE_MESSAGE((tcp && udp && serial), process_->output());
    tcpPort = std::stoi((*tcp)[1]);
    udpPort = std::stoi((*udp)[1]);
  }
  ~Server() {
    process_.reset();  // kills and reaps by PID
    std::filesystem::remove(path_);
  }

  /// What the ASCII line answers to `frame` within `seconds`.
  std::string serialAsk(const std::string& frame, std::size_t expected, double seconds) {
    REQUIRE(pty.write(frame));
    Bytes got = pty.read(expected, seconds);
    return std::string(got.begin(), got.end());
  }

  testsupport::Pty pty;
  int tcpPort = 0;
  int udpPort = 0;

 private:
  std::string path_;
  std::optional<Subprocess> process_;
};

}  // namespace

TEST_CASE("adversarial: with state_changing_diagnostics false a TCP client's FC 8/03 and 8/04 get exception 01 and change nothing") {
  Server server(R"(, "state_changing_diagnostics": false)");
  Socket tcp(SOCK_STREAM, server.tcpPort);
  Socket udp(SOCK_DGRAM, server.udpPort);
  const Bytes refused = mbap({0x88, 0x01});
  CHECK(tcp.ask(mbap(kListenOnly), refused.size(), kAnswerTimeout) == refused);
  CHECK(tcp.ask(mbap(setDelimiter('!')), refused.size(), kAnswerTimeout) == refused);
  // Every transport still answers, the ASCII line with its CR LF frames.
  CHECK(tcp.ask(mbap(kRead), mbap(kReadAnswer).size(), kAnswerTimeout) == mbap(kReadAnswer));
  CHECK(udp.ask(mbap(kRead), mbap(kReadAnswer).size(), kAnswerTimeout) == mbap(kReadAnswer));
  CHECK(server.serialAsk(ascii(kRead), ascii(kReadAnswer).size(), kAnswerTimeout) == ascii(kReadAnswer));
  // The non-state-changing sub-functions stay available (FC 8/00 echoes).
  const Bytes echo = mbap({0x08, 0x00, 0x00, 0x12, 0x34});
  CHECK(tcp.ask(echo, echo.size(), kAnswerTimeout) == echo);
}

TEST_CASE("adversarial: by default FC 8/03 over TCP moves the ASCII line's delimiter and setting it back repairs the line") {
  Server server("");
  Socket tcp(SOCK_STREAM, server.tcpPort);
  const std::string answer = ascii(kReadAnswer);
  CHECK(tcp.ask(mbap(setDelimiter('!')), mbap(setDelimiter('!')).size(), kAnswerTimeout) == mbap(setDelimiter('!')));
  CHECK(server.serialAsk(ascii(kRead), answer.size(), kSilence).empty());  // CR LF no longer ends a frame
  CHECK(server.serialAsk(ascii(kRead, '!'), answer.size(), kAnswerTimeout) == answer);  // answers keep CR LF
  CHECK(tcp.ask(mbap(setDelimiter('\n')), mbap(setDelimiter('\n')).size(), kAnswerTimeout) ==
        mbap(setDelimiter('\n')));
  CHECK(server.serialAsk(ascii(kRead), answer.size(), kAnswerTimeout) == answer);
}

TEST_CASE("adversarial: by default FC 8/04 over TCP silences the unit on every transport until FC 8/01 on the serial line") {
  Server server("");
  Socket tcp(SOCK_STREAM, server.tcpPort);
  Socket udp(SOCK_DGRAM, server.udpPort);
  const std::string serialAnswer = ascii(kReadAnswer);
  CHECK(tcp.ask(mbap(kListenOnly), 1, kSilence).empty());  // the spec: no answer to 8/04
  CHECK(tcp.ask(mbap(kRead), mbap(kReadAnswer).size(), kSilence).empty());
  CHECK(udp.ask(mbap(kRead), mbap(kReadAnswer).size(), kSilence).empty());
  CHECK(server.serialAsk(ascii(kRead), serialAnswer.size(), kSilence).empty());
  // FC 8/01 ends listen-only mode without an answer (the spec: none while listen-only).
  CHECK(server.serialAsk(ascii(kRestart), 1, kSilence).empty());
  CHECK(server.serialAsk(ascii(kRead), serialAnswer.size(), kAnswerTimeout) == serialAnswer);
  CHECK(tcp.ask(mbap(kRead), mbap(kReadAnswer).size(), kAnswerTimeout) == mbap(kReadAnswer));
  CHECK(udp.ask(mbap(kRead), mbap(kReadAnswer).size(), kAnswerTimeout) == mbap(kReadAnswer));
}
