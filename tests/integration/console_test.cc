// End-to-end tests of the debug console (protocols/console/): uvmodbus-server with a "console" in
// its configuration, driven through a real socket by Python's socket module while pymodbus is
// served on the Modbus port (tests/integration/py/console_client.py); StartTcpServer's console=true;
// and the configurations refused with exit code 2.
#include <sys/stat.h>

#include <doctest/doctest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_server.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/log.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

using testsupport::Subprocess;
using Json = nlohmann::json;

namespace {

constexpr double kStartTimeout = 10.0;
constexpr double kExitTimeout = 5.0;

std::string serverPath() { return testsupport::buildDir() + "/uvmodbus-server"; }
std::string script(const std::string& name) { return testsupport::sourceDir() + "/tests/integration/py/" + name; }

std::string writeFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

std::string configWithConsole(const std::string& consoleEndpoint, const std::string& tokenFile) {
  return R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}],
  "units": {"1": {"holding_registers": {"count": 100}, "coils": {"count": 100},
                  "discrete_inputs": {"count": 10, "fill": 1}, "input_registers": {"count": 10, "fill": 9}}},
  "console": {"endpoint": ")" +
         consoleEndpoint + R"(", "token_file": ")" + tokenFile + R"("}})";
}

/// Each step's lines (and whether the console closed after them) from console_client.py.
struct Steps {
  std::map<std::string, Json> byName;
  std::vector<std::string> lines(const std::string& step) const {
    auto it = byName.find(step);
    if (it == byName.end()) return {};
    return it->second["lines"].get<std::vector<std::string>>();
  }
  bool eof(const std::string& step) const {
    auto it = byName.find(step);
    return it != byName.end() && it->second["eof"].get<bool>();
  }
};

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("console integration: every command through a real socket, a Modbus client served meanwhile") {
  testsupport::TempDir dir;
  std::string token = writeFile(dir.file("token"), "integration-token\n", 0600);
  std::string config = writeFile(dir.file("c.json"), configWithConsole("tcp:0:interface=127.0.0.1", token), 0600);
  Subprocess server({serverPath(), "--config", config});
  auto modbus = server.waitForLine(R"(listening on tcp 127\.0\.0\.1:(\d+))", kStartTimeout);
  REQUIRE_MESSAGE(modbus.has_value(), server.output());
  auto console = server.waitForLine(R"(debug console on 127\.0\.0\.1:(\d+) \(token in )", kStartTimeout);
  REQUIRE_MESSAGE(console.has_value(), server.output());

  Subprocess client({"/usr/bin/python3", script("console_client.py"), (*console)[1], (*modbus)[1], token});
  bool done = client.waitForLine(R"("step": "done")", 60).has_value();
  std::string output = client.output();
  REQUIRE_MESSAGE(done, output << "\nserver:\n" << server.output());
  CHECK(client.wait(kExitTimeout) == std::optional<int>(0));
  Steps steps;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    std::string line = output.substr(start, end - start);
    start = end == std::string::npos ? output.size() : end + 1;
    if (line.rfind("{", 0) != 0) continue;
    Json j = Json::parse(line);
    steps.byName[j["step"].get<std::string>()] = j;
  }

  // Authentication: none (a command first) and wrong are refused and closed; right opens.
  CHECK(steps.lines("no_token") == Lines{"error: wrong token"});
  CHECK(steps.eof("no_token"));
  CHECK(steps.lines("wrong_token") == Lines{"error: wrong token"});
  CHECK(steps.eof("wrong_token"));
  CHECK(server.output().find("console: wrong token from 127.0.0.1:") != std::string::npos);
  CHECK(steps.lines("auth") == Lines{"uvmodbus console: type help"});

  CHECK(steps.lines("help").size() == 14);
  CHECK(steps.lines("units") == Lines{"unit 1: coils, discrete_inputs, holding_registers, input_registers", "ok"});
  CHECK(steps.lines("read") == Lines{"0 1", "1 2", "2 3", "ok"});
  CHECK(steps.lines("read_float") == Lines{"10 3.5", "ok"});
  CHECK(steps.lines("read_coils") == Lines{"0 1", "1 0", "2 1", "ok"});
  CHECK(steps.lines("read_di") == Lines{"0 1", "1 1", "ok"});
  CHECK(steps.lines("read_ir") == Lines{"0 9", "ok"});
  CHECK(steps.lines("listen_on") == Lines{"unit 1 listen-only on", "ok"});
  CHECK(steps.lines("units_listen").at(0).find("; listen-only") != std::string::npos);
  CHECK(steps.lines("listen_off") == Lines{"unit 1 listen-only off", "ok"});
  CHECK(steps.lines("unknown") == Lines{"error: unknown command 'frobnicate' (type help)"});
  CHECK(steps.lines("stats").at(1).find("tcp 127.0.0.1:" + (*modbus)[1] + ": open=0") == 0);
  CHECK(steps.lines("reload") == Lines{"no TLS server: nothing to reload", "ok"});

  // pymodbus was answered while the console held half a line, which then completed.
  CHECK(steps.lines("modbus_while_idle") == Lines{"1", "2", "3"});
  CHECK(steps.lines("finished_line") == Lines{"0 1", "1 2", "2 3", "ok"});
  // The device counted pymodbus's request (what FC 8 would report).
  CHECK(steps.lines("counters").at(0).find("bus_message=1 ") != std::string::npos);
  CHECK(steps.lines("diagnostics").at(1) == "listen_only off");
  Lines connections = steps.lines("connections");
  REQUIRE(connections.size() == 3);
  CHECK(std::regex_search(connections[0], std::regex(R"(^\d+ 127\.0\.0\.1:\d+ tcp 127\.0\.0\.1:\d+ requests=1$)")));

  // trace: the request and its answer, as they passed.
  CHECK(steps.lines("trace_on") == Lines{"tracing 1 server(s)", "ok"});
  CHECK(steps.lines("modbus_traced") == Lines{"1", "2"});
  REQUIRE(steps.lines("trace_line").size() == 1);
  CHECK(steps.lines("trace_line")[0] ==
        "trace tcp 127.0.0.1:" + (*modbus)[1] + " unit 1 request 03 00 00 00 02 answer 03 04 00 01 00 02");
  CHECK(steps.lines("trace_off") == Lines{"trace off", "ok"});
  CHECK(steps.lines("close_connection").at(0).rfind("closing connection ", 0) == 0);
  CHECK(server.waitForLine("client disconnected: 127\\.0\\.0\\.1:", kStartTimeout).has_value());

  // shutdown: a clean stop, exit 0.
  CHECK(steps.lines("shutdown") == Lines{"shutting down", "ok"});
  CHECK(steps.eof("shutdown"));
  CHECK(server.wait(kExitTimeout) == std::optional<int>(0));
  CHECK(server.output().find("uvmodbus-server stopped") != std::string::npos);
}

