// Tests for protocols/simulator/simulator_server.h: the simulator on a reactor the program runs
// (runForever(true)), on its own (runForever()), stop(), and its load errors.
#include "protocols/simulator/simulator_server.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <thread>

#include "protocols/servers/modbus_tcp_server.h"
#include "tests/support/certs.h"
#include "tests/support/reactor_harness.h"

namespace modbus {
namespace {

const std::string kSetup = R"({
  "server_list": {"server": {"comm": "tcp", "host": "127.0.0.1", "port": 0, "framer": "socket", "device_id": 3,
                             "identity": {"VendorName": "uvmodbus"}}},
  "device_list": {"device": {
    "setup": {"co size": 0, "di size": 0, "hr size": 10, "ir size": 0, "shared blocks": true, "type exception": true},
    "uint16": [{"addr": 0, "value": 41, "action": "increment"}, {"addr": 1, "value": 7}],
    "float32": [{"addr": [2, 3], "value": 404.17}]}}})";

/// MBAP FC3 request for unit `unit`.
std::string readRequest(std::uint8_t unit, std::uint16_t address, std::uint16_t count) {
  const unsigned char b[] = {0, 1, 0, 0, 0, 6, unit, 3, static_cast<unsigned char>(address >> 8),
                             static_cast<unsigned char>(address), 0, static_cast<unsigned char>(count)};
  return std::string(reinterpret_cast<const char*>(b), sizeof b);
}

std::uint16_t portOf(const SimulatorServer& sim) {
  auto* tcp = dynamic_cast<ModbusTcpServer*>(sim.servers().at(0).get());
  REQUIRE(tcp != nullptr);
  return tcp->addresses().at(0).port;
}

TEST_CASE("simulator: runForever(true) serves on a reactor the program runs, stop() leaves the reactor running") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  auto sim = SimulatorServer::fromText(reactor, kSetup);
  sim->runForever(/*onlyStart=*/true);
  const std::uint16_t port = portOf(*sim);
  std::string reply, wrongUnit;
  std::thread client([&] {
    reactor::testing::BlockingClient c("127.0.0.1", port);
    c.sendAll(readRequest(3, 0, 4));
    reply = c.readExactly(9 + 8);
    c.sendAll(readRequest(4, 0, 1));
    wrongUnit = c.readExactly(9);
    reactor.callFromThread([&] {
      sim->stop();
      reactor.callLater(0.05, [&] { reactor.stop(); });  // the simulator did not stop our reactor
    });
  });
  reactor::testing::runReactor(reactor, 10);
  client.join();
  REQUIRE(reply.size() == 17);
  CHECK(reply.substr(7) == std::string("\x03\x08\x00\x2A\x00\x07\x43\xCA\x15\xC3", 10));  // 41+1, 7, 404.17
  CHECK(wrongUnit.substr(7) == std::string("\x83\x0B", 2));
  sim.reset();
}

TEST_CASE("simulator: runForever() runs the reactor until stop()") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  auto sim = SimulatorServer::fromText(reactor, kSetup);
  reactor.callLater(0, [&] { sim->stop(); });
  sim->runForever();
  CHECK_FALSE(reactor.running());
  CHECK(sim->device().store->number(0) == 41);
  CHECK(sim->context()->find(3)->identity().vendorName() == "uvmodbus");
  sim.reset();
}

TEST_CASE("simulator: tls and udp entries start their servers, a bad certificate names the server entry") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  const auto& certs = testsupport::testCertificates();
  const std::string device = R"("device_list": {"device": {"setup": {"co size": 1, "di size": 1, "hr size": 1, "ir size": 1}}})";
  auto tls = SimulatorServer::fromText(
      reactor, R"({"server_list": {"server": {"comm": "tls", "host": "127.0.0.1", "port": 0, "certfile": ")" +
                   certs.server.cert + R"(", "keyfile": ")" + certs.server.key + R"("}}, )" + device + "}");
  tls->runForever(/*onlyStart=*/true);
  CHECK(tls->servers().size() == 1);
  auto udp = SimulatorServer::fromText(
      reactor, R"({"server_list": {"server": {"comm": "udp", "host": "127.0.0.1", "port": 0}}, )" + device + "}");
  udp->runForever(/*onlyStart=*/true);
  CHECK(udp->servers().size() == 1);
  auto broken = SimulatorServer::fromText(
      reactor, R"({"server_list": {"server": {"comm": "tls", "host": "127.0.0.1", "port": 0, "certfile": "/nonexistent.crt", "keyfile": "/nonexistent.key"}}, )" +
                   device + "}");
  CHECK_THROWS_WITH_AS(broken->runForever(true), doctest::Contains("server_list.server: "), ConfigError);
  tls->stop();
  udp->stop();
  reactor.callLater(0.05, [&] { reactor.stop(); });
  reactor::testing::runReactor(reactor, 10);
  tls.reset();
  udp.reset();
  broken.reset();
}

TEST_CASE("simulator: load errors carry the label and the JSON path") {
  reactor::Reactor reactor;
  CHECK_THROWS_WITH_AS(SimulatorServer::fromText(reactor, kSetup, "nope"),
                       "setup: server_list: no server \"nope\" (servers: server)", ConfigError);
  CHECK_THROWS_WITH_AS(SimulatorServer(reactor, "/nonexistent/setup.json"), "/nonexistent/setup.json: cannot be read",
                       ConfigError);
}

}  // namespace
}  // namespace modbus
