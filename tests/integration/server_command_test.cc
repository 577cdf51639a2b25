// End-to-end tests of the uvmodbus-server command: a real process, a temp JSON config, libmodbus,
// raw UDP datagrams, a pseudo-terminal and TLS clients on our own reactor; signals and exit codes.
#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "reactor/bytes.h"
#include "reactor/reactor.h"
#include "reactor/tls.h"
#include "tests/support/certs.h"
#include "tests/support/pty_pair.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/subprocess.h"

using reactor::testing::AccumulatingProtocol;
using reactor::testing::runReactor;
using reactor::testing::stopIfRunning;
using reactor::testing::TestClientFactory;
using testsupport::Subprocess;
using testsupport::testCertificates;

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

TEST_CASE("uvmodbus-server refuses a configuration it cannot read in bounded time: /dev/zero, a FIFO, a directory, deep nesting") {
  const std::string fifo = testsupport::buildDir() + "/server_command_test_fifo_" + std::to_string(::getpid());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  TempConfig deep(std::string(100000, '[') + std::string(100000, ']'));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/dev/zero", "/dev/zero: is not a regular file (a FIFO, a device or a socket); give a JSON file"},
      {fifo, fifo + ": is not a regular file (a FIFO, a device or a socket); give a JSON file"},
      {testsupport::buildDir(), testsupport::buildDir() + ": is a directory, not a configuration file"},
      {deep.path(), deep.path() + ": [0][0]"}};
  for (const auto& [path, message] : cases) {
    for (bool check : {false, true}) {
      std::vector<std::string> argv = {serverPath(), "--config", path};
      if (check) argv.push_back("--check");
      Subprocess p(argv);
      CHECK(p.wait(kExitTimeout) == std::optional<int>(2));  // a hang or a 3 GB read would time out here
      CHECK_MESSAGE(p.output().find("uvmodbus-server: bad configuration: " + message) != std::string::npos,
                    p.output());
    }
  }
  ::unlink(fifo.c_str());
}

TEST_CASE("uvmodbus-server --check refuses what start-up refuses, with the same message and exit code") {
  const auto& certs = testsupport::testCertificates();
  const std::string units = R"(, "units": {"1": {"coils": {"count": 1}}}})";
  TempConfig badInterface(R"({"servers": [{"endpoint": "tcp:0:interface=999.1.1.1"}])" + units);
  TempConfig wrongKey(R"({"servers": [{"endpoint": "tls:0:interface=127.0.0.1:cert=)" + certs.server.cert +
                      ":key=" + certs.readerClient.key + ":ca=" + certs.ca.cert + R"("}])" + units);
  TempConfig missingCert(R"({"servers": [{"endpoint": "tls:0:interface=127.0.0.1:cert=)" + certs.dir +
                         "/no-such.pem:key=" + certs.server.key + ":ca=" + certs.ca.cert + R"("}])" + units);
  TempConfig noDevice(R"({"servers": [{"endpoint": "serial:/dev/uvmodbus-no-such-tty"}])" + units);
  const std::vector<std::tuple<const TempConfig*, int, std::string>> cases = {
      {&badInterface, 1, "uvmodbus-server: CannotListenError: couldn't listen on 999.1.1.1:0: invalid argument (EINVAL)"},
      {&wrongKey, 2, "servers[0].endpoint: "},
      {&missingCert, 2, "no-such.pem"},
      {&noDevice, 1, "uvmodbus-server: SerialPortError: cannot open /dev/uvmodbus-no-such-tty: No such file or directory"}};
  for (const auto& [config, code, message] : cases) {
    Subprocess checked({serverPath(), "--config", config->path(), "--check"});
    Subprocess started({serverPath(), "--config", config->path()});
    CHECK(checked.wait(kExitTimeout) == std::optional<int>(code));
    CHECK(started.wait(kExitTimeout) == std::optional<int>(code));
    CHECK_MESSAGE(checked.output().find(message) != std::string::npos, checked.output());
    CHECK(checked.output() == started.output());
  }
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

// --- udp:, serial: and tls: endpoints, SIGHUP ----------------------------------------------------------

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

