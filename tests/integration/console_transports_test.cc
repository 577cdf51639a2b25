// End-to-end tests of the debug console (protocols/console/) next to the transports without a
// connection factory: StartSerialServer's console=true (a pseudo-terminal line, RTU requests written
// to its master) and the console's trace on UDP (StartUdpServer) and serial servers. The console is
// driven through a real loopback TCP socket, the Modbus side through a real UDP socket or the pty.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "reactor/log.h"
#include "tests/support/pty_pair.h"
#include "tests/support/temp_dir.h"

namespace {

using testsupport::Bytes;
using testsupport::hexBytes;
using testsupport::withCrc;
using Lines = std::vector<std::string>;

constexpr double kTimeout = 10.0;
const std::string kToken = "transport-console-token";

/// Unit 1: 20 holding registers 100..119.
std::shared_ptr<modbus::ServerContext> makeContext() {
  auto device = std::make_shared<modbus::DeviceContext>(
      modbus::DeviceTables{.holdingRegisters = modbus::SequentialRegisterBlock::create(0, 20, 0)});
  for (std::uint16_t i = 0; i < 20; ++i) {
    device->holdingRegisters()->setValues(i, {static_cast<std::uint16_t>(100 + i)});
  }
  return modbus::ServerContext::single(device);
}

/// A Start*Server helper (which blocks) run by a thread, with the log captured until the lines the
/// test needs have come. The destructor stops a server still running (ServerStop) and joins.
class BlockingServer {
 public:
  explicit BlockingServer(std::function<void()> serve) : level_(reactor::log::level()) {
    // Other tests of this program lower the level to warnings; the lines looked for are at info.
    reactor::log::setLevel(reactor::log::Level::Info);
    reactor::log::setSink([this](reactor::log::Level, std::string_view line) {
      std::lock_guard lock(mutex_);
      logged_ += line;
      logged_ += '\n';
      changed_.notify_all();
    });
    before_ = modbus::runningServerCount();
    thread_ = std::thread([this, serve = std::move(serve)] {
      try {
        serve();
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex_);
        logged_ += "serve threw: ";
        logged_ += e.what();
        logged_ += '\n';
      }
      std::lock_guard lock(mutex_);
      finished_ = true;
      changed_.notify_all();
    });
  }
  ~BlockingServer() {
    if (!waitFinished(0)) modbus::ServerStop();  // never leave the thread running
    thread_.join();
    reactor::log::setSink(nullptr);
    reactor::log::setLevel(level_);
  }
  BlockingServer(const BlockingServer&) = delete;
  BlockingServer& operator=(const BlockingServer&) = delete;

  /// The first match of `pattern` in the log, waiting up to kTimeout; nullopt if none came.
  std::optional<std::smatch> waitForLog(const std::string& pattern) {
    std::unique_lock lock(mutex_);
    std::smatch m;
    const std::regex re(pattern);
    changed_.wait_for(lock, std::chrono::duration<double>(kTimeout), [&] {
      text_ = logged_;
      return std::regex_search(text_, m, re) || finished_;
    });
    if (m.empty()) return std::nullopt;
    return m;
  }
  /// True once the Start*Server call has returned (waiting up to `seconds`).
  bool waitFinished(double seconds) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return finished_; });
  }
  std::string log() {
    std::lock_guard lock(mutex_);
    return logged_;
  }
  std::size_t serversBefore() const { return before_; }

 private:
  reactor::log::Level level_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string logged_;
  std::string text_;  // what the last match ran over (the smatch points into it)
  bool finished_ = false;
  std::size_t before_ = 0;
  std::thread thread_;
};

