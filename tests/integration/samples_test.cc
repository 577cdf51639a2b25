// Smoke tests of the samples (samples/NN_name.cc): each one starts, does its job for a real client,
// and exits cleanly on SIGTERM. Skipped when the build was configured with UVMODBUS_SAMPLES=OFF.
#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/pty_pair.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

using testsupport::Subprocess;

namespace {

constexpr double kStartTimeout = 10.0;
constexpr double kExitTimeout = 5.0;

/// The samples folder of the build exists only when the samples were configured.
bool samplesConfigured() { return std::filesystem::is_directory(testsupport::buildDir() + "/samples"); }

std::string samplePath(const std::string& name) {
  std::string path = testsupport::buildDir() + "/samples/" + name;
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing " << path << ": build the `samples` target");
  return path;
}

int portFrom(Subprocess& p, const std::string& regex) {
  auto m = p.waitForLine(regex, kStartTimeout);
  REQUIRE_MESSAGE(m.has_value(), "no listening line; output:\n" << p.output());
  return std::stoi((*m)[1]);
}

/// Sends `message` to 127.0.0.1:port and reads until as many bytes came back (bounded by poll
/// timeouts), returning what came back.
std::string echoRoundTrip(int port, const std::string& message) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, message.data(), message.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(message.size())) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (got.size() < message.size() && std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 1000) <= 0) continue;
      char buf[256];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return got;
}

/// Sends one datagram to 127.0.0.1:port and waits (poll, bounded) for one answer; "" if none came.
std::string udpRoundTrip(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string got;
  if (::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
      static_cast<ssize_t>(request.size())) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 5000) == 1) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) got.assign(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return got;
}

std::string asString(const testsupport::Bytes& b) { return std::string(b.begin(), b.end()); }

/// Reads `count` holding registers from 127.0.0.1:port (unit 1) with libmodbus; nullopt on failure.
std::optional<std::vector<std::uint16_t>> readHolding(int port, int address, int count) {
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
  REQUIRE(ctx != nullptr);
  modbus_set_slave(ctx, 1);
  modbus_set_response_timeout(ctx, 2, 0);
  std::optional<std::vector<std::uint16_t>> out;
  std::vector<std::uint16_t> regs(static_cast<std::size_t>(count));
  if (modbus_connect(ctx) == 0 && modbus_read_registers(ctx, address, count, regs.data()) == count) out = regs;
  modbus_close(ctx);
  modbus_free(ctx);
  return out;
}

}  // namespace

TEST_CASE("sample 01_echo_server echoes what it receives" * doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("01_echo_server"), "0", "127.0.0.1"});
  int port = portFrom(p, R"(listening on 127\.0\.0\.1:(\d+))");
  CHECK(port != 0);
  CHECK(echoRoundTrip(port, "hello, twisted\n") == "hello, twisted\n");
  std::string binary("\x00\x01\xff\x7f", 4);
  CHECK(echoRoundTrip(port, binary) == binary);
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
}

TEST_CASE("sample 02_modbus_tcp_server answers a libmodbus read" * doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("02_modbus_tcp_server"), "tcp:0:interface=127.0.0.1"});
  int port = portFrom(p, R"(listening on tcp 127\.0\.0\.1:(\d+))");
  auto regs = readHolding(port, 0, 3);
  REQUIRE(regs.has_value());
  CHECK(*regs == std::vector<std::uint16_t>{17, 17, 17});
  CHECK(readHolding(port, 99, 2) == std::nullopt);  // the block holds addresses 0..99
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
}

TEST_CASE("sample 11_persistent_server keeps a written register across kill -9" * doctest::skip(!samplesConfigured())) {
  testsupport::TempDir dir("uvmodbus-sample10");
  {
    Subprocess p({samplePath("11_persistent_server"), dir.path(), "tcp:0:interface=127.0.0.1"});
    int port = portFrom(p, R"(listening on tcp 127\.0\.0\.1:(\d+))");
    CHECK(p.output().find("first start: created " + dir.file("device.state")) != std::string::npos);
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
    REQUIRE(ctx != nullptr);
    modbus_set_slave(ctx, 1);
    REQUIRE(modbus_connect(ctx) == 0);
    CHECK(modbus_write_register(ctx, 5, 4242) == 1);
    modbus_close(ctx);
    modbus_free(ctx);
    p.signal(SIGKILL);
    CHECK(p.wait(kExitTimeout) == std::optional<int>(128 + SIGKILL));
  }
  Subprocess p({samplePath("11_persistent_server"), dir.path(), "tcp:0:interface=127.0.0.1"});
  int port = portFrom(p, R"(listening on tcp 127\.0\.0\.1:(\d+))");
  CHECK(p.output().find("restored the stored values from") != std::string::npos);
  CHECK(readHolding(port, 4, 2) == std::vector<std::uint16_t>{17, 4242});
}