/// MBAP "read holding registers 0..1 of unit 1" with transaction id `tid`, and its answer when they
/// hold 1 and 2.
std::string mbapRead(int tid) { return bytes({0, tid, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2}); }
std::string mbapReadAnswer(int tid) { return bytes({0, tid, 0, 0, 0, 7, 1, 3, 4, 0, 1, 0, 2}); }

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

constexpr const char* kUnits = R"("units": {"1": {"holding_registers": {"count": 10, "values": [1, 2, 3]}}})";

}  // namespace

TEST_CASE("uvmodbus-server serves a udp: endpoint, and SIGHUP without TLS servers changes nothing") {
  TempConfig config(std::string(R"({"servers": [{"endpoint": "udp:0:interface=127.0.0.1"},
                                                {"endpoint": "udp:0:interface=127.0.0.1", "framer": "rtu"}], )") +
                    kUnits + "}");
  Subprocess p({serverPath(), "--config", config.path()});
  auto mbap = p.waitForLine(R"(listening on udp 127\.0\.0\.1:(\d+) \(framer socket\))", kStartTimeout);
  REQUIRE_MESSAGE(mbap.has_value(), p.output());
  auto rtu = p.waitForLine(R"(listening on udp 127\.0\.0\.1:(\d+) \(framer rtu\))", kStartTimeout);
  REQUIRE_MESSAGE(rtu.has_value(), p.output());
  CHECK(udpRoundTrip(std::stoi((*mbap)[1]), mbapRead(7)) == mbapReadAnswer(7));
  auto rtuRequest = testsupport::withCrc(testsupport::hexBytes("01 03 00 01 00 02"));
  auto rtuAnswer = testsupport::withCrc(testsupport::hexBytes("01 03 04 00 02 00 03"));
  CHECK(udpRoundTrip(std::stoi((*rtu)[1]), std::string(rtuRequest.begin(), rtuRequest.end())) ==
        std::string(rtuAnswer.begin(), rtuAnswer.end()));

  p.signal(SIGHUP);  // the default action would end the process
  CHECK(p.waitForLine("received signal SIGHUP: no TLS server, nothing to reload", kStartTimeout).has_value());
  CHECK(udpRoundTrip(std::stoi((*mbap)[1]), mbapRead(8)) == mbapReadAnswer(8));
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
}

TEST_CASE("uvmodbus-server serves RTU on a serial: endpoint (a pseudo-terminal)") {
  testsupport::Pty pty;
  TempConfig config(R"({"servers": [{"endpoint": "serial:)" + pty.slavePath() +
                    R"(:baudrate=19200:parity=E:stopbits=1", "framer": "rtu"}], )" + kUnits + "}");
  Subprocess p({serverPath(), "--config", config.path()});
  REQUIRE_MESSAGE(p.waitForLine("serving Modbus rtu on serial " + pty.slavePath() + " 19200 8E1", kStartTimeout).has_value(),
                  p.output());
  REQUIRE(pty.write(testsupport::withCrc(testsupport::hexBytes("01 03 00 00 00 03"))));
  auto expected = testsupport::withCrc(testsupport::hexBytes("01 03 06 00 01 00 02 00 03"));
  CHECK(pty.read(expected.size(), 5.0) == expected);
  // Unit 2 is not served: silence, as on a shared line.
  REQUIRE(pty.write(testsupport::withCrc(testsupport::hexBytes("02 03 00 00 00 01"))));
  CHECK(pty.readFor(0.3).empty());
  REQUIRE(pty.write(testsupport::withCrc(testsupport::hexBytes("01 06 00 09 04 D2"))));  // write 1234 to register 9
  auto echo = testsupport::withCrc(testsupport::hexBytes("01 06 00 09 04 D2"));
  CHECK(pty.read(echo.size(), 5.0) == echo);
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
}

