// End-to-end tests of the uvmodbus-server command: a real process, a temp JSON config, libmodbus as
// the client, signals and exit codes.
#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

using testsupport::Subprocess;

namespace {

constexpr double kStartTimeout = 10.0;  // generous: sanitizer builds start slowly
constexpr double kExitTimeout = 5.0;
constexpr const char* kListening = R"(listening on tcp 127\.0\.0\.1:(\d+))";

std::string serverPath() {
  std::string path = testsupport::buildDir() + "/uvmodbus-server";
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing " << path << ": build the uvmodbus-server target");
  return path;
}

/// A configuration file in the build directory, removed at the end of the test.
class TempConfig {
 public:
  explicit TempConfig(const std::string& json) {
    static std::atomic<int> counter{0};
    path_ = testsupport::buildDir() + "/server_command_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++) + ".json";
    std::ofstream out(path_);
    out << json;
  }
  ~TempConfig() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr const char* kConfig = R"({
  "servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}],
  "units": {"1": {"holding_registers": {"start": 0, "count": 10, "values": [1, 2, 3]},
                  "coils": {"values": [1, 0, 1]}}}})";

/// A libmodbus TCP client, freed on every path.
class Client {
 public:
  Client(int port, int unit) : ctx_(modbus_new_tcp("127.0.0.1", port)) {
    REQUIRE(ctx_ != nullptr);
    modbus_set_slave(ctx_, unit);
    modbus_set_response_timeout(ctx_, 2, 0);
  }
  ~Client() {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
  bool connect() { return modbus_connect(ctx_) == 0; }
  modbus_t* get() { return ctx_; }

 private:
  modbus_t* ctx_;
};

int listeningPort(Subprocess& p) {
  auto m = p.waitForLine(kListening, kStartTimeout);
  REQUIRE_MESSAGE(m.has_value(), "no listening line; output:\n" << p.output());
  return std::stoi((*m)[1]);
}

}  // namespace

TEST_CASE("uvmodbus-server serves its configured registers and exits 0 on SIGTERM") {
  TempConfig config(kConfig);
  Subprocess p({serverPath(), "--config", config.path()});
  int port = listeningPort(p);
  {
    Client client(port, 1);
    REQUIRE(client.connect());
    CHECK(p.waitForLine("client connected: 127\\.0\\.0\\.1:", kStartTimeout).has_value());
    std::uint16_t regs[4] = {};
    REQUIRE(modbus_read_registers(client.get(), 0, 4, regs) == 4);
    CHECK(std::vector<std::uint16_t>(regs, regs + 4) == std::vector<std::uint16_t>{1, 2, 3, 0});
    REQUIRE(modbus_write_register(client.get(), 9, 4321) == 1);
    REQUIRE(modbus_read_registers(client.get(), 9, 1, regs) == 1);
    CHECK(regs[0] == 4321);
    CHECK(modbus_read_registers(client.get(), 9, 2, regs) == -1);  // register 10 is not configured
    CHECK(errno == EMBXILADD);
    std::uint8_t bits[3] = {};
    REQUIRE(modbus_read_bits(client.get(), 0, 3, bits) == 3);
    CHECK(std::vector<int>{bits[0], bits[1], bits[2]} == std::vector<int>{1, 0, 1});
    modbus_set_slave(client.get(), 2);  // not in the config: exception 0x0B
    CHECK(modbus_read_registers(client.get(), 0, 1, regs) == -1);
    CHECK(errno == EMBXGTAR);
  }
  CHECK(p.waitForLine("client disconnected: 127\\.0\\.0\\.1:", kStartTimeout).has_value());
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  std::string out = p.output();
  CHECK(out.find("received signal SIGTERM, shutting down") != std::string::npos);
  CHECK(out.find("uvmodbus-server stopped") != std::string::npos);
}