TEST_CASE("sample 03_updating_server increments registers between reads" * doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("03_updating_server"), "0.1", "tcp:0:interface=127.0.0.1"});
  int port = portFrom(p, R"(listening on tcp 127\.0\.0\.1:(\d+))");
  auto first = readHolding(port, 0, 10);
  REQUIRE(first.has_value());
  // The sample logs each update with the new value: wait (bounded in lines and time) for one past
  // what we read.
  int updated = -1;
  for (int i = 0; i < 20 && updated <= (*first)[0]; ++i) {
    auto line = p.waitForLine(R"(updated holding registers 0\.\.9 to (\d+))", 2.0);
    REQUIRE_MESSAGE(line.has_value(), "no update logged; output:\n" << p.output());
    updated = std::stoi((*line)[1]);
  }
  REQUIRE(updated > (*first)[0]);
  auto later = readHolding(port, 0, 10);
  REQUIRE(later.has_value());
  CHECK((*later)[0] > (*first)[0]);
  CHECK((*later)[0] >= updated);
  for (std::size_t i = 1; i < 10; ++i) CHECK((*later)[i] == (*later)[0]);  // all ten move together
  auto untouched = readHolding(port, 10, 1);
  REQUIRE(untouched.has_value());
  CHECK((*untouched)[0] == 17);  // only registers 0..9 are updated
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
}

namespace {

/// Sends one MBAP request (transaction id 1, `unit`, `pdu`) to 127.0.0.1:port and returns the
/// answer's PDU, or an empty vector when none came within 5 s.
std::vector<std::uint8_t> mbapRoundTrip(int port, std::uint8_t unit, const std::vector<std::uint8_t>& pdu) {
  std::string frame{0, 1, 0, 0, 0, static_cast<char>(pdu.size() + 1), static_cast<char>(unit)};
  frame.append(pdu.begin(), pdu.end());
  std::string got;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(frame.size())) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::size_t want = 7;
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 1000) <= 0) continue;
      char buf[300];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
      if (got.size() >= 6) want = 6 + ((static_cast<unsigned char>(got[4]) << 8) | static_cast<unsigned char>(got[5]));
    }
  }
  ::close(fd);
  if (got.size() < 8) return {};
  return std::vector<std::uint8_t>(got.begin() + 7, got.end());
}

}  // namespace

/// readHolding for another unit id.
static std::optional<std::vector<std::uint16_t>> readHoldingOf(int port, int unit, int address, int count) {
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
  REQUIRE(ctx != nullptr);
  modbus_set_slave(ctx, unit);
  modbus_set_response_timeout(ctx, 2, 0);
  std::optional<std::vector<std::uint16_t>> out;
  std::vector<std::uint16_t> regs(static_cast<std::size_t>(count));
  if (modbus_connect(ctx) == 0 && modbus_read_registers(ctx, address, count, regs.data()) == count) out = regs;
  modbus_close(ctx);
  modbus_free(ctx);
  return out;
}

TEST_CASE("sample 10_blocking_datastore answers its blocking unit 1 and its plain unit 2" *
          doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("10_blocking_datastore"), "tcp:0:interface=127.0.0.1"});
  int port = portFrom(p, R"(listening on tcp 127\.0\.0\.1:(\d+))");
  CHECK(readHoldingOf(port, 1, 0, 2) == std::optional<std::vector<std::uint16_t>>({1, 1}));
  CHECK(readHoldingOf(port, 2, 0, 2) == std::optional<std::vector<std::uint16_t>>({2, 2}));
  CHECK(readHoldingOf(port, 1, 99, 2) == std::nullopt);  // an exception answer, through the pool
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
}

TEST_CASE("sample 07_custom_function answers FC 55 and its two sub-functions" * doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("07_custom_function"), "tcp:0:interface=127.0.0.1"});
  int port = portFrom(p, R"(listening on tcp 127\.0\.0\.1:(\d+))");
  using Bytes = std::vector<std::uint8_t>;
  CHECK(mbapRoundTrip(port, 1, {55, 0x01, 0x00, 0x05, 0x03}) == Bytes{55, 0x01, 6, 0, 5, 0, 6, 0, 7});
  CHECK(mbapRoundTrip(port, 1, {55, 0x02, 0x00, 0x05, 0x03}) == Bytes{55, 0x02, 0, 18});
  CHECK(mbapRoundTrip(port, 1, {55, 0x03, 0x00, 0x05, 0x03}) == Bytes{55 | 0x80, 0x01});
  CHECK(mbapRoundTrip(port, 1, {55, 0x01, 0x00, 0x05, 0x00}) == Bytes{55 | 0x80, 0x03});
  CHECK(mbapRoundTrip(port, 1, {55, 0x01, 0x00, 0x63, 0x02}) == Bytes{55 | 0x80, 0x02});
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
}