namespace {

/// A connectTLS client that collects what the server sends.
struct TlsTestClient {
  std::shared_ptr<TestClientFactory<>> factory = std::make_shared<TestClientFactory<>>();
  AccumulatingProtocol* protocol() const { return factory->protocols.empty() ? nullptr : factory->protocols[0].get(); }
  std::string serverSubject() const {
    auto* p = protocol();
    if (p == nullptr) return {};
    auto& tls = dynamic_cast<reactor::ITLSTransport&>(p->transport());
    return tls.peerCertificate() ? tls.peerCertificate()->subject : std::string();
  }
};

TlsTestClient connectTls(reactor::Reactor& reactor, int port, const testsupport::CertFiles& cert,
                         const std::string& firstRequest) {
  TlsTestClient c;
  c.factory->setup = [firstRequest](AccumulatingProtocol& p) {
    p.onMade = [firstRequest](AccumulatingProtocol& made) { made.transport().write(reactor::asBytes(firstRequest)); };
  };
  reactor::TlsOptions o;
  o.caFile = testCertificates().ca.cert;
  o.serverName = "localhost";
  o.certFile = cert.cert;
  o.keyFile = cert.key;
  reactor::connectTLS(reactor, "127.0.0.1", static_cast<std::uint16_t>(port), c.factory, o, 5);
  return c;
}

/// Calls `then` once `ready()` holds, checking every 5 ms (the test's runReactor limit bounds it).
void when(reactor::Reactor& reactor, std::function<bool()> ready, std::function<void()> then) {
  if (ready()) {
    then();
    return;
  }
  reactor.callLater(0.005, [&reactor, ready = std::move(ready), then = std::move(then)]() mutable {
    when(reactor, std::move(ready), std::move(then));
  });
}

}  // namespace

TEST_CASE("uvmodbus-server serves tls: with roles, and after SIGHUP new connections get the replaced certificate") {
  const auto& certs = testCertificates();
  const std::string stem = certs.dir + "/command-" + std::to_string(::getpid());
  const std::string cert = stem + ".pem";
  const std::string key = stem + ".key";
  testsupport::writeTextFile(cert, testsupport::readTextFile(certs.server.cert));
  testsupport::writeTextFile(key, testsupport::readTextFile(certs.server.key));
  TempConfig config(R"({"servers": [{"endpoint": "tls:0:interface=127.0.0.1:cert=)" + cert + ":key=" + key +
                    ":ca=" + certs.ca.cert + R"(",
      "roles": {"Operator": {"functions": [1, 2, 3, 4, 5, 6, 15, 16]}, "Reader": {"functions": [1, 2, 3, 4]}},
      "default_role": null}], )" + std::string(kUnits) + "}");
  Subprocess p({serverPath(), "--config", config.path()});
  auto listening = p.waitForLine(R"(listening on tls 127\.0\.0\.1:(\d+) \(framing MBAP, client certificate required, roles enforced\))",
                                 kStartTimeout);
  REQUIRE_MESSAGE(listening.has_value(), p.output());
  const int port = std::stoi((*listening)[1]);

  // A Reader reads (tid 1) and may not write register 5 (tid 2: exception 01), pipelined.
  const std::string readerWrite = bytes({0, 2, 0, 0, 0, 6, 1, 6, 0, 5, 0, 99});
  const std::string refused = bytes({0, 2, 0, 0, 0, 3, 1, 0x86, 0x01});
  // An Operator, after the reload, writes it (tid 4: the echo).
  const std::string operatorWrite = bytes({0, 4, 0, 0, 0, 6, 1, 6, 0, 5, 0, 99});
  reactor::Reactor reactor;
  bool reloaded = false;
  TlsTestClient operatorClient;
  TlsTestClient reader = connectTls(reactor, port, certs.readerClient, mbapRead(1) + readerWrite);
  when(reactor, [&] { return reader.protocol() && reader.protocol()->data == mbapReadAnswer(1) + refused; }, [&] {
    testsupport::writeTextFile(cert, testsupport::readTextFile(certs.server2.cert));
    testsupport::writeTextFile(key, testsupport::readTextFile(certs.server2.key));
    p.signal(SIGHUP);
    // Blocks this client reactor for a moment (bounded); the server is another process.
    reloaded = p.waitForLine(R"(reloaded the certificate, key and CA of tls 127\.0\.0\.1:\d+ \(generation 1\))",
                             kStartTimeout)
                   .has_value();
    operatorClient = connectTls(reactor, port, certs.operatorClient, operatorWrite);
    when(reactor, [&] { return operatorClient.protocol() && operatorClient.protocol()->data == operatorWrite; }, [&] {
      reader.protocol()->transport().write(reactor::asBytes(mbapRead(3)));  // the open connection carries on
      when(reactor, [&] { return reader.protocol()->data == mbapReadAnswer(1) + refused + mbapReadAnswer(3); },
           [&] { stopIfRunning(reactor); });
    });
  });
  CHECK(runReactor(reactor, 20));
  CHECK(reloaded);
  CHECK(reader.serverSubject().find("CN=uvmodbus test server") != std::string::npos);
  CHECK(reader.serverSubject().find("server 2") == std::string::npos);
  CHECK(operatorClient.serverSubject().find("CN=uvmodbus test server 2") != std::string::npos);
  REQUIRE(reader.protocol() != nullptr);
  CHECK(reader.protocol()->data == mbapReadAnswer(1) + refused + mbapReadAnswer(3));

  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  const std::string out = p.output();
  CHECK(out.find("received signal SIGHUP, reloading the TLS certificates") != std::string::npos);
  CHECK(out.find("refused function 6 for unit 1 from 127.0.0.1:") != std::string::npos);
  CHECK(out.find("role Reader: function code not allowed for the role") != std::string::npos);
  std::remove(cert.c_str());
  std::remove(key.c_str());
}

