// uvmodbus-server as a Unix service (samples/service_runtime.h): --pidfile, --logfile reopened on
// SIGUSR1, --log-format json; the shipped systemd unit (packaging/systemd); and sample
// 14_application (Application, TCPServer, TimerService, ConsoleService) stopped by SIGTERM or by
// its console's shutdown.
#include <modbus/modbus.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

using testsupport::Subprocess;

namespace {

constexpr double kStartTimeout = 10.0;
constexpr double kExitTimeout = 5.0;
constexpr const char* kListening = R"(listening on tcp 127\.0\.0\.1:(\d+))";
constexpr const char* kConfig = R"({
  "servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}],
  "units": {"1": {"holding_registers": {"start": 0, "count": 10, "values": [1, 2, 3]}}}})";

std::string serverPath() {
  std::string path = testsupport::buildDir() + "/uvmodbus-server";
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing " << path);
  return path;
}

std::string writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return path;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Polls (bounded by `timeoutSeconds`; each pass waits on the process's output, never sleeps
/// blindly) until `path` holds a line matching `regex`; returns its capture groups.
std::optional<std::smatch> waitForFileLine(Subprocess& p, const std::string& path, const std::string& regex,
                                           double timeoutSeconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSeconds);
  const std::regex re(regex);
  static std::string text;  // the smatch refers into it
  while (std::chrono::steady_clock::now() < deadline) {
    text = readFile(path);
    std::smatch m;
    if (std::regex_search(text, m, re)) return m;
    // Waits up to 0.1 s for output that will not come (the log goes to the file): a bounded tick.
    p.waitForLine("^\\0never$", 0.1);
  }
  return std::nullopt;
}

/// A pid that no process has: a child that exited and was reaped.
pid_t deadPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

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

TEST_CASE("uvmodbus-server --pidfile writes its pid once listening and removes it on a clean exit") {
  testsupport::TempDir dir;
  const std::string config = writeFile(dir.file("server.json"), kConfig);
  const std::string pidfile = dir.file("server.pid");
  Subprocess p({serverPath(), "--config", config, "--pidfile", pidfile});
  REQUIRE_MESSAGE(p.waitForLine(kListening, kStartTimeout), p.output());
  REQUIRE(p.waitForLine("uvmodbus-server running", kStartTimeout));
  CHECK(readFile(pidfile) == std::to_string(p.pid()) + "\n");
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  CHECK_FALSE(std::filesystem::exists(pidfile));
}

TEST_CASE("uvmodbus-server refuses to start while a live process holds its pidfile") {
  testsupport::TempDir dir;
  const std::string config = writeFile(dir.file("server.json"), kConfig);
  // This test process is alive and is not the server.
  const std::string pidfile = writeFile(dir.file("server.pid"), std::to_string(::getpid()) + "\n");
  Subprocess p({serverPath(), "--config", config, "--pidfile", pidfile});
  CHECK(p.wait(kExitTimeout) == std::optional<int>(1));
  CHECK(p.output().find("still running") != std::string::npos);
  CHECK(p.output().find("listening on") == std::string::npos);  // refused before binding
  CHECK(readFile(pidfile) == std::to_string(::getpid()) + "\n");  // left alone
}

TEST_CASE("uvmodbus-server replaces a stale pidfile naming a dead process") {
  testsupport::TempDir dir;
  const std::string config = writeFile(dir.file("server.json"), kConfig);
  const pid_t dead = deadPid();
  const std::string pidfile = writeFile(dir.file("server.pid"), std::to_string(dead) + "\n");
  Subprocess p({serverPath(), "--config", config, "--pidfile", pidfile});
  REQUIRE_MESSAGE(p.waitForLine("uvmodbus-server running", kStartTimeout), p.output());
  CHECK(p.output().find("which is gone: replacing it") != std::string::npos);
  CHECK(readFile(pidfile) == std::to_string(p.pid()) + "\n");
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  CHECK_FALSE(std::filesystem::exists(pidfile));
}

TEST_CASE("uvmodbus-server --logfile appends there and reopens it on SIGUSR1 after a rename (logrotate)") {
  testsupport::TempDir dir;
  const std::string config = writeFile(dir.file("server.json"), kConfig);
  const std::string logfile = writeFile(dir.file("server.log"), "an earlier line\n");
  Subprocess p({serverPath(), "--config", config, "--logfile", logfile});
  REQUIRE_MESSAGE(waitForFileLine(p, logfile, "uvmodbus-server running", kStartTimeout), p.output());
  CHECK(readFile(logfile).rfind("an earlier line\n", 0) == 0);  // appended, not truncated
  CHECK(p.output().find("listening on") == std::string::npos);  // not on stderr any more
  const std::string rotated = dir.file("server.log.1");
  std::filesystem::rename(logfile, rotated);
  p.signal(SIGUSR1);
  REQUIRE_MESSAGE(waitForFileLine(p, logfile, "reopened log file", kStartTimeout), p.output());
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  const std::string fresh = readFile(logfile);
  const std::string old = readFile(rotated);
  CHECK(fresh.find("uvmodbus-server stopped") != std::string::npos);
  CHECK(fresh.find("listening on") == std::string::npos);
  CHECK(old.find("listening on tcp 127.0.0.1:") != std::string::npos);
  CHECK(old.find("uvmodbus-server stopped") == std::string::npos);
}