TEST_CASE("sample 08_gateway forwards unit 1 to its downstream server and serves unit 2 itself" *
          doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("08_gateway"), "tcp:0:interface=127.0.0.1"});
  auto m = p.waitForLine(R"(gateway on 127\.0\.0\.1:(\d+) forwards unit 1)", kStartTimeout);
  REQUIRE_MESSAGE(m.has_value(), "no gateway line; output:\n" << p.output());
  const int port = std::stoi((*m)[1]);
  auto forwarded = readHolding(port, 0, 3);
  REQUIRE(forwarded.has_value());
  CHECK(*forwarded == std::vector<std::uint16_t>{1234, 1234, 1234});
  using Bytes = std::vector<std::uint8_t>;
  CHECK(mbapRoundTrip(port, 2, {0x03, 0x00, 0x00, 0x00, 0x01}) == Bytes{0x03, 0x02, 0x00, 0x02});
  CHECK(mbapRoundTrip(port, 1, {0x03, 0x00, 0x63, 0x00, 0x02}) == Bytes{0x83, 0x02});  // downstream's exception
  CHECK(mbapRoundTrip(port, 3, {0x03, 0x00, 0x00, 0x00, 0x01}) == Bytes{0x83, 0x0B});  // no unit 3
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
}

TEST_CASE("sample 04_udp_server answers MBAP and RTU datagrams" * doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("04_udp_server"), "udp:0:interface=127.0.0.1"});
  int port = portFrom(p, R"(listening on udp 127\.0\.0\.1:(\d+) \(framer socket\))");
  // Read holding registers 0..2 of unit 1, transaction 0x1234: three 17s.
  CHECK(udpRoundTrip(port, asString(testsupport::hexBytes("12 34 00 00 00 06 01 03 00 00 00 03"))) ==
        asString(testsupport::hexBytes("12 34 00 00 00 09 01 03 06 00 11 00 11 00 11")));
  // Report Device Identification (43 / 14, basic): the identity the sample sets.
  std::string identity = udpRoundTrip(port, asString(testsupport::hexBytes("00 01 00 00 00 05 01 2B 0E 01 00")));
  CHECK(identity.find("uvmodbus") != std::string::npos);
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));

  Subprocess rtu({samplePath("04_udp_server"), "udp:0:interface=127.0.0.1", "rtu"});
  port = portFrom(rtu, R"(listening on udp 127\.0\.0\.1:(\d+) \(framer rtu\))");
  CHECK(udpRoundTrip(port, asString(testsupport::withCrc(testsupport::hexBytes("01 04 00 63 00 01")))) ==
        asString(testsupport::withCrc(testsupport::hexBytes("01 04 02 00 11"))));
  rtu.signal(SIGTERM);
  CHECK(rtu.wait(kExitTimeout) == std::optional<int>(0));
}

TEST_CASE("sample 06_serial_server answers RTU on a pseudo-terminal" * doctest::skip(!samplesConfigured())) {
  testsupport::Pty pty;
  Subprocess p({samplePath("06_serial_server"), pty.slavePath(), "9600"});
  auto ready = p.waitForLine("serving Modbus rtu on serial " + pty.slavePath() + " 9600 8N1", kStartTimeout);
  REQUIRE_MESSAGE(ready.has_value(), p.output());
  REQUIRE(pty.write(testsupport::withCrc(testsupport::hexBytes("01 03 00 00 00 02"))));
  auto answer = testsupport::withCrc(testsupport::hexBytes("01 03 04 00 11 00 11"));
  CHECK(pty.read(answer.size(), 5.0) == answer);
  // Write coil 5 off, then read coils 0..7: all on (the sample starts them at 1) but coil 5.
  auto writeCoil = testsupport::withCrc(testsupport::hexBytes("01 05 00 05 00 00"));
  REQUIRE(pty.write(writeCoil));
  CHECK(pty.read(writeCoil.size(), 5.0) == writeCoil);
  REQUIRE(pty.write(testsupport::withCrc(testsupport::hexBytes("01 01 00 00 00 08"))));
  auto coils = testsupport::withCrc(testsupport::hexBytes("01 01 01 DF"));
  CHECK(pty.read(coils.size(), 5.0) == coils);
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));

  Subprocess usage({samplePath("06_serial_server")});
  CHECK(usage.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(usage.output().find("usage: 06_serial_server DEVICE [BAUDRATE [rtu|ascii]]") != std::string::npos);
}