TEST_CASE("console integration: a token file others can read, or a public endpoint, exits 2 naming it") {
  testsupport::TempDir dir;
  std::string open = writeFile(dir.file("token"), "t\n", 0644);
  std::string config = writeFile(dir.file("c.json"), configWithConsole("tcp:0:interface=127.0.0.1", open), 0600);
  Subprocess p({serverPath(), "--config", config});
  CHECK(p.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(p.output().find("console.token_file: console token file " + open + " has mode 0644") != std::string::npos);

  std::string closed = writeFile(dir.file("token2"), "t\n", 0600);
  std::string config2 = writeFile(dir.file("c2.json"), configWithConsole("tcp:0:interface=0.0.0.0", closed), 0600);
  Subprocess q({serverPath(), "--config", config2, "--check"});
  CHECK(q.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(q.output().find("console.endpoint: the console listens on loopback only") != std::string::npos);
}

TEST_CASE("console integration: StartTcpServer with console=true generates a 0600 token file and logs it") {
  testsupport::TempDir dir;
  ::setenv("XDG_RUNTIME_DIR", dir.path().c_str(), 1);  // before the server thread starts
  std::mutex mutex;
  std::condition_variable changed;
  std::string logged;
  // Other tests of this program lower the level to warnings; the console's line is at info.
  reactor::log::Level level = reactor::log::level();
  reactor::log::setLevel(reactor::log::Level::Info);
  reactor::log::setSink([&](reactor::log::Level, std::string_view line) {
    std::lock_guard lock(mutex);
    logged += std::string(line) + "\n";
    changed.notify_all();
  });
  auto device = std::make_shared<modbus::DeviceContext>(
      modbus::DeviceTables{.holdingRegisters = modbus::SequentialDataBlock<std::uint16_t>::create(0, 10, 42)});
  modbus::ServerOptions options;
  options.console.enabled = true;
  std::thread serving([&] {
    modbus::StartTcpServer(modbus::ServerContext::single(device), "tcp:0:interface=127.0.0.1", options);
  });
  std::smatch m;
  std::string text;
  {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, std::chrono::seconds(10), [&] {
      text = logged;
      return std::regex_search(text, m, std::regex(R"(debug console on 127\.0\.0\.1:(\d+); its token is in (\S+) )"));
    });
  }
  bool found = !m.empty();
  std::string port = found ? m[1].str() : "";
  std::string tokenPath = found ? m[2].str() : "";
  if (found) {
    CHECK(tokenPath.rfind(dir.path() + "/uvmodbus-console-", 0) == 0);
    struct stat st {};
    REQUIRE(::stat(tokenPath.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // Python's socket module: the token, a read, then shutdown (which ends StartTcpServer).
    Subprocess py({"/usr/bin/python3", "-c",
                   "import socket,sys\n"
                   "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=10)\n"
                   "s.sendall(open(sys.argv[2]).readline().encode()+b'read 1 hr 3\\nshutdown\\n')\n"
                   "data=b''\n"
                   "while True:\n"
                   "  c=s.recv(4096)\n"
                   "  if not c: break\n"
                   "  data+=c\n"
                   "sys.stdout.write(data.decode())\n",
                   port, tokenPath});
    CHECK(py.wait(15) == std::optional<int>(0));
    CHECK(py.output() == "uvmodbus console: type help\n3 42\nok\nshutting down\nok\n");
  }
  if (!found || modbus::runningServerCount() != 0) modbus::ServerStop();  // never leave the thread running
  serving.join();
  reactor::log::setSink(nullptr);
  reactor::log::setLevel(level);
  ::unsetenv("XDG_RUNTIME_DIR");
  REQUIRE_MESSAGE(found, text);
}

TEST_CASE("console integration: on a unix: socket of mode 0600 the console answers and shuts the server down") {
  testsupport::TempDir dir;
  std::string token = writeFile(dir.file("token"), "unix-token\n", 0600);
  const std::string socketPath = dir.file("console.sock");
  std::string config =
      writeFile(dir.file("c.json"), configWithConsole("unix:" + socketPath + ":mode=0600", token), 0600);
  Subprocess server({serverPath(), "--config", config});
  REQUIRE_MESSAGE(server.waitForLine(R"(debug console on .*console\.sock)", kStartTimeout).has_value(),
                  server.output());
  struct stat st {};
  REQUIRE(::stat(socketPath.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);

  // Python's AF_UNIX socket: the token, one command, then shutdown; every read bounded by 10 s.
  const std::string client = R"(
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"unix-token\nunits\nshutdown\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
)";
  Subprocess python({"/usr/bin/python3", "-c", client, socketPath});
  CHECK(python.wait(20) == std::optional<int>(0));
  const std::string answer = python.output();
  CHECK(answer.find("uvmodbus console: type help\n") == 0);
  CHECK(answer.find("unit 1: coils, discrete_inputs, holding_registers, input_registers\nok\n") != std::string::npos);
  CHECK(answer.find("shutting down\nok\n") != std::string::npos);
  CHECK(server.wait(kExitTimeout) == std::optional<int>(0));
  // The socket (and its lock file) go with the server.
  CHECK_FALSE(std::filesystem::exists(socketPath));
}