TEST_CASE("uvmodbus-server --log-format json writes one JSON object per line") {
  testsupport::TempDir dir;
  const std::string config = writeFile(dir.file("server.json"), kConfig);
  const std::string logfile = dir.file("server.json.log");
  Subprocess p({serverPath(), "--config", config, "--logfile", logfile, "--log-format", "json"});
  REQUIRE_MESSAGE(waitForFileLine(p, logfile, "uvmodbus-server running", kStartTimeout), p.output());
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  std::istringstream lines(readFile(logfile));
  std::string line;
  int objects = 0;
  bool sawListening = false;
  while (std::getline(lines, line)) {
    auto event = nlohmann::json::parse(line);  // throws (failing the test) on a line that is not JSON
    CHECK(event.at("level").is_string());
    CHECK(event.at("namespace") == "uvmodbus");
    CHECK(event.at("time").is_number());
    CHECK(event.at("fields").is_object());
    if (event.at("message").get<std::string>().find("listening on tcp") == 0) sawListening = true;
    ++objects;
  }
  CHECK(objects >= 3);
  CHECK(sawListening);
}

TEST_CASE("uvmodbus-server refuses a bad --log-format and a log file it cannot open (exit 2)") {
  testsupport::TempDir dir;
  const std::string config = writeFile(dir.file("server.json"), kConfig);
  Subprocess bad({serverPath(), "--config", config, "--log-format", "xml"});
  CHECK(bad.wait(kExitTimeout) == std::optional<int>(2));
  Subprocess unopenable({serverPath(), "--config", config, "--logfile", dir.file("no/such/dir/x.log")});
  CHECK(unopenable.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(unopenable.output().find("cannot open log file") != std::string::npos);
}

namespace {

std::string unitText() { return readFile(testsupport::sourceDir() + "/packaging/systemd/uvmodbus-server.service"); }

/// The words of the unit's first `key=` line (no quoting is used in the shipped unit).
std::vector<std::string> commandLine(const std::string& unit, const std::string& key) {
  std::istringstream in(unit);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) != 0) continue;
    std::istringstream words(line.substr(key.size() + 1));
    std::vector<std::string> out;
    for (std::string w; words >> w;) out.push_back(w);
    return out;
  }
  return {};
}

}  // namespace

TEST_CASE("the shipped systemd unit's ExecStart and ExecStartPre are accepted by uvmodbus-server (--check)") {
  const std::string unit = unitText();
  for (const char* key : {"ExecStart", "ExecStartPre"}) {
    CAPTURE(key);
    std::vector<std::string> argv = commandLine(unit, key);
    REQUIRE(argv.size() >= 3);
    CHECK(argv[0] == "/usr/local/bin/uvmodbus-server");
    argv[0] = serverPath();
    for (auto& word : argv) {
      // The installed paths, mapped to the tree: the shipped configuration stands for /etc's.
      if (word == "/etc/uvmodbus/server.json") word = testsupport::sourceDir() + "/config/default.json";
    }
    if (std::string(key) == "ExecStart") argv.push_back("--check");
    Subprocess p(argv);
    CHECK_MESSAGE(p.wait(kExitTimeout) == std::optional<int>(0), p.output());
    CHECK(p.output().find("OK") != std::string::npos);
  }
  // The hardening and the behaviour the brief asks of it.
  for (const char* line : {"NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes",
                           "AmbientCapabilities=CAP_NET_BIND_SERVICE", "Restart=on-failure",
                           "ExecReload=/bin/kill -USR1 $MAINPID", "PIDFile=/run/uvmodbus/uvmodbus-server.pid"}) {
    CAPTURE(line);
    CHECK(unit.find(std::string("\n") + line + "\n") != std::string::npos);
  }
}

