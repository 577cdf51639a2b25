// Integration tests for the UDP server (protocols/servers/modbus_udp_server.cc) on 127.0.0.1: the pymodbus
// 3.0 UDP client (a subprocess) for every implemented function code, raw datagrams from many
// sockets at once, RTU over UDP, ServerStop, and makeServerForEndpoint.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "reactor/log.h"
#include "reactor/reactor.h"
#include "tests/support/pty_pair.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/subprocess.h"

namespace {

using testsupport::Bytes;
using testsupport::hexBytes;

/// The unit py/serial_checks.py expects (see tests/integration/serial_test.cc).
std::shared_ptr<modbus::ServerContext> makeContext() {
  auto d = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 1000),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 1000),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 1000),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 1000),
  });
  d->discreteInputs()->setValues(0, std::vector<bool>{true, false, true, true});
  d->inputRegisters()->setValues(0, {300, 301, 302});
  for (std::uint16_t i = 0; i < 1000; ++i) d->holdingRegisters()->setValues(i, {static_cast<std::uint16_t>(i < 10 ? 100 + i : i)});
  d->holdingRegisters()->setValues(30, {0x0012});
  return modbus::ServerContext::multiple({{1, d}});
}

/// A ModbusUdpServer on a reactor of its own in a background thread, listening on 127.0.0.1:0.
class UdpServerThread {
 public:
  explicit UdpServerThread(modbus::ServerOptions options = {}) : context_(makeContext()) {
    std::promise<void> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, options, &ready] {
      reactor::Reactor reactor;
      std::unique_ptr<modbus::ModbusUdpServer> server;
      try {
        server = std::make_unique<modbus::ModbusUdpServer>(reactor, context_, options);
        port_ = server->listen("udp:0:interface=127.0.0.1").port;
      } catch (...) {
        ready.set_exception(std::current_exception());
        return;
      }
      reactor_ = &reactor;
      server_ = server.get();
      ready.set_value();
      reactor.run(false);
      server.reset();
    });
    try {
      started.get();
    } catch (...) {
      thread_.join();
      throw;
    }
  }
  ~UdpServerThread() {
    reactor::Reactor* r = reactor_;
    modbus::ModbusUdpServer* s = server_;
    r->callFromThread([r, s] {
      s->shutdown();
      reactor::testing::stopIfRunning(*r);
    });
    thread_.join();
  }

  std::uint16_t port() const { return port_; }

  template <class F>
  auto call(F f) -> std::invoke_result_t<F> {
    auto done = std::make_shared<std::promise<std::invoke_result_t<F>>>();
    auto result = done->get_future();
    reactor_->callFromThread([done, f = std::move(f)]() mutable { done->set_value(f()); });
    if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      throw std::runtime_error("the reactor thread did not answer within 10 s");
    }
    return result.get();
  }
  modbus::ModbusUdpServer& server() { return *server_; }  // from inside call() only

 private:
  std::shared_ptr<modbus::ServerContext> context_;
  reactor::Reactor* reactor_ = nullptr;
  modbus::ModbusUdpServer* server_ = nullptr;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

/// A non-blocking UDP socket on 127.0.0.1, closed on scope exit.
class UdpSocket {
 public:
  UdpSocket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ~UdpSocket() { ::close(fd_); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  int fd() const { return fd_; }
  bool sendTo(std::uint16_t port, const Bytes& datagram) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
           static_cast<ssize_t>(datagram.size());
  }
  /// One datagram, waiting up to `timeoutSeconds`; empty on timeout.
  Bytes receive(double timeoutSeconds) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeoutSeconds * 1000)) <= 0) return {};
    std::uint8_t buf[2048];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? Bytes(buf, buf + n) : Bytes{};
  }

 private:
  int fd_;
};

/// MBAP "read one holding register at `address`" with transaction id `tid`.
Bytes readRequest(std::uint16_t tid, std::uint16_t address) {
  return Bytes{static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), 0, 0, 0, 6, 1, 3,
               static_cast<std::uint8_t>(address >> 8), static_cast<std::uint8_t>(address), 0, 1};
}

int runPymodbusUdp(std::uint16_t port, const std::string& framer) {
  testsupport::Subprocess script({"/usr/bin/python3", testsupport::sourceDir() + "/tests/integration/py/udp_client.py",
                                  "--port", std::to_string(port), "--framer", framer, "--unit", "1"});
  auto done = script.waitForLine("^(OK|FAILED|FAIL cannot)", 60);
  int code = script.wait(10).value_or(-1);
  INFO("pymodbus output:\n" << script.output());
  CHECK(done.has_value());
  CHECK(code == 0);
  return code;
}

const bool kQuiet = [] {
  reactor::log::setLevel(reactor::log::Level::Warning);
  return true;
}();

}  // namespace

TEST_CASE("the pymodbus UDP client gets every implemented function code") {
  UdpServerThread server;
  runPymodbusUdp(server.port(), "socket");
  CHECK(server.call([&] { return server.server().requestCount(); }) == 15);  // one per check of serial_checks.py
  CHECK(server.call([&] { return server.server().malformedCount(); }) == 0);
}

TEST_CASE("the pymodbus UDP client speaks RTU over UDP to a server framing RTU") {
  modbus::ServerOptions options;
  options.framer = modbus::FramerType::Rtu;
  UdpServerThread server(options);
  runPymodbusUdp(server.port(), "rtu");
}

