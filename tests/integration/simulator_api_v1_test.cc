// Integration tests: uvmodbus-simulator's /api/v1 through the network, driven by clients we did not
// write: python3's urllib with Debian's python3-jsonschema checking every route against
// docs/openapi.json (tests/integration/py/openapi_check.py), urllib with pymodbus on the Modbus
// side (py/api_v1_client.py: a typed set read back as a float, a device set offline goes silent,
// a fault seen as exception 04, the call stream delivering a client's call, a connection closed
// from the API), and curl (the token, 405). The simulator listens on port 0 for both sides; ports
// are read from its log. No sleeps: every wait is a client's own timeout; every process is ended by PID.
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <tuple>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/certs.h"
#include "tests/support/subprocess.h"

namespace {

using Json = nlohmann::json;
using testsupport::Subprocess;
namespace fs = std::filesystem;

/// uvmodbus-simulator serving config/simulator.json on free ports, in a scratch folder it removes.
struct Simulator {
  fs::path dir;
  std::unique_ptr<Subprocess> process;
  std::string modbusPort;
  std::string httpBase;

  explicit Simulator(std::vector<std::string> extra = {}) {
    static std::atomic<int> counter{0};
    dir = fs::path(testsupport::buildDir()) / ("api_v1_it_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir);
    std::ifstream in(testsupport::sourceDir() + "/config/simulator.json");
    Json setup = Json::parse(in);
    setup["server_list"]["server"]["port"] = 0;
    std::ofstream(dir / "setup.json") << setup.dump();
    std::vector<std::string> argv = {testsupport::buildDir() + "/uvmodbus-simulator", "--json_file",
                                     (dir / "setup.json").string(), "--http_port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<Subprocess>(argv);
    auto modbus = process->waitForLine(R"(listening on tcp 127\.0\.0\.1:(\d+))", 10);
    REQUIRE_MESSAGE(modbus.has_value(), process->output());
    modbusPort = (*modbus)[1];
    auto http = process->waitForLine(R"(HTTP listening on (http://127\.0\.0\.1:\d+)/)", 10);
    REQUIRE_MESSAGE(http.has_value(), process->output());
    httpBase = (*http)[1];
  }
  ~Simulator() {
    process.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  /// Runs a python script of tests/integration/py with /usr/bin/python3; its exit code and output.
  std::pair<int, std::string> python(const std::string& script, std::vector<std::string> args) const {
    std::vector<std::string> argv = {"/usr/bin/python3", testsupport::sourceDir() + "/tests/integration/py/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    Subprocess run(argv);
    const auto code = run.wait(90);
    return {code.value_or(-1), run.output()};
  }
  void scenario(const std::string& name) const {
    auto [code, out] = python("api_v1_client.py", {name, httpBase, modbusPort});
    INFO(out);
    CHECK(code == 0);
    CHECK(out.find("PASS " + name) != std::string::npos);
  }
  /// curl: the status code, then the body.
  std::pair<int, std::string> curl(std::vector<std::string> args) const {
    std::vector<std::string> argv = {"curl", "-s", "--max-time", "10", "-w", "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = testsupport::runCommand(argv, {}, 20);
    REQUIRE_MESSAGE(r.exitCode == 0, r.err);
    const auto cut = r.out.rfind('\n');
    return {std::stoi(r.out.substr(cut + 1)), r.out.substr(0, cut)};
  }
};

}  // namespace

TEST_CASE("api v1 over the network: every route answers as docs/openapi.json says (python3-jsonschema)") {
  Simulator sim;
  auto [code, out] = sim.python("openapi_check.py", {testsupport::sourceDir() + "/docs/openapi.json", sim.httpBase, sim.modbusPort});
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("validations passed") != std::string::npos);
}

TEST_CASE("api v1 over the network: a float32 set via the API is read as that float by pymodbus") {
  Simulator sim;
  sim.scenario("typed_set");
}

TEST_CASE("api v1 over the network: a device set offline stops answering Modbus, and answers once online") {
  Simulator sim;
  sim.scenario("offline");
}

TEST_CASE("api v1 over the network: register and device faults set via the API are seen by pymodbus (04, 06, silence)") {
  Simulator sim;
  sim.scenario("faults");
}

TEST_CASE("api v1 over the network: the SSE call stream delivers a call made by pymodbus, filtered") {
  Simulator sim;
  sim.scenario("stream");
}

TEST_CASE("api v1 over the network: closing a connection via the API closes it for the client") {
  Simulator sim;
  sim.scenario("close");
}

TEST_CASE("api v1 over the network: counters per function code and exception, and FC 8's per device") {
  Simulator sim;
  sim.scenario("counters");
}

TEST_CASE("api v1 over the network: curl sees the token rule and JSON errors with their status") {
  const fs::path tokenFile = fs::path(testsupport::buildDir()) / ("api_v1_token_" + std::to_string(::getpid()));
  std::ofstream(tokenFile) << "t0ken\n";
  {
    Simulator sim({"--http_token", tokenFile.string()});
    auto [status, body] = sim.curl({sim.httpBase + "/api/v1/devices"});
    CHECK(status == 401);
    CHECK(Json::parse(body)["error"]["code"] == "unauthorized");
    std::tie(status, body) = sim.curl({"-H", "Authorization: Bearer t0ken", sim.httpBase + "/api/v1/devices"});
    CHECK(status == 200);
    CHECK(Json::parse(body)["devices"][0]["online"] == true);
    std::tie(status, body) = sim.curl({"-i", "-X", "DELETE", "-H", "Authorization: Bearer t0ken", sim.httpBase + "/api/v1/counters"});
    CHECK(status == 405);
    CHECK(body.find("Allow: GET, HEAD") != std::string::npos);
    CHECK(body.find("\"method_not_allowed\"") != std::string::npos);
    std::tie(status, body) = sim.curl({"-X", "PUT", "-H", "Authorization: Bearer t0ken", "-d", "{\"value\": 1}",
                                       sim.httpBase + "/api/v1/devices/1/registers/holding_registers/31"});
    CHECK(status == 409);
    CHECK(Json::parse(body)["error"]["code"] == "conflict");
  }
  fs::remove(tokenFile);
}