TEST_CASE("the shipped systemd unit verifies with systemd-analyze, where it exists") {
  const std::string analyze = "/usr/bin/systemd-analyze";
  if (!std::filesystem::exists(analyze)) {
    MESSAGE("systemd-analyze not installed: skipped");
    return;
  }
  testsupport::TempDir dir;
  // The unit as installed, with the binary where this build has it (verify checks it is executable).
  std::string unit = unitText();
  const std::string installed = "/usr/local/bin/uvmodbus-server";
  for (std::size_t at = unit.find(installed); at != std::string::npos; at = unit.find(installed, at)) {
    unit.replace(at, installed.size(), serverPath());
    at += serverPath().size();
  }
  const std::string path = writeFile(dir.file("uvmodbus-server.service"), unit);
  Subprocess p({analyze, "verify", "--man=no", path});
  const std::optional<int> rc = p.wait(30.0);
  CHECK_MESSAGE(rc == std::optional<int>(0), p.output());
  CHECK_MESSAGE(p.output().find("uvmodbus-server.service") == std::string::npos, p.output());  // no complaint
}

TEST_CASE("sample 14_application serves Modbus, updates registers from its TimerService and stops on SIGTERM") {
  const std::string path = testsupport::buildDir() + "/samples/14_application";
  if (!std::filesystem::exists(testsupport::buildDir() + "/samples")) {
    MESSAGE("samples not configured: skipped");
    return;
  }
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing " << path << ": build the `samples` target");
  Subprocess p({path, "0.1", "0", "127.0.0.1", "0"});  // the console on a free port too
  auto listening = p.waitForLine(kListening, kStartTimeout);
  REQUIRE_MESSAGE(listening.has_value(), p.output());
  const int port = std::stoi((*listening)[1]);
  auto first = readHolding(port, 0, 10);
  REQUIRE(first.has_value());
  int updated = -1;
  for (int i = 0; i < 20 && updated <= (*first)[0]; ++i) {
    auto line = p.waitForLine(R"(updated holding registers 0\.\.9 to (\d+))", 2.0);
    REQUIRE_MESSAGE(line.has_value(), p.output());
    updated = std::stoi((*line)[1]);
  }
  auto later = readHolding(port, 0, 10);
  REQUIRE(later.has_value());
  CHECK((*later)[0] >= updated);
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  const std::string out = p.output();
  const auto snapshot = out.find("snapshot: holding registers 0..9 end at");
  const auto stopped = out.find("application stopped");
  CHECK(snapshot != std::string::npos);
  CHECK(stopped != std::string::npos);
  CHECK(snapshot < stopped);  // the shutdown waited for the service's Deferred
}

TEST_CASE("sample 14_application runs its console next to Modbus and stops on the console's shutdown") {
  const std::string path = testsupport::buildDir() + "/samples/14_application";
  if (!std::filesystem::exists(testsupport::buildDir() + "/samples")) {
    MESSAGE("samples not configured: skipped");
    return;
  }
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing " << path << ": build the `samples` target");
  testsupport::TempDir dir;
  const std::string token = writeFile(dir.file("token"), "sample-14-token\n");
  ::chmod(token.c_str(), 0600);
  Subprocess p({path, "0.1", "0", "127.0.0.1", "0", token});
  auto listening = p.waitForLine(kListening, kStartTimeout);
  REQUIRE_MESSAGE(listening.has_value(), p.output());
  auto console = p.waitForLine(R"(debug console on 127\.0\.0\.1:(\d+); its token is in )", kStartTimeout);
  REQUIRE_MESSAGE(console.has_value(), p.output());
  // Modbus is served meanwhile.
  REQUIRE(readHolding(std::stoi((*listening)[1]), 0, 1).has_value());

  // Python's socket module: the token, units, two reads, then shutdown; every read bounded by 10 s.
  const std::string client = R"(
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"sample-14-token\nunits\nread 1 ir 0 2\nread 1 hr 0\nshutdown\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
)";
  Subprocess python({"/usr/bin/python3", "-c", client, (*console)[1]});
  CHECK(python.wait(20) == std::optional<int>(0));
  const std::string answer = python.output();
  CHECK_MESSAGE(std::regex_match(answer, std::regex("uvmodbus console: type help\n"
                                                    "every unit id \\(single device\\): coils, discrete_inputs, "
                                                    "holding_registers, input_registers\nok\n"
                                                    "0 17\n1 17\nok\n"
                                                    "0 \\d+\nok\n"
                                                    "shutting down\nok\n")),
                answer);
  // The console's shutdown stops the reactor: the application stops as on SIGTERM.
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  const std::string out = p.output();
  const auto snapshot = out.find("snapshot: holding registers 0..9 end at");
  const auto stopped = out.find("application stopped");
  CHECK(out.find("console: shutdown requested") != std::string::npos);
  CHECK(snapshot != std::string::npos);
  CHECK(stopped != std::string::npos);
  CHECK(snapshot < stopped);
}
