// Integration tests: build/uvmodbus-simulator's HTTP side as users run it, driven by curl (HTTP)
// and libmodbus (Modbus), clients we did not write. Every response simulation is observed by the
// Modbus client (or, for the bytes of Junk and the two writes of Split, by a bare socket); a
// float32 set over REST is read back over Modbus; the token, HTTPS, static folder and restart.
// The simulator listens on port 0 for both sides; ports are read from its log. No sleeps: every
// wait is a bounded poll or a client's own timeout; every process is ended by its PID.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/certs.h"
#include "tests/support/subprocess.h"

namespace {

using Json = nlohmann::json;
using testsupport::Subprocess;
namespace fs = std::filesystem;

constexpr const char* kModbusListening = R"(listening on tcp 127\.0\.0\.1:(\d+))";
constexpr const char* kHttpListening = R"(HTTP listening on (https?)://127\.0\.0\.1:(\d+)/)";

/// A scratch folder in the build tree, removed at the end.
struct Scratch {
  fs::path dir;
  Scratch() {
    static std::atomic<int> counter{0};
    dir = fs::path(testsupport::buildDir()) / ("simulator_http_it_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
};

std::string shippedSetupOnFreePort() {
  std::ifstream in(testsupport::sourceDir() + "/config/simulator.json");
  Json setup = Json::parse(in);
  setup["server_list"]["server"]["port"] = 0;
  return setup.dump();
}

/// uvmodbus-simulator on free ports, its Modbus and HTTP ports read from its log.
struct Simulator {
  Scratch scratch;
  std::unique_ptr<Subprocess> process;
  int modbusPort = 0;
  int httpPort = 0;
  std::string scheme;

  explicit Simulator(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {testsupport::buildDir() + "/uvmodbus-simulator", "--json_file",
                                     scratch.write("setup.json", shippedSetupOnFreePort()), "--http_port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<Subprocess>(argv);
    auto modbus = process->waitForLine(kModbusListening, 10);
    REQUIRE_MESSAGE(modbus.has_value(), process->output());
    modbusPort = std::stoi((*modbus)[1]);
    auto http = process->waitForLine(kHttpListening, 10);
    REQUIRE_MESSAGE(http.has_value(), process->output());
    scheme = (*http)[1];
    httpPort = std::stoi((*http)[2]);
  }
  std::string url(const std::string& path) const { return scheme + "://127.0.0.1:" + std::to_string(httpPort) + path; }

  /// curl: the body, then the status code on the last line.
  std::pair<int, std::string> curl(std::vector<std::string> args) const {
    std::vector<std::string> argv = {"curl", "-s", "-k", "--max-time", "10", "-w", "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = testsupport::runCommand(argv, {}, 20);
    REQUIRE_MESSAGE(r.exitCode == 0, r.err);
    const auto cut = r.out.rfind('\n');
    return {std::stoi(r.out.substr(cut + 1)), r.out.substr(0, cut)};
  }
  Json post(const std::string& view, const Json& body, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"-X", "POST", "-H", "Content-Type: application/json", "-d", body.dump()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(url("/restapi/" + view));
    auto [status, text] = curl(args);
    REQUIRE_MESSAGE(status == 200, text);
    return Json::parse(text);
  }
};

/// A libmodbus TCP client with a response timeout.
class Client {
 public:
  Client(int port, double timeoutSeconds) : ctx_(modbus_new_tcp("127.0.0.1", port)) {
    if (ctx_ == nullptr) throw std::runtime_error("modbus_new_tcp failed");
    const auto us = static_cast<std::uint32_t>(timeoutSeconds * 1e6);
    modbus_set_response_timeout(ctx_, us / 1000000, us % 1000000);
    modbus_set_slave(ctx_, 1);
    if (modbus_connect(ctx_) != 0) throw std::runtime_error(std::string("modbus_connect: ") + modbus_strerror(errno));
  }
  ~Client() {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
  /// Reads `count` holding registers at `address`: the values, or the errno of a failure.
  int read(int address, int count, std::vector<std::uint16_t>& out) {
    out.assign(static_cast<std::size_t>(count), 0);
    const int n = modbus_read_registers(ctx_, address, count, out.data());
    return n == count ? 0 : errno;
  }
  int read10() {
    std::vector<std::uint16_t> v;
    return read(10, 1, v);
  }
  modbus_t* ctx() { return ctx_; }

 private:
  modbus_t* ctx_;
};

/// A bare TCP socket: sends an MBAP FC3 request and collects what comes back, read by read.
class RawSocket {
 public:
  explicit RawSocket(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawSocket() { ::close(fd_); }
  void sendRead10() {
    const std::uint8_t request[] = {0, 7, 0, 0, 0, 6, 1, 3, 0, 10, 0, 1};
    REQUIRE(::send(fd_, request, sizeof request, 0) == static_cast<ssize_t>(sizeof request));
  }
  /// One read's bytes (waiting at most `seconds` for them; empty on timeout).
  std::vector<std::uint8_t> readOnce(double seconds) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(seconds * 1000)) <= 0) return {};
    std::uint8_t buffer[512];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::vector<std::uint8_t>(buffer, buffer + n) : std::vector<std::uint8_t>{};
  }

 private:
  int fd_;
};

Json simulate(const Simulator& sim, Json fields) {
  Json body = {{"submit", "Simulate"}, {"response_delay", 0}, {"response_junk_datalen", 0}, {"response_error", 4},
               {"response_clear_after", 0}};
  for (auto& [key, value] : fields.items()) body[key] = value;
  Json r = sim.post("calls", body);
  REQUIRE_MESSAGE(r["result"] == "ok", r.dump());
  return r;
}

}  // namespace

TEST_CASE("simulator http: a float32 set over REST is read back over Modbus as that float") {
  Simulator sim;
  Json r = sim.post("registers", {{"submit", "Set"}, {"register", 30}, {"value", 12.5}, {"range_start", 30}, {"range_end", 31}});
  CHECK(r["result"] == "ok");
  Client client(sim.modbusPort, 3);
  std::vector<std::uint16_t> regs;
  REQUIRE(client.read(30, 2, regs) == 0);
  CHECK(modbus_get_float_abcd(regs.data()) == 12.5f);
  // And the read shows in the register's counter.
  r = sim.post("registers", {{"submit", "Register"}, {"range_start", 30}, {"range_stop", 31}});
  CHECK(r["register_rows"][0]["count_read"] == "1");
}

TEST_CASE("simulator http: Error answers any exception code, 08 included, until Reset") {
  Simulator sim;
  simulate(sim, {{"response_type", 1}, {"response_error", 8}});
  Client client(sim.modbusPort, 3);
  CHECK(client.read10() == EMBXMEMPAR);
  CHECK(client.read10() == EMBXMEMPAR);
  sim.post("calls", {{"submit", "Reset"}});
  CHECK(client.read10() == 0);
  simulate(sim, {{"response_type", 1}, {"response_error", 6}, {"response_clear_after", 1}});
  CHECK(client.read10() == EMBXSBUSY);
  CHECK(client.read10() == 0);
}

TEST_CASE("simulator http: clear after N requests ends the simulation after the Nth") {
  Simulator sim;
  simulate(sim, {{"response_type", 1}, {"response_error", 2}, {"response_clear_after", 3}});
  Client client(sim.modbusPort, 3);
  for (int i = 0; i < 3; ++i) CHECK(client.read10() == EMBXILADD);
  CHECK(client.read10() == 0);
  CHECK(sim.post("calls", {{"submit", "Refresh"}})["simulation_action"] == "");
}

TEST_CASE("simulator http: a change rate simulates some of the requests, not all") {
  Simulator sim;
  simulate(sim, {{"response_type", 1}, {"response_error", 4}, {"response_cr", true}, {"response_cr_pct", 50}});
  Client client(sim.modbusPort, 3);
  int errors = 0, answers = 0;
  for (int i = 0; i < 80; ++i) {
    const int rc = client.read10();
    if (rc == EMBXSFAIL) ++errors;
    if (rc == 0) ++answers;
  }
  // With p = 0.5 over 80 requests, all or none simulated has a chance of 2^-79.
  CHECK(errors > 0);
  CHECK(answers > 0);
  CHECK(errors + answers == 80);
  simulate(sim, {{"response_type", 1}, {"response_cr", true}, {"response_cr_pct", 0}});
  for (int i = 0; i < 10; ++i) CHECK(client.read10() == 0);
}

TEST_CASE("simulator http: Empty sends no answer, the client times out, then is answered again") {
  Simulator sim;
  simulate(sim, {{"response_type", 2}, {"response_clear_after", 1}});
  Client client(sim.modbusPort, 0.5);
  CHECK(client.read10() == ETIMEDOUT);
  CHECK(client.read10() == 0);
}

TEST_CASE("simulator http: Junk sends N random bytes instead of the answer") {
  Simulator sim;
  simulate(sim, {{"response_type", 3}, {"response_junk_datalen", 9}, {"response_clear_after", 2}});
  {
    Client client(sim.modbusPort, 0.5);
    CHECK(client.read10() != 0);  // not an answer libmodbus accepts
  }
  RawSocket raw(sim.modbusPort);
  raw.sendRead10();
  std::vector<std::uint8_t> got;
  for (int i = 0; i < 9 && got.size() < 9; ++i) {
    auto more = raw.readOnce(5);
    if (more.empty()) break;
    got.insert(got.end(), more.begin(), more.end());
  }
  CHECK(got.size() == 9);
  CHECK(raw.readOnce(0.3).empty());  // nothing after the junk: it replaced the answer
}

TEST_CASE("simulator http: Split sends the answer in two writes, the second after the delay") {
  Simulator sim;
  simulate(sim, {{"response_type", 0}, {"response_split", true}, {"split_delay", 0.5}});
  RawSocket raw(sim.modbusPort);
  const auto start = std::chrono::steady_clock::now();
  raw.sendRead10();
  const auto first = raw.readOnce(5);
  const auto second = raw.readOnce(5);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(first.size() == 5);   // half of the 11-byte frame...
  CHECK(second.size() == 6);  // ...and the rest, in another write
  CHECK(elapsed >= 0.45);
  // libmodbus puts the halves together (its gap between bytes raised above the split delay).
  Client client(sim.modbusPort, 5);
  modbus_set_byte_timeout(client.ctx(), 5, 0);
  std::vector<std::uint16_t> regs;
  REQUIRE(client.read(10, 1, regs) == 0);
  CHECK(regs[0] == 1234);
}

TEST_CASE("simulator http: Delayed answers late: a short timeout misses it, a long one gets it") {
  Simulator sim;
  simulate(sim, {{"response_type", 0}, {"response_delay", 1.0}});
  {
    Client impatient(sim.modbusPort, 0.3);
    CHECK(impatient.read10() == ETIMEDOUT);
  }
  Client patient(sim.modbusPort, 5);
  const auto start = std::chrono::steady_clock::now();
  CHECK(patient.read10() == 0);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= 0.9);
}

TEST_CASE("simulator http: Monitor records the client's calls, Server lists its connection and counters") {
  Simulator sim;
  sim.post("calls", {{"submit", "Monitor"}, {"range_start", 10}, {"range_stop", 10}, {"function", {3}}, {"show_hex", true}});
  Client client(sim.modbusPort, 3);
  REQUIRE(client.read10() == 0);
  std::vector<std::uint16_t> regs;
  REQUIRE(client.read(30, 2, regs) == 0);  // outside the range: not recorded
  Json calls = sim.post("calls", {{"submit", "Refresh"}});
  REQUIRE(calls["call_rows"].size() == 2);
  CHECK(calls["call_rows"][1]["data"] == "03 00 0a 00 01");
  CHECK(calls["call_rows"][0]["data"] == "03 02 04 d2");
  Json server = sim.post("server", {{"submit", "Refresh"}});
  REQUIRE(server["connections"].size() == 1);
  CHECK(server["connections"][0]["peer"].get<std::string>().rfind("127.0.0.1:", 0) == 0);
  CHECK(server["function_counters"][0] == Json{{"fc", "3"}, {"name", "read_holding_registers"}, {"count", "2"}});
  // The pages render the same through the network.
  auto [status, page] = sim.curl({sim.url("/api/calls")});
  CHECK(status == 200);
  CHECK(page.find("03 00 0a 00 01") != std::string::npos);
}

TEST_CASE("simulator http: Restart restarts the Modbus side, HTTP carries on") {
  Simulator sim;
  {
    Client client(sim.modbusPort, 3);
    REQUIRE(client.read10() == 0);
  }
  Json r = sim.post("server", {{"submit", "Restart"}});
  CHECK(r["result"] == "ok");
  CHECK(r["restarts"] == "1");
  auto again = sim.process->waitForLine(kModbusListening, 10);  // port 0: a new port
  REQUIRE_MESSAGE(again.has_value(), sim.process->output());
  Client client(std::stoi((*again)[1]), 3);
  CHECK(client.read10() == 0);
  // The log page shows the restart, newest first.
  Json log = sim.post("log", {{"submit", "Refresh"}});
  bool restartLogged = false;
  for (const Json& row : log["log_rows"]) restartLogged |= row["text"].get<std::string>().find("restarting") != std::string::npos;
  CHECK(restartLogged);
  auto [status, file] = sim.curl({sim.url("/api/log?submit=Download")});
  CHECK(status == 200);
  CHECK(file.find("HTTP listening on") != std::string::npos);
}

TEST_CASE("simulator http: with --http_token a request without the bearer token gets 401") {
  Scratch scratch;
  const std::string tokenFile = scratch.write("token", "t0ken-42\n");
  Simulator sim({"--http_token", tokenFile});
  CHECK(sim.curl({sim.url("/api/server")}).first == 401);
  CHECK(sim.curl({"-H", "Authorization: Bearer wrong", sim.url("/api/server")}).first == 401);
  CHECK(sim.curl({"-H", "Authorization: Bearer t0ken-42", sim.url("/api/server")}).first == 200);
  Json r = sim.post("server", {{"submit", "Refresh"}}, {"-H", "Authorization: Bearer t0ken-42"});
  CHECK(r["result"] == "ok");
}

TEST_CASE("simulator http: binding beyond loopback without --http_token exits 2 before serving") {
  Scratch scratch;
  auto r = testsupport::runCommand({testsupport::buildDir() + "/uvmodbus-simulator", "--json_file",
                                    scratch.write("setup.json", shippedSetupOnFreePort()), "--http_host", "0.0.0.0"},
                                   {}, 20);
  CHECK(r.exitCode == 2);
  CHECK(r.err.find("--http_token") != std::string::npos);
}

TEST_CASE("simulator http: HTTPS with --http_certfile/--http_keyfile") {
  const auto& certs = testsupport::testCertificates();
  Simulator sim({"--http_certfile", certs.server.cert, "--http_keyfile", certs.server.key});
  CHECK(sim.scheme == "https");
  auto [status, body] = sim.curl({"--cacert", certs.ca.cert, sim.url("/restapi/server"), "-X", "POST", "-d", "{}"});
  CHECK(status == 200);
  CHECK(Json::parse(body)["result"] == "ok");
}

TEST_CASE("simulator http: static files never leave their folder") {
  Scratch scratch;
  fs::create_directories(scratch.dir / "web");
  scratch.write("secret.txt", "secret");
  scratch.write("web/hello.txt", "hello");
  Simulator sim({"--http_static", (scratch.dir / "web").string()});
  CHECK(sim.curl({sim.url("/hello.txt")}) == std::pair<int, std::string>{200, "hello"});
  CHECK(sim.curl({"--path-as-is", sim.url("/../secret.txt")}).first == 404);
  CHECK(sim.curl({"--path-as-is", sim.url("/%2e%2e/secret.txt")}).first == 404);
  CHECK(sim.curl({"--path-as-is", sim.url("/..%2fsecret.txt")}).first == 404);
}
