// Integration tests: GET /metrics scraped with curl (a client we did not write) from the real
// programs. uvmodbus-server serves TCP, UDP and RTU on a pseudo-terminal plus its "http:" entry; a
// known sequence of requests (libmodbus over TCP and RTU, datagrams over UDP) must show up as exact
// counters, and the text must be well-formed exposition (HELP and TYPE before samples, cumulative
// buckets ending at +Inf equal to _count). uvmodbus-simulator serves the same page from its HTTP
// server, counting the exceptions its response simulations send. Ports are 0 and read from the logs;
// every wait is bounded; every process is ended by its PID.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/certs.h"
#include "tests/support/pty_pair.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace {

using Json = nlohmann::json;
using testsupport::Subprocess;

/// curl's body and status.
std::pair<int, std::string> curl(std::vector<std::string> args) {
  std::vector<std::string> argv = {"curl", "-s", "--max-time", "10", "-w", "\n%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = testsupport::runCommand(argv, {}, 20);
  REQUIRE_MESSAGE(r.exitCode == 0, r.err);
  const auto cut = r.out.rfind('\n');
  return {std::stoi(r.out.substr(cut + 1)), r.out.substr(0, cut)};
}

/// A scrape, checked line by line for the exposition format; samples by "name{labels}".
struct Scrape {
  std::map<std::string, std::string> samples;

  explicit Scrape(const std::string& text) {
    std::map<std::string, std::string> types;  // family → type
    std::set<std::string> helped;
    std::istringstream in(text);
    std::string line;
    REQUIRE_MESSAGE(!text.empty(), "empty scrape");
    CHECK(text.back() == '\n');
    while (std::getline(in, line)) {
      INFO("line: " << line);
      REQUIRE(!line.empty());
      if (line.rfind("# HELP ", 0) == 0) {
        const std::string name = line.substr(7, line.find(' ', 7) - 7);
        CHECK(helped.insert(name).second);  // once per family
        continue;
      }
      if (line.rfind("# TYPE ", 0) == 0) {
        const std::string rest = line.substr(7);
        const std::string name = rest.substr(0, rest.find(' '));
        CHECK(helped.count(name) == 1);  // HELP first
        const std::string type = rest.substr(rest.find(' ') + 1);
        CHECK((type == "counter" || type == "gauge" || type == "histogram"));
        CHECK(types.emplace(name, type).second);
        continue;
      }
      REQUIRE(line[0] != '#');
      const auto space = line.rfind(' ');
      REQUIRE(space != std::string::npos);
      const std::string key = line.substr(0, space), value = line.substr(space + 1);
      CHECK(value.find_first_not_of("0123456789.e-+") == std::string::npos);
      std::string name = key.substr(0, key.find('{'));
      std::string family = name;
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s = suffix;
        if (!types.count(family) && name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
          family = name.substr(0, name.size() - s.size());
        }
      }
      CHECK_MESSAGE(types.count(family) == 1, "a sample before its TYPE: " << name);
      CHECK(samples.emplace(key, value).second);  // no series twice
    }
  }

  /// The value of `key` ("name{labels}"), or "absent".
  std::string operator[](const std::string& key) const {
    auto it = samples.find(key);
    return it == samples.end() ? "absent" : it->second;
  }

  /// The histogram of `server`: cumulative buckets, +Inf equal to _count; returns the count.
  long histogramCount(const std::string& server) const {
    long previous = 0;
    for (const char* le : {"5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                           "0.1", "0.25", "0.5", "1", "+Inf"}) {
      const std::string v = (*this)["modbus_request_duration_seconds_bucket{server=\"" + server + "\",le=\"" + le + "\"}"];
      REQUIRE_MESSAGE(v != "absent", le);
      CHECK(std::stol(v) >= previous);
      previous = std::stol(v);
    }
    CHECK(std::to_string(previous) == (*this)["modbus_request_duration_seconds_count{server=\"" + server + "\"}"]);
    return previous;
  }
};

std::string series(const std::string& name, const std::string& server, const std::string& extra = "") {
  return name + "{server=\"" + server + "\"" + (extra.empty() ? "" : "," + extra) + "}";
}

/// Sends an MBAP FC3 read of one register over UDP and waits (at most 5 s) for the answer's size.
std::size_t udpRead(int port, std::uint16_t tid) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::uint8_t request[] = {static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid), 0, 0, 0, 6, 1, 3, 0, 0, 0, 1};
  REQUIRE(::sendto(fd, request, sizeof request, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == sizeof request);
  pollfd p{fd, POLLIN, 0};
  std::uint8_t answer[300];
  ssize_t n = -1;
  if (::poll(&p, 1, 5000) == 1) n = ::recv(fd, answer, sizeof answer, 0);
  ::close(fd);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

/// libmodbus over TCP (or RTU on a path), connected; freed on scope exit.
class Client {
 public:
  explicit Client(modbus_t* ctx) : ctx_(ctx) {
    REQUIRE(ctx_ != nullptr);
    modbus_set_slave(ctx_, 1);
    modbus_set_response_timeout(ctx_, 3, 0);
    REQUIRE_MESSAGE(modbus_connect(ctx_) == 0, modbus_strerror(errno));
  }
  ~Client() {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
  /// 0, or the errno of the failure (EMBXILADD for exception 02).
  int read(int address, int count) {
    std::vector<std::uint16_t> values(static_cast<std::size_t>(count));
    return modbus_read_registers(ctx_, address, count, values.data()) == count ? 0 : errno;
  }

 private:
  modbus_t* ctx_;
};

}  // namespace

TEST_CASE("metrics: uvmodbus-server's http: entry counts a known sequence over TCP, UDP and a serial pty") {
  testsupport::TempDir dir;
  testsupport::PtyLink line;
  const Json config = {
      {"servers",
       {{{"endpoint", "tcp:0:interface=127.0.0.1"}},
        {{"endpoint", "udp:0:interface=127.0.0.1"}},
        {{"endpoint", "serial:" + line.pathA() + ":baudrate=19200"}},
        {{"endpoint", "http:0"}, {"serve", {"metrics"}}}}},
      {"units", {{"1", {{"holding_registers", {{"start", 0}, {"count", 10}}}}}}}};
  std::ofstream(dir.file("server.json")) << config.dump();
  Subprocess server({testsupport::buildDir() + "/uvmodbus-server", "--config", dir.file("server.json")});
  auto tcp = server.waitForLine(R"(listening on tcp 127\.0\.0\.1:(\d+))", 10);
  REQUIRE_MESSAGE(tcp.has_value(), server.output());
  auto udp = server.waitForLine(R"(listening on udp 127\.0\.0\.1:(\d+))", 10);
  REQUIRE_MESSAGE(udp.has_value(), server.output());
  auto http = server.waitForLine(R"(HTTP listening on http://127\.0\.0\.1:(\d+)/metrics)", 10);
  REQUIRE_MESSAGE(http.has_value(), server.output());
  const std::string tcpLabel = "tcp:127.0.0.1:" + (*tcp)[1], udpLabel = "udp:127.0.0.1:" + (*udp)[1];
  const std::string serialLabel = "serial:" + line.pathA();
  const std::string url = "http://127.0.0.1:" + (*http)[1] + "/metrics";

  Client tcpClient(modbus_new_tcp("127.0.0.1", std::stoi((*tcp)[1])));
  for (int i = 0; i < 3; ++i) CHECK(tcpClient.read(0, 2) == 0);
  CHECK(tcpClient.read(100, 1) == EMBXILADD);
  CHECK(udpRead(std::stoi((*udp)[1]), 1) == 11);
  CHECK(udpRead(std::stoi((*udp)[1]), 2) == 11);
  {
    Client rtu(modbus_new_rtu(line.pathB().c_str(), 19200, 'N', 8, 1));
    CHECK(rtu.read(0, 2) == 0);
    CHECK(rtu.read(0, 2) == 0);
  }

  auto [status, body] = curl({"-D", dir.file("headers"), url});
  REQUIRE(status == 200);
  std::ifstream headers(dir.file("headers"));
  const std::string headerText((std::istreambuf_iterator<char>(headers)), std::istreambuf_iterator<char>());
  CHECK(headerText.find("Content-Type: text/plain; version=0.0.4; charset=utf-8") != std::string::npos);
  Scrape s(body);
  CHECK(s[series("modbus_requests_total", tcpLabel, "function_code=\"3\"")] == "4");
  CHECK(s[series("modbus_exceptions_total", tcpLabel, "function_code=\"3\",exception_code=\"2\"")] == "1");
  CHECK(s[series("modbus_received_bytes_total", tcpLabel)] == "48");  // 4 x 12
  CHECK(s[series("modbus_sent_bytes_total", tcpLabel)] == "48");      // 3 x 13 + 9
  CHECK(s[series("modbus_connections_open", tcpLabel)] == "1");
  CHECK(s[series("modbus_connections_accepted_total", tcpLabel)] == "1");
  CHECK(s[series("modbus_connections_refused_total", tcpLabel, "reason=\"max_connections\"")] == "0");
  CHECK(s.histogramCount(tcpLabel) == 4);

  CHECK(s[series("modbus_requests_total", udpLabel, "function_code=\"3\"")] == "2");
  CHECK(s[series("modbus_received_bytes_total", udpLabel)] == "24");
  CHECK(s[series("modbus_sent_bytes_total", udpLabel)] == "22");
  CHECK(s[series("modbus_connections_refused_total", udpLabel, "reason=\"max_connections\"")] == "absent");
  CHECK(s.histogramCount(udpLabel) == 2);

  CHECK(s[series("modbus_requests_total", serialLabel, "function_code=\"3\"")] == "2");
  CHECK(s[series("modbus_received_bytes_total", serialLabel)] == "16");  // 2 x 8
  CHECK(s[series("modbus_sent_bytes_total", serialLabel)] == "18");      // 2 x 9
  CHECK(s[series("modbus_connections_open", serialLabel)] == "1");
  CHECK(s.histogramCount(serialLabel) == 2);

  CHECK(curl({"http://127.0.0.1:" + (*http)[1] + "/other"}).first == 404);
  server.signal(SIGTERM);
  CHECK(server.wait(10) == 0);
}

TEST_CASE("metrics: uvmodbus-server's http: entry with a token answers 401 without it") {
  testsupport::TempDir dir;
  std::ofstream(dir.file("token")) << "m3trics\n";
  const Json config = {{"servers",
                        {{{"endpoint", "tcp:0:interface=127.0.0.1"}},
                         {{"endpoint", "http:0:interface=127.0.0.1"}, {"serve", {"metrics"}}, {"token_file", dir.file("token")}}}},
                       {"units", {{"1", {{"holding_registers", {{"start", 0}, {"count", 10}}}}}}}};
  std::ofstream(dir.file("server.json")) << config.dump();
  Subprocess server({testsupport::buildDir() + "/uvmodbus-server", "--config", dir.file("server.json")});
  auto http = server.waitForLine(R"(HTTP listening on http://127\.0\.0\.1:(\d+)/metrics \(bearer token required\))", 10);
  REQUIRE_MESSAGE(http.has_value(), server.output());
  const std::string url = "http://127.0.0.1:" + (*http)[1] + "/metrics";
  CHECK(curl({url}).first == 401);
  CHECK(curl({"-H", "Authorization: Bearer wrong", url}).first == 401);
  auto [status, body] = curl({"-H", "Authorization: Bearer m3trics", url});
  CHECK(status == 200);
  Scrape s(body);
  CHECK(s.samples.size() > 0);
}

TEST_CASE("metrics: uvmodbus-server refuses an http: entry beyond loopback without a token (exit 2, naming the path)") {
  testsupport::TempDir dir;
  const Json config = {{"servers",
                        {{{"endpoint", "tcp:0:interface=127.0.0.1"}},
                         {{"endpoint", "http:9102:interface=0.0.0.0"}, {"serve", {"metrics"}}}}},
                       {"units", {{"1", {{"holding_registers", {{"start", 0}, {"count", 10}}}}}}}};
  std::ofstream(dir.file("server.json")) << config.dump();
  Subprocess server({testsupport::buildDir() + "/uvmodbus-server", "--config", dir.file("server.json")});
  CHECK(server.wait(10) == 2);
  CHECK(server.output().find("servers[1]: serving HTTP on 0.0.0.0 (beyond this machine) requires \"token_file\"") !=
        std::string::npos);
}

TEST_CASE("metrics: uvmodbus-simulator serves /metrics, counting the exceptions its simulations send") {
  testsupport::TempDir dir;
  std::ifstream in(testsupport::sourceDir() + "/config/simulator.json");
  Json setup = Json::parse(in);
  setup["server_list"]["server"]["port"] = 0;
  std::ofstream(dir.file("setup.json")) << setup.dump();
  Subprocess sim({testsupport::buildDir() + "/uvmodbus-simulator", "--json_file", dir.file("setup.json"), "--http_port", "0"});
  auto modbus = sim.waitForLine(R"(listening on tcp 127\.0\.0\.1:(\d+))", 10);
  REQUIRE_MESSAGE(modbus.has_value(), sim.output());
  auto http = sim.waitForLine(R"(HTTP listening on http://127\.0\.0\.1:(\d+)/)", 10);
  REQUIRE_MESSAGE(http.has_value(), sim.output());
  const std::string base = "http://127.0.0.1:" + (*http)[1];
  const std::string label = "tcp:127.0.0.1:" + (*modbus)[1];
  Client client(modbus_new_tcp("127.0.0.1", std::stoi((*modbus)[1])));
  CHECK(client.read(10, 1) == 0);
  CHECK(client.read(10, 1) == 0);
  const Json simulate = {{"submit", "Simulate"}, {"response_type", 1}, {"response_error", 8}, {"response_delay", 0},
                         {"response_junk_datalen", 0}, {"response_clear_after", 1}};
  auto [posted, answer] = curl({"-X", "POST", "-H", "Content-Type: application/json", "-d", simulate.dump(), base + "/restapi/calls"});
  REQUIRE_MESSAGE(posted == 200, answer);
  CHECK(client.read(10, 1) == EMBXMEMPAR);  // exception 08, written by the response hook

  auto [status, body] = curl({base + "/metrics"});
  REQUIRE(status == 200);
  Scrape s(body);
  CHECK(s[series("modbus_requests_total", label, "function_code=\"3\"")] == "3");
  CHECK(s[series("modbus_exceptions_total", label, "function_code=\"3\",exception_code=\"8\"")] == "1");
  CHECK(s[series("modbus_connections_open", label)] == "1");
  CHECK(s.histogramCount(label) == 3);
  sim.signal(SIGTERM);
  CHECK(sim.wait(10) == 0);
}