TEST_CASE("raw datagrams from many sockets at once each get their own replies") {
  UdpServerThread server;
  constexpr int kSockets = 48;
  constexpr int kRounds = 4;
  constexpr int kPerRound = 2;  // 96 datagrams in flight per round: well inside a socket's receive buffer
  std::vector<std::unique_ptr<UdpSocket>> sockets;
  for (int s = 0; s < kSockets; ++s) sockets.push_back(std::make_unique<UdpSocket>());
  int wrong = 0;
  int received = 0;
  for (int round = 0; round < kRounds; ++round) {
    // A round's requests all go out before any reply is read: the server sees the peers interleaved.
    for (int i = 0; i < kPerRound; ++i) {
      for (int s = 0; s < kSockets; ++s) {
        const int n = round * kPerRound + i;
        REQUIRE(sockets[s]->sendTo(server.port(), readRequest(static_cast<std::uint16_t>(s * 100 + n),
                                                              static_cast<std::uint16_t>(100 + s * 10 + n))));
      }
    }
    for (int s = 0; s < kSockets; ++s) {
      std::map<int, int> seen;  // tid → register value
      for (int i = 0; i < kPerRound; ++i) {
        Bytes reply = sockets[s]->receive(5.0);
        if (reply.size() != 11) continue;
        ++received;
        seen[(reply[0] << 8) | reply[1]] = (reply[9] << 8) | reply[10];
      }
      for (int i = 0; i < kPerRound; ++i) {
        const int n = round * kPerRound + i;
        auto it = seen.find(s * 100 + n);
        if (it == seen.end() || it->second != 100 + s * 10 + n) ++wrong;
      }
    }
  }
  CHECK(received == kSockets * kRounds * kPerRound);
  CHECK(wrong == 0);
  CHECK(server.call([&] { return server.server().requestCount(); }) == kSockets * kRounds * kPerRound);
}

TEST_CASE("a malformed datagram is ignored and counted, and the server carries on") {
  UdpServerThread server;
  UdpSocket socket;
  socket.sendTo(server.port(), hexBytes("00 01 00 00 00 06 01 03"));  // half a request
  socket.sendTo(server.port(), hexBytes("00 02 00 00 00 06 01 03 00 00 00 01"));
  Bytes reply = socket.receive(5.0);
  CHECK(reply == hexBytes("00 02 00 00 00 05 01 03 02 00 64"));
  CHECK(socket.receive(0.1).empty());
  CHECK(server.call([&] { return server.server().malformedCount(); }) == 1);
}

TEST_CASE("ServerStop stops a running StartUdpServer") {
  std::size_t before = modbus::runningServerCount();
  std::promise<void> finished;
  auto done = finished.get_future();
  std::thread serving([&] {
    try {
      modbus::StartUdpServer(makeContext(), "udp:0:interface=127.0.0.1");
    } catch (...) {
    }
    finished.set_value();
  });
  // Bounded wait for the server to register (there is no port to probe: it listens on port 0).
  for (int i = 0; i < 500 && modbus::runningServerCount() == before; ++i) testsupport::sleepSeconds(0.01);
  CHECK(modbus::runningServerCount() == before + 1);
  modbus::ServerStop();
  CHECK(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  serving.join();
  CHECK(modbus::runningServerCount() == before);
}

TEST_CASE("makeServerForEndpoint builds a TCP, UDP or serial server, and leaves other types alone") {
  reactor::Reactor reactor;
  auto context = makeContext();
  auto udp = modbus::makeServerForEndpoint(reactor, "udp:0:interface=127.0.0.1", modbus::FramerType::Ascii, context);
  REQUIRE(udp);
  auto* asUdp = dynamic_cast<modbus::ModbusUdpServer*>(udp.get());
  REQUIRE(asUdp != nullptr);
  CHECK(asUdp->options().framer == modbus::FramerType::Ascii);
  CHECK(asUdp->addresses().at(0).port != 0);
  auto tcp = modbus::makeServerForEndpoint(reactor, "tcp:0:interface=127.0.0.1", modbus::FramerType::Rtu, context);
  REQUIRE(tcp);
  CHECK(dynamic_cast<modbus::ModbusTcpServer*>(tcp.get()) != nullptr);
  testsupport::Pty pty;
  auto serial = modbus::makeServerForEndpoint(reactor, "serial:" + pty.slavePath() + ":baudrate=9600:framer=ascii",
                                              modbus::FramerType::Rtu, context);
  REQUIRE(serial);
  auto* asSerial = dynamic_cast<modbus::ModbusSerialServer*>(serial.get());
  REQUIRE(asSerial != nullptr);
  CHECK(asSerial->isOpen());
  CHECK(asSerial->options().line.framer == modbus::FramerType::Ascii);
  CHECK(modbus::makeServerForEndpoint(reactor, "tls:0:certKey=x.pem", modbus::FramerType::MbapInTls, context) == nullptr);
  CHECK_THROWS_AS(modbus::makeServerForEndpoint(reactor, "udp:nope", modbus::FramerType::Socket, context),
                  reactor::EndpointError);
  udp->shutdown();
  tcp->shutdown();
  serial->shutdown();
}

TEST_CASE("an RTU-over-UDP server answers a raw RTU datagram") {
  modbus::ServerOptions options;
  options.framer = modbus::FramerType::Rtu;
  UdpServerThread server(options);
  UdpSocket socket;
  socket.sendTo(server.port(), testsupport::withCrc(hexBytes("01 02 00 00 00 04")));
  CHECK(socket.receive(5.0) == testsupport::withCrc(hexBytes("01 02 01 0D")));
}