TEST_CASE("uvmodbus-server exits 2 naming the key of a bad udp, serial or tls entry") {
  TempConfig socketOnSerial(R"({"servers": [{"endpoint": "serial:/dev/ttyUSB0", "framer": "socket"}], )" +
                            std::string(kUnits) + "}");
  Subprocess framer({serverPath(), "--config", socketOnSerial.path()});
  CHECK(framer.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(framer.output().find("servers[0].framer: the socket framer (MBAP) cannot run on a serial line") !=
        std::string::npos);

  TempConfig badRole(R"({"servers": [{"endpoint": "tls:0:cert=s.pem:key=s.key:ca=ca.pem",
                                      "roles": {"Reader": {"functions": [1, 300]}}}], )" + std::string(kUnits) + "}");
  Subprocess role({serverPath(), "--config", badRole.path(), "--check"});
  CHECK(role.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(role.output().find("servers[0].roles.Reader.functions[1]: 300 is not a function code (1..127)") !=
        std::string::npos);

  TempConfig udpIdle(R"({"servers": [{"endpoint": "udp:0", "idle_timeout": 3}], )" + std::string(kUnits) + "}");
  Subprocess idle({serverPath(), "--config", udpIdle.path()});
  CHECK(idle.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(idle.output().find("servers[0].idle_timeout: does not apply to a udp: endpoint") != std::string::npos);

  // Certificate files are read when the server starts: one that cannot be read is still exit 2.
  const auto& certs = testCertificates();
  TempConfig missingCert(R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"},
      {"endpoint": "tls:0:interface=127.0.0.1:cert=)" + certs.dir + "/no-such.pem:key=" + certs.server.key + ":ca=" +
                         certs.ca.cert + R"("}], )" + std::string(kUnits) + "}");
  Subprocess cert({serverPath(), "--config", missingCert.path()});
  CHECK(cert.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(cert.output().find("servers[1].endpoint: ") != std::string::npos);
  CHECK(cert.output().find("no-such.pem") != std::string::npos);

  // A serial device that is not there is not a configuration mistake: exit 1, as a port in use.
  TempConfig missingDevice(R"({"servers": [{"endpoint": "serial:/dev/uvmodbus-no-such-tty"}], )" +
                           std::string(kUnits) + "}");
  Subprocess device({serverPath(), "--config", missingDevice.path()});
  CHECK(device.wait(kExitTimeout) == std::optional<int>(1));
  CHECK(device.output().find("/dev/uvmodbus-no-such-tty") != std::string::npos);
}