/// A blocking client of the console on 127.0.0.1:port; every read is bounded by kTimeout.
class ConsoleClient {
 public:
  explicit ConsoleClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot connect to the console");
    }
  }
  ~ConsoleClient() { ::close(fd_); }
  ConsoleClient(const ConsoleClient&) = delete;
  ConsoleClient& operator=(const ConsoleClient&) = delete;

  void send(std::string line) {
    line += '\n';
    if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("console send failed");
    }
  }
  /// One line; nullopt at end of stream or after kTimeout without one.
  std::optional<std::string> line() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kTimeout);
    while (true) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return l;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  /// `command`'s whole answer: every line up to and including "ok" or "error: ...".
  Lines run(const std::string& command) {
    send(command);
    return untilStatus();
  }
  Lines untilStatus() {
    Lines lines;
    while (auto l = line()) {
      lines.push_back(*l);
      if (*l == "ok" || l->rfind("error", 0) == 0) break;
    }
    return lines;
  }
  /// Sends the token and reads the greeting.
  bool authenticate() {
    send(kToken);
    return line() == std::optional<std::string>("uvmodbus console: type help");
  }

 private:
  int fd_;
  std::string buffer_;
};

/// A blocking UDP client socket on 127.0.0.1.
class UdpClient {
 public:
  UdpClient() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
  }
  ~UdpClient() { ::close(fd_); }
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;
  /// Sends `request` to 127.0.0.1:port and returns the answer (empty after kTimeout).
  Bytes ask(int port, const Bytes& request) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(kTimeout * 1000)) <= 0) return {};
    std::uint8_t buf[512];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? Bytes(buf, buf + n) : Bytes{};
  }

 private:
  int fd_;
};

std::string writeToken(const testsupport::TempDir& dir) {
  const std::string path = dir.file("token");
  std::ofstream(path) << kToken << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

modbus::ConsoleSettings consoleSettings(const std::string& tokenFile) {
  modbus::ConsoleSettings s;
  s.enabled = true;
  s.endpoint = "tcp:0:interface=127.0.0.1";
  s.tokenFile = tokenFile;
  return s;
}

const std::string kConsoleLine = R"(debug console on 127\.0\.0\.1:(\d+); its token is in )";

}  // namespace

TEST_CASE("console integration: StartSerialServer with console=true reads and writes while a pty line serves RTU") {
  testsupport::TempDir dir;
  testsupport::Pty pty;
  modbus::SerialServerOptions options;
  options.console = consoleSettings(writeToken(dir));
  auto context = makeContext();
  BlockingServer server([&] {
    modbus::StartSerialServer(context, "serial:" + pty.slavePath() + ":baudrate=19200", options);
  });
  auto console = server.waitForLog(kConsoleLine);
  REQUIRE_MESSAGE(console.has_value(), server.log());

  ConsoleClient client(std::stoi((*console)[1].str()));
  REQUIRE(client.authenticate());
  CHECK(client.run("read 1 hr 5") == Lines{"5 105", "ok"});
  CHECK(client.run("write 1 hr 5 4660") == Lines{"wrote 1 value(s) from 5", "ok"});
  CHECK(client.run("read 1 hr 5 2") == Lines{"5 4660", "6 106", "ok"});

  // An RTU master on the line reads what the console wrote: FC 3, register 5, one register.
  CHECK(pty.write(withCrc(hexBytes("01 03 00 05 00 01"))));
  CHECK(pty.read(7, kTimeout) == withCrc(hexBytes("01 03 02 12 34")));
  // And the console sees what the master writes (FC 6, register 6 = 0x0042).
  CHECK(pty.write(withCrc(hexBytes("01 06 00 06 00 42"))));
  CHECK(pty.read(8, kTimeout) == withCrc(hexBytes("01 06 00 06 00 42")));
  CHECK(client.run("read 1 hr 6") == Lines{"6 66", "ok"});

  // The console's shutdown ends StartSerialServer.
  CHECK(client.run("shutdown") == Lines{"shutting down", "ok"});
  CHECK(server.waitFinished(kTimeout));
  CHECK(modbus::runningServerCount() == server.serversBefore());
}

