// Integration tests: build/uvmodbus-simulator as users run it, read by Debian's pymodbus 3.0 client
// (tests/integration/py/simulator_client.py, decoding typed values with pymodbus's own
// BinaryPayloadDecoder), and its command line (exit codes, messages naming the JSON path).
#include <doctest/doctest.h>

#include <modbus/modbus.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/support/subprocess.h"

namespace {

using Json = nlohmann::json;
using testsupport::Subprocess;

constexpr const char* kListening = R"(listening on tcp 127\.0\.0\.1:(\d+))";
// Logged once SIGINT/SIGTERM are handled: the tests signal only after it.
constexpr const char* kRunning = "uvmodbus-simulator running: ";

std::string simulatorPath() {
  const std::string path = testsupport::buildDir() + "/uvmodbus-simulator";
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing " << path << ": build the uvmodbus-simulator target");
  return path;
}

/// A setup file in the build directory, removed at the end of the test.
class TempSetup {
 public:
  explicit TempSetup(const std::string& json) {
    static std::atomic<int> counter{0};
    path_ = testsupport::buildDir() + "/simulator_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++) + ".json";
    std::ofstream(path_) << json;
  }
  ~TempSetup() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// The shipped config/simulator.json with its TCP server on a free port.
std::string shippedSetupOnFreePort() {
  std::ifstream in(testsupport::sourceDir() + "/config/simulator.json");
  Json setup = Json::parse(in);
  setup["server_list"]["server"]["port"] = 0;
  return setup.dump();
}

TEST_CASE("simulator: pymodbus's client reads typed values from uvmodbus-simulator") {
  TempSetup setup(shippedSetupOnFreePort());
  Subprocess sim({simulatorPath(), "--json_file", setup.path(), "--http_port", "0"});
  auto listening = sim.waitForLine(kListening, 10);
  REQUIRE_MESSAGE(listening.has_value(), sim.output());
  const std::string port = (*listening)[1];

  Subprocess client({"/usr/bin/python3", testsupport::sourceDir() + "/tests/integration/py/simulator_client.py", port});
  REQUIRE_MESSAGE(client.waitForLine(R"("op": "done")", 60).has_value(), client.output());
  CHECK(client.wait(10) == 0);
  std::map<std::string, Json> steps;
  std::istringstream lines(client.output());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    Json step = Json::parse(line, nullptr, false);
    if (step.is_object() && step.contains("op")) steps[step["op"].get<std::string>()] = step;
  }
  INFO(client.output());
  CHECK(steps["uint32"]["value"] == 617001);
  CHECK(steps["float32"]["value"] == 404.17);
  CHECK(steps["float32_little"]["value"] == 230.0);
  CHECK(steps["float64"]["value"] == -505.78);
  CHECK(steps["int16"]["value"] == -40);
  CHECK(steps["string"]["value"] == "uvmodbus  ");
  CHECK(steps["increment_1"]["value"] == 51);
  CHECK(steps["increment_2"]["value"] == 52);
  CHECK(steps["uint32_half"]["exception"] == 2);
  CHECK(steps["invalid"]["exception"] == 2);
  CHECK(steps["coils"]["value"] == Json::array({1, 1, 1, 0}));
  CHECK(steps["write"]["value"] == 4321);
  CHECK(steps["read_back"]["value"] == 4321);
  CHECK(steps["write_readonly"]["exception"] == 2);

  REQUIRE(sim.waitForLine(kRunning, 10).has_value());
  sim.signal(SIGTERM);
  CHECK(sim.wait(5) == 0);
}

TEST_CASE("uvmodbus-simulator: a bad setup exits 2 naming the JSON path") {
  TempSetup setup(R"({"server_list": {"server": {"comm": "tcp", "port": 0}},
    "device_list": {"device": {"setup": {"co size": 10, "di size": 10, "hr size": 30, "ir size": 10},
                               "uint32": [[20, 21], {"addr": [22, 24]}]}}})");
  Subprocess sim({simulatorPath(), "--json_file", setup.path(), "--http_port", "0"});
  CHECK(sim.wait(10) == 2);
  CHECK(sim.output().find("bad setup: " + setup.path() +
                          ": device_list.device.uint32[1].addr: [22, 24] is not a whole number of 2-register values") !=
        std::string::npos);
}