TEST_CASE("uvmodbus-server stops on SIGINT, closing a connected client gracefully") {
  TempConfig config(kConfig);
  Subprocess p({serverPath(), "--config", config.path(), "--log-level", "debug"});
  int port = listeningPort(p);
  Client client(port, 1);
  REQUIRE(client.connect());
  std::uint16_t reg = 0;
  REQUIRE(modbus_read_registers(client.get(), 2, 1, &reg) == 1);
  CHECK(reg == 3);
  p.signal(SIGINT);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  CHECK(p.output().find("received signal SIGINT, shutting down") != std::string::npos);
  CHECK(p.output().find("uvmodbus-server stopped") != std::string::npos);
  CHECK(modbus_read_registers(client.get(), 2, 1, &reg) == -1);  // the server closed the connection
}

TEST_CASE("uvmodbus-server exits 2 naming the key of a bad configuration") {
  TempConfig config(R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}],
                        "units": {"1": {"holding_registers": {"values": [0, 1, 2, 70000]}}}})");
  Subprocess p({serverPath(), "--config", config.path()});
  CHECK(p.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(p.output().find("units.1.holding_registers.values[3]: 70000 is not a register value (0..65535)") !=
        std::string::npos);
  CHECK(p.output().find(config.path()) != std::string::npos);
}

TEST_CASE("uvmodbus-server exits 2 on an unknown key, a missing file or a bad command line") {
  TempConfig typo(R"({"servers": [{"endpoint": "tcp:0", "framr": "rtu"}], "units": {"1": {}}})");
  Subprocess unknownKey({serverPath(), "--config", typo.path()});
  CHECK(unknownKey.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(unknownKey.output().find("servers[0].framr: unknown key") != std::string::npos);

  Subprocess missingFile({serverPath(), "--config", testsupport::buildDir() + "/no-such-config.json"});
  CHECK(missingFile.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(missingFile.output().find("no-such-config.json: cannot read") != std::string::npos);

  Subprocess noConfig({serverPath()});
  CHECK(noConfig.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(noConfig.output().find("--config is required") != std::string::npos);

  Subprocess badLevel({serverPath(), "--config", typo.path(), "--log-level", "loud"});
  CHECK(badLevel.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(badLevel.output().find("--log-level") != std::string::npos);
}

TEST_CASE("uvmodbus-server --check validates the configuration without serving") {
  TempConfig good(kConfig);
  Subprocess ok({serverPath(), "--config", good.path(), "--check"});
  CHECK(ok.wait(kExitTimeout) == std::optional<int>(0));
  CHECK(ok.output().find(": OK: 1 server(s), 1 unit(s)") != std::string::npos);
  CHECK(ok.output().find("listening") == std::string::npos);

  Subprocess defaults({serverPath(), "--config", testsupport::sourceDir() + "/config/default.json", "--check"});
  CHECK(defaults.wait(kExitTimeout) == std::optional<int>(0));

  TempConfig bad(R"({"servers": [{"endpoint": "tcp:0"}], "units": {"0": {}}})");
  Subprocess notOk({serverPath(), "--config", bad.path(), "--check"});
  CHECK(notOk.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(notOk.output().find("units.0: unit id 0 is the broadcast address") != std::string::npos);
}

TEST_CASE("uvmodbus-server exits 1 when its port cannot be bound") {
  // Hold a port on 127.0.0.1 so the server's bind fails with EADDRINUSE.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  int port = ntohs(addr.sin_port);

  TempConfig config(R"({"servers": [{"endpoint": "tcp:)" + std::to_string(port) +
                    R"(:interface=127.0.0.1"}], "units": {"1": {"coils": {"count": 1}}}})");
  Subprocess p({serverPath(), "--config", config.path()});
  CHECK(p.wait(kExitTimeout) == std::optional<int>(1));
  CHECK(p.output().find("couldn't listen on 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(p.output().find("EADDRINUSE") != std::string::npos);
  ::close(fd);
}