TEST_CASE("console integration: trace on shows each UDP request and its answer and trace off stops the lines") {
  testsupport::TempDir dir;
  modbus::ServerOptions options;
  options.console = consoleSettings(writeToken(dir));
  auto context = makeContext();
  BlockingServer server([&] { modbus::StartUdpServer(context, "udp:0:interface=127.0.0.1", options); });
  auto udp = server.waitForLog(R"(listening on udp 127\.0\.0\.1:(\d+))");
  REQUIRE_MESSAGE(udp.has_value(), server.log());
  const std::string udpPort = (*udp)[1].str();
  auto console = server.waitForLog(kConsoleLine);
  REQUIRE_MESSAGE(console.has_value(), server.log());

  ConsoleClient client(std::stoi((*console)[1].str()));
  REQUIRE(client.authenticate());
  CHECK(client.run("trace on") == Lines{"tracing 1 server(s)", "ok"});

  UdpClient modbusClient;
  // MBAP: transaction 7, unit 1, FC 3 from register 2, two registers.
  const Bytes answer = modbusClient.ask(std::stoi(udpPort), hexBytes("00 07 00 00 00 06 01 03 00 02 00 02"));
  CHECK(answer == hexBytes("00 07 00 00 00 07 01 03 04 00 66 00 67"));
  CHECK(client.line() == std::optional<std::string>("trace udp 127.0.0.1:" + udpPort +
                                                    " unit 1 request 03 00 02 00 02 answer 03 04 00 66 00 67"));
  // An exception answer is traced as it leaves too (register 30 is past the device's 20).
  CHECK(modbusClient.ask(std::stoi(udpPort), hexBytes("00 08 00 00 00 06 01 03 00 1e 00 01")) ==
        hexBytes("00 08 00 00 00 03 01 83 02"));
  CHECK(client.line() ==
        std::optional<std::string>("trace udp 127.0.0.1:" + udpPort + " unit 1 request 03 00 1e 00 01 answer 83 02"));

  CHECK(client.run("trace off") == Lines{"trace off", "ok"});
  CHECK(modbusClient.ask(std::stoi(udpPort), hexBytes("00 09 00 00 00 06 01 03 00 02 00 01")) ==
        hexBytes("00 09 00 00 00 05 01 03 02 00 66"));
  // The request above was answered before this command ran: no trace line comes before its answer.
  CHECK(client.run("read 1 hr 3") == Lines{"3 103", "ok"});

  CHECK(client.run("shutdown") == Lines{"shutting down", "ok"});
  CHECK(server.waitFinished(kTimeout));
}

TEST_CASE("console integration: trace on shows each serial RTU request and its answer and trace off stops the lines") {
  testsupport::TempDir dir;
  testsupport::Pty pty;
  modbus::SerialServerOptions options;
  options.console = consoleSettings(writeToken(dir));
  auto context = makeContext();
  BlockingServer server([&] {
    modbus::StartSerialServer(context, "serial:" + pty.slavePath() + ":baudrate=19200", options);
  });
  auto console = server.waitForLog(kConsoleLine);
  REQUIRE_MESSAGE(console.has_value(), server.log());

  ConsoleClient client(std::stoi((*console)[1].str()));
  REQUIRE(client.authenticate());
  CHECK(client.run("trace on") == Lines{"tracing 1 server(s)", "ok"});

  CHECK(pty.write(withCrc(hexBytes("01 03 00 02 00 02"))));
  CHECK(pty.read(9, kTimeout) == withCrc(hexBytes("01 03 04 00 66 00 67")));
  auto traced = client.line();
  REQUIRE(traced.has_value());
  CHECK(std::regex_match(
      *traced, std::regex(R"(trace serial \S+ unit 1 request 03 00 02 00 02 answer 03 04 00 66 00 67)")));
  CHECK(traced->find(pty.slavePath()) != std::string::npos);

  CHECK(client.run("trace off") == Lines{"trace off", "ok"});
  CHECK(pty.write(withCrc(hexBytes("01 03 00 02 00 01"))));
  CHECK(pty.read(7, kTimeout) == withCrc(hexBytes("01 03 02 00 66")));
  CHECK(client.run("read 1 hr 3") == Lines{"3 103", "ok"});

  CHECK(client.run("shutdown") == Lines{"shutting down", "ok"});
  CHECK(server.waitFinished(kTimeout));
}
