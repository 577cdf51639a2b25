// The Redis store over a UNIX socket (issue 11 §2 "unix:PATH") and a Modbus server listening on a
// UNIX socket (issue 12 §3): a real redis-server started by the test with `--port 0 --unixsocket
// DIR/redis.sock` (no TCP listener at all) in its own temporary directory, ended by its PID, and two
// uvmodbus-server processes on one prefix — one serving Modbus/TCP, the other MBAP on a unix:
// endpoint, driven over an AF_UNIX socket. Every wait is bounded; nothing sleeps.
#include <doctest/doctest.h>
#include <modbus/modbus.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace {

using testsupport::Subprocess;
using Registers = std::vector<std::uint16_t>;

constexpr double kStartTimeout = 10.0;
constexpr double kExitTimeout = 5.0;

std::unique_ptr<Subprocess> startRedis(const std::string& dir) {
  const std::string binary = "/usr/bin/redis-server";
  REQUIRE_MESSAGE(std::filesystem::exists(binary), "redis-server is missing: run scripts/setup.sh");
  auto redis = std::make_unique<Subprocess>(std::vector<std::string>{
      binary, "--port", "0", "--unixsocket", dir + "/redis.sock", "--unixsocketperm", "700", "--dir", dir, "--save",
      "", "--appendonly", "no"});
  REQUIRE_MESSAGE(redis->waitForLine("[Rr]eady to accept connections", kStartTimeout).has_value(),
                  "redis-server did not start; output:\n" << redis->output());
  return redis;
}

/// A uvmodbus-server on `endpoint`, its units in Redis at `redisSocket`; ready once it listens and
/// both Redis connections (commands, subscription) are up.
struct Server {
  std::unique_ptr<Subprocess> process;
  std::vector<std::string> listening;  // the captures of the listening line
  Server(const testsupport::TempDir& dir, const std::string& name, const std::string& endpoint,
         const std::string& redisSocket, const std::string& listenRegex) {
    const std::string path = dir.file(name);
    std::ofstream(path) << R"({"servers": [{"endpoint": ")" << endpoint << R"("}], "store": "redis",
        "redis": {"endpoint": "unix:)" << redisSocket << R"(", "prefix": "sock", "timeout": 0.5},
        "units": {"1": {"holding_registers": {"count": 10, "values": [21, 22, 23]}}}})";
    process = std::make_unique<Subprocess>(
        std::vector<std::string>{testsupport::buildDir() + "/uvmodbus-server", "--config", path});
    auto m = process->waitForLine(listenRegex, kStartTimeout);
    REQUIRE_MESSAGE(m.has_value(), "no listening line; output:\n" << process->output());
    listening = *m;
    for (int i = 0; i < 2; ++i) {
      REQUIRE_MESSAGE(process->waitForLine(R"(redis( unix:\S+ connected|: subscribed to ))", kStartTimeout).has_value(),
                      "not connected to redis over its unix socket; output:\n" << process->output());
    }
  }
  ~Server() {
    if (!process) return;
    process->signal(SIGTERM);
    CHECK(process->wait(kExitTimeout) == std::optional<int>(0));
  }
};

/// FC3 over MBAP on an AF_UNIX stream socket; empty on any failure (3 s bound on each step).
Registers readOverUnix(const std::string& path, std::uint16_t address, std::uint16_t count) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  Registers out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::uint8_t request[12] = {0x12, 0x34, 0, 0, 0, 6, 1, 3, std::uint8_t(address >> 8), std::uint8_t(address),
                                      std::uint8_t(count >> 8), std::uint8_t(count)};
    std::vector<std::uint8_t> response(9 + 2u * count);
    std::size_t got = 0;
    if (::write(fd, request, sizeof request) == static_cast<ssize_t>(sizeof request)) {
      for (int reads = 0; reads < 100 && got < response.size(); ++reads) {
        ssize_t n = ::read(fd, response.data() + got, response.size() - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
    }
    if (got == response.size() && response[0] == 0x12 && response[1] == 0x34 && response[7] == 3 &&
        response[8] == 2 * count) {
      for (std::size_t i = 0; i < count; ++i) out.push_back(std::uint16_t(response[9 + 2 * i] << 8 | response[10 + 2 * i]));
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("redis store over unix:PATH: two servers share registers, one serving Modbus on a unix: socket") {
  // A short directory: a UNIX socket path must fit in 107 bytes.
  testsupport::TempDir dir("uvm-redis");
  auto redis = startRedis(dir.path());
  const std::string redisSocket = dir.file("redis.sock");
  const std::string modbusSocket = dir.file("modbus.sock");
  {
    Server tcp(dir, "tcp.json", "tcp:0:interface=127.0.0.1", redisSocket, R"(listening on tcp 127\.0\.0\.1:(\d+))");
    Server onUnix(dir, "unix.json", "unix:" + modbusSocket + ":mode=0600", redisSocket,
                  "listening on unix:(" + modbusSocket + ")");
    struct stat st {};
    REQUIRE(::stat(modbusSocket.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    CHECK(readOverUnix(modbusSocket, 0, 4) == Registers{21, 22, 23, 0});
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", std::stoi(tcp.listening[1]));
    REQUIRE(ctx != nullptr);
    modbus_set_slave(ctx, 1);
    modbus_set_response_timeout(ctx, 3, 0);
    REQUIRE(modbus_connect(ctx) == 0);
    const std::uint16_t values[2] = {500, 600};
    CHECK(modbus_write_registers(ctx, 1, 2, values) == 2);
    modbus_close(ctx);
    modbus_free(ctx);
    // Acknowledged over TCP by one server, read through Redis's UNIX socket by the other.
    CHECK(readOverUnix(modbusSocket, 0, 4) == Registers{21, 500, 600, 0});
  }
  // The server removed its socket file (and its lock) when it stopped.
  CHECK_FALSE(std::filesystem::exists(modbusSocket));
  CHECK_FALSE(std::filesystem::exists(modbusSocket + ".lock"));
  redis->signal(SIGTERM);
  CHECK(redis->wait(kExitTimeout).has_value());
}
