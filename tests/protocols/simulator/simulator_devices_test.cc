// Tests for the "devices" map of a server_list entry (many devices behind one port, each unit id
// with its own copy of its device) and for run-time faults and offline devices
// (SimulatorServer::setOffline, setFault). Requests run as PDUs through a RequestProcessor over the
// simulator's context; the offline test also goes over TCP.
#include "protocols/simulator/simulator_server.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "protocols/application/request_processor.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "tests/protocols/simulator/simulator_test_support.h"
#include "tests/support/reactor_harness.h"

namespace modbus {
namespace {

using simulator::testing::Bytes;
using simulator::testing::exceptionReply;
using simulator::testing::pdu;
using simulator::testing::registersReply;

std::string setupWith(const std::string& devices) {
  return R"({
  "server_list": {"server": {"comm": "tcp", "host": "127.0.0.1", "port": 0,
                             "identity": {"VendorName": "uvmodbus"}, "devices": )" +
         devices + R"(}},
  "device_list": {
    "device": {"setup": {"co size": 0, "di size": 0, "hr size": 4, "ir size": 0, "shared blocks": true},
               "uint16": [{"addr": 0, "value": 10}, {"addr": 1, "value": 20}], "write": [0, 1]},
    "meter": {"setup": {"co size": 0, "di size": 0, "hr size": 4, "ir size": 0, "shared blocks": true},
              "uint16": [{"addr": 0, "value": 500, "action": "increment"}, {"addr": 1, "value": 7}], "write": [1]}}})";
}

/// Runs PDUs for any unit id through a RequestProcessor over the simulator's context.
struct Units {
  reactor::Reactor reactor;
  std::unique_ptr<SimulatorServer> sim;
  std::unique_ptr<RequestProcessor> processor;