TEST_CASE("uvmodbus-simulator: an unknown server name, a missing file, --help") {
  Subprocess unknown({simulatorPath(), "--modbus_server", "nope"});
  CHECK(unknown.wait(10) == 2);
  CHECK(unknown.output().find("built-in setup: server_list: no server \"nope\" (servers: server, server_udp)") !=
        std::string::npos);
  Subprocess missing({simulatorPath(), "--json_file", "/nonexistent/setup.json"});
  CHECK(missing.wait(10) == 2);
  CHECK(missing.output().find("/nonexistent/setup.json: cannot be read") != std::string::npos);
  Subprocess help({simulatorPath(), "--help"});
  CHECK(help.wait(10) == 0);
  for (const char* option : {"--json_file", "--modbus_server", "--modbus_device", "--http_host", "--http_port", "--log",
                             "--log_file", "--custom_actions_module"}) {
    CHECK_MESSAGE(help.output().find(option) != std::string::npos, option);
  }
}

TEST_CASE("uvmodbus-simulator: --log_file receives the log, the warning for a huge entry included") {
  TempSetup setup(R"({"server_list": {"server": {"comm": "tcp", "host": "127.0.0.1", "port": 0}},
    "device_list": {"device": {"setup": {"co size": 0, "di size": 0, "hr size": 30000, "ir size": 0},
                               "float32": [{"addr": [0, 21999], "value": 1.5}]}}})");
  TempSetup log("");
  Subprocess sim({simulatorPath(), "--json_file", setup.path(), "--log_file", log.path(), "--http_port", "0"});
  REQUIRE_MESSAGE(sim.waitForLine(kListening, 10).has_value(), sim.output());
  REQUIRE(sim.waitForLine(kRunning, 10).has_value());
  sim.signal(SIGTERM);
  CHECK(sim.wait(5) == 0);
  std::ifstream in(log.path());
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str().find("device_list.device.float32[0].addr: [0, 21999] defines 22000 registers (11000 float32 "
                        "values); is the range a typo?") != std::string::npos);
  CHECK(text.str().find("listening on tcp 127.0.0.1:") != std::string::npos);
}

}  // namespace

namespace {

TEST_CASE("sample 09_simulator serves its setup and runs the program's action") {
  const std::string path = testsupport::buildDir() + "/samples/09_simulator";
  if (!std::filesystem::exists(path)) return;  // samples not configured
  Subprocess sample({path, "0"});
  auto listening = sample.waitForLine(kListening, 10);
  REQUIRE_MESSAGE(listening.has_value(), sample.output());
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", std::stoi((*listening)[1]));
  REQUIRE(ctx != nullptr);
  REQUIRE(modbus_connect(ctx) == 0);
  std::uint16_t regs[5] = {};
  CHECK(modbus_read_registers(ctx, 0, 5, regs) == 5);
  CHECK(regs[0] == 2);                                        // increment from 1
  CHECK((regs[1] == 0x0009 && regs[2] == 0x6A29));            // 617001
  CHECK((regs[3] == 0x4040 && regs[4] == 0x0000));            // 1.5 doubled: 3.0
  CHECK(modbus_read_registers(ctx, 3, 2, regs) == 2);
  CHECK((regs[0] == 0x40C0 && regs[1] == 0x0000));            // 6.0
  CHECK(modbus_read_registers(ctx, 4, 1, regs) == -1);        // type exception: 02
  modbus_close(ctx);
  modbus_free(ctx);
  sample.signal(SIGTERM);
  CHECK(sample.wait(5) == 0);
}

}  // namespace