  explicit Units(const std::string& devices) {
    sim = SimulatorServer::fromText(reactor, setupWith(devices));
    processor = std::make_unique<RequestProcessor>(sim->context());
  }
  Bytes run(std::uint8_t unit, const Bytes& request) {
    std::array<std::uint8_t, kMaxPduSize> response{};
    const std::size_t n = processor->process(unit, request, response);
    return Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
  }
};

TEST_CASE("simulator devices: 200 unit ids each keep their own values, actions and identity") {
  Units u(R"({"1": "device", "2-200": {"device": "meter", "identity": {"ProductName": "meter"}}})");
  CHECK(u.sim->unitIds().size() == 200);
  CHECK(u.sim->unitIds().front() == 1);
  CHECK(u.sim->unitIds().back() == 200);
  // Unit 1 is a "device"; units 2-200 are meters, each a copy.
  CHECK(u.run(1, pdu(3, {0, 2})) == registersReply(3, {10, 20}));
  for (int unit = 2; unit <= 200; ++unit) {
    const Bytes expected = registersReply(3, {501, 7});  // each meter's own increment runs once
    REQUIRE(u.run(static_cast<std::uint8_t>(unit), pdu(3, {0, 2})) == expected);
  }
  CHECK(u.run(77, pdu(3, {0, 2})) == registersReply(3, {502, 7}));  // unit 77 read twice
  CHECK(u.run(78, pdu(3, {0, 2})) == registersReply(3, {502, 7}));
  // Writing one unit's register changes no other unit's.
  CHECK(u.run(150, pdu(6, {1, 4242})) == pdu(6, {1, 4242}));
  CHECK(u.run(1, pdu(6, {1, 99})) == pdu(6, {1, 99}));
  CHECK(u.run(150, pdu(3, {1, 1})) == registersReply(3, {4242}));
  CHECK(u.run(1, pdu(3, {1, 1})) == registersReply(3, {99}));
  for (int unit = 2; unit <= 200; ++unit) {
    if (unit == 150) continue;
    REQUIRE(u.run(static_cast<std::uint8_t>(unit), pdu(3, {1, 1})) == registersReply(3, {7}));
  }
  CHECK(u.sim->unitDevice(150)->store->registerValue(1) == 4242);
  CHECK(u.sim->unitDevice(151)->store->registerValue(1) == 7);
  // Units outside the map do not answer (gateway exception, as for any missing unit id).
  CHECK(u.run(201, pdu(3, {0, 1})) == exceptionReply(3, 0x0B));
  CHECK(u.sim->unitDevice(201) == nullptr);
  // Identity: the server's for everyone, the range's own ProductName on the meters.
  CHECK(u.sim->context()->find(1)->identity().vendorName() == "uvmodbus");
  CHECK(u.sim->context()->find(1)->identity().productName().empty());
  CHECK(u.sim->context()->find(200)->identity().vendorName() == "uvmodbus");
  CHECK(u.sim->context()->find(200)->identity().productName() == "meter");
  // Counters are per unit: the diagnostics of unit 2 saw 1 message, unit 150 three.
  CHECK(u.sim->context()->find(2)->control().counter(DiagnosticCounter::BusMessage) == 2);
  CHECK(u.sim->context()->find(150)->control().counter(DiagnosticCounter::BusMessage) == 3);
  // device() is the lowest unit's.
  CHECK(u.sim->device().store->registerValue(1) == 99);
}

TEST_CASE("simulator devices: map errors name their JSON path") {
  reactor::Reactor reactor;
  auto load = [&](const std::string& devices) { SimulatorServer::fromText(reactor, setupWith(devices)); };
  CHECK_THROWS_WITH_AS(load(R"({"1": "nope"})"),
                       "setup: server_list.server.devices.1: no device \"nope\" in device_list (devices: device, meter)",
                       ConfigError);
  CHECK_THROWS_WITH_AS(load(R"({"1-10": "device", "10-20": "meter"})"),
                       "setup: server_list.server.devices.10-20: unit 10 is also in server_list.server.devices.1-10",
                       ConfigError);
  CHECK_THROWS_WITH_AS(load(R"({"0": "device"})"),
                       "setup: server_list.server.devices.0: unit id 0 is outside 1-247 (0 is the broadcast address)",
                       ConfigError);
  CHECK_THROWS_WITH_AS(load(R"({"240-248": "device"})"),
                       "setup: server_list.server.devices.240-248: unit id 248 is outside 1-247 (0 is the broadcast address)",
                       ConfigError);
  CHECK_THROWS_WITH_AS(load(R"({"x": "device"})"),
                       "setup: server_list.server.devices.x: \"x\" is not a unit id or range (\"5\", \"3-40\")", ConfigError);
  CHECK_THROWS_WITH_AS(load(R"({"9-3": "device"})"),
                       "setup: server_list.server.devices.9-3: range \"9-3\" ends before it starts", ConfigError);
  CHECK_THROWS_WITH_AS(load(R"({"3": {"device": "meter", "colour": 1}})"),
                       doctest::Contains("server_list.server.devices.3.colour: unknown key"), ConfigError);
  CHECK_THROWS_WITH_AS(
      SimulatorServer::fromText(reactor, R"({"server_list": {"server": {"comm": "tcp", "device_id": 1, "devices": {"1": "d"}}},
                                            "device_list": {"d": {"setup": {"co size": 0, "di size": 0, "hr size": 1, "ir size": 0}}}})"),
      "setup: server_list.server.device_id: give \"device_id\" or a \"devices\" map, not both", ConfigError);
  CHECK_THROWS_WITH_AS(load(R"({"3": {"device": 4}})"),
                       "setup: server_list.server.devices.3.device: expected a string, got a number", ConfigError);
}

TEST_CASE("simulator devices: run-time faults answer their exception until cleared, per unit") {
  Units u(R"({"1-2": "device"})");
  CHECK(u.sim->setFault(1, SimulatorTable::HoldingRegisters, 1, ExceptionCode::ServerDeviceFailure));
  CHECK(u.run(1, pdu(3, {0, 2})) == exceptionReply(3, 4));
  CHECK(u.run(1, pdu(3, {0, 1})) == registersReply(3, {10}));
  CHECK(u.run(2, pdu(3, {0, 2})) == registersReply(3, {10, 20}));  // the other unit is untouched
  CHECK(u.run(1, pdu(6, {1, 5})) == exceptionReply(6, 4));
  CHECK(u.sim->setFault(1, SimulatorTable::HoldingRegisters, 1, ExceptionCode::None));
  CHECK(u.run(1, pdu(3, {0, 2})) == registersReply(3, {10, 20}));
  CHECK_FALSE(u.sim->setFault(1, SimulatorTable::HoldingRegisters, 4, ExceptionCode::ServerDeviceFailure));
  CHECK_FALSE(u.sim->setFault(9, SimulatorTable::HoldingRegisters, 0, ExceptionCode::ServerDeviceFailure));
}

TEST_CASE("simulator devices: an offline unit answers nothing and counts nothing, back online it answers") {
  Units u(R"({"1-2": "device", "3": {"device": "meter", "offline": true}})");
  CHECK(u.sim->offline(3));
  CHECK(u.run(3, pdu(3, {0, 1})).empty());
  CHECK(u.sim->unitDevice(3)->store->registerValue(0) == 500);  // no action ran
  CHECK(u.sim->context()->find(3)->control().counter(DiagnosticCounter::BusMessage) == 0);
  CHECK(u.sim->setOffline(3, false));
  CHECK(u.run(3, pdu(3, {0, 1})) == registersReply(3, {501}));
  CHECK(u.sim->setOffline(1, true));
  CHECK(u.run(1, pdu(3, {0, 1})).empty());
  CHECK(u.run(2, pdu(3, {0, 1})) == registersReply(3, {10}));
  CHECK_FALSE(u.sim->setOffline(9, true));
  CHECK_FALSE(u.sim->offline(9));
}

TEST_CASE("simulator devices: \"offline\": true in a device's setup starts it silent") {
  reactor::Reactor reactor;
  auto sim = SimulatorServer::fromText(reactor, R"({"server_list": {"server": {"comm": "tcp", "host": "127.0.0.1", "port": 0}},
    "device_list": {"d": {"setup": {"co size": 0, "di size": 0, "hr size": 1, "ir size": 0, "offline": true},
                          "uint16": [{"addr": 0, "value": 8}]}}})",
                                       "server", "d");
  RequestProcessor processor(sim->context());
  std::array<std::uint8_t, kMaxPduSize> response{};
  const Bytes request = pdu(3, {0, 1});
  CHECK(sim->offline(1));
  CHECK(sim->offline(200));  // one device for every unit id
  CHECK(processor.process(1, request, response) == 0);
  CHECK(sim->setOffline(5, false));
  CHECK(processor.process(1, request, response) == 4);
  CHECK(Bytes(response.begin(), response.begin() + 4) == registersReply(3, {8}));
}

TEST_CASE("simulator devices: over TCP an offline device is silent and answers again once back online") {
  reactor::testing::LoopCleanCheck clean;
  reactor::Reactor reactor;
  auto sim = SimulatorServer::fromText(reactor, setupWith(R"({"1-2": "device"})"));
  sim->runForever(/*onlyStart=*/true);
  auto* tcp = dynamic_cast<ModbusTcpServer*>(sim->servers().at(0).get());
  REQUIRE(tcp != nullptr);
  const std::uint16_t port = tcp->addresses().at(0).port;
  auto request = [](std::uint8_t transaction, char unit) {
    return std::string("\x00", 1) + static_cast<char>(transaction) + std::string("\x00\x00\x00\x06", 4) + unit +
           std::string("\x03\x00\x00\x00\x01", 5);
  };
  // Runs `change` on the reactor thread and waits for it, so the next request sees it.
  auto onReactor = [&](std::function<void()> change) {
    std::promise<void> done;
    reactor.callFromThread([&] {
      change();
      done.set_value();
    });
    done.get_future().wait();
  };
  std::string first, marker, again;
  std::thread client([&] {
    reactor::testing::BlockingClient c("127.0.0.1", port);
    c.sendAll(request(1, 1));
    first = c.readExactly(11);
    onReactor([&] { sim->setOffline(1, true); });
    c.sendAll(request(2, 1));  // never answered
    c.sendAll(request(3, 2));  // unit 2 answers: the answer after 1 is 3's, so 2 was served silence
    marker = c.readExactly(11);
    onReactor([&] { sim->setOffline(1, false); });
    c.sendAll(request(4, 1));
    again = c.readExactly(11);
    reactor.callFromThread([&] {
      sim->stop();
      reactor.callLater(0.05, [&] { reactor.stop(); });
    });
  });
  reactor::testing::runReactor(reactor, 10);
  client.join();
  CHECK(first.substr(0, 2) == std::string("\x00\x01", 2));
  CHECK(first.substr(7) == std::string("\x03\x02\x00\x0A", 4));
  CHECK(marker.substr(0, 2) == std::string("\x00\x03", 2));
  CHECK(again.substr(0, 2) == std::string("\x00\x04", 2));
  CHECK(again.substr(7) == std::string("\x03\x02\x00\x0A", 4));
  sim.reset();
}

}  // namespace
}  // namespace modbus
