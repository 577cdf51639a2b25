// Tests for a simulator "server_list" entry with "comm": "serial" served on a pseudo-terminal: the
// serial keys pymodbus's files carry (reconnect_delay, allow_multiple_devices, timeout) and an offline
// device on a shared line. The test drives the pty's master as the bus's client would.
#include <doctest/doctest.h>

#include <functional>
#include <future>
#include <string>
#include <thread>

#include "protocols/config/config_error.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/simulator/simulator_server.h"
#include "protocols/simulator/simulator_setup.h"
#include "tests/support/pty_pair.h"
#include "tests/support/reactor_harness.h"

namespace modbus {
namespace {

using testsupport::Bytes;
using testsupport::hexBytes;
using testsupport::withCrc;

std::string serialSetup(const std::string& path, const std::string& serverKeys) {
  return R"({
  "server_list": {"server": {"comm": "serial", "port": ")" +
         path + R"(", "framer": "rtu", "baudrate": 19200)" + serverKeys + R"(}},
  "device_list": {
    "device": {"setup": {"co size": 0, "di size": 0, "hr size": 2, "ir size": 0, "shared blocks": true},
               "uint16": [{"addr": 0, "value": 10}, {"addr": 1, "value": 20}]}}})";
}

const Bytes kReadUnit1 = withCrc(hexBytes("01 03 00 00 00 01"));
const Bytes kAnswerUnit1 = withCrc(hexBytes("01 03 02 00 0A"));
const Bytes kReadUnit2 = withCrc(hexBytes("02 03 00 01 00 01"));
const Bytes kAnswerUnit2 = withCrc(hexBytes("02 03 02 00 14"));
const Bytes kReadUnit9 = withCrc(hexBytes("09 03 00 00 00 01"));

Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::string errorOf(const std::string& setup) {
  try {
    (void)parseSimulatorServer(setup, "server");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("simulator serial: reconnect_delay becomes the serial server's reopen delay, timeout is only checked") {
  const auto entry = parseSimulatorServer(serialSetup("/dev/ttyX", R"(, "reconnect_delay": 2, "timeout": 3)"), "server");
  CHECK(entry.entry.endpoint == "serial:/dev/ttyX:baudrate=19200:framer=rtu:reopen_delay=2");
  CHECK(parseSerialServerEndpoint(entry.entry.endpoint).reopenDelay == doctest::Approx(2.0));
  // 0, pymodbus's default, keeps ours.
  CHECK(parseSimulatorServer(serialSetup("/dev/ttyX", R"(, "reconnect_delay": 0)"), "server").entry.endpoint ==
        "serial:/dev/ttyX:baudrate=19200:framer=rtu");
  CHECK(errorOf(serialSetup("/dev/ttyX", R"(, "reconnect_delay": 7200)")) ==
        "server_list.server.reconnect_delay: a reconnect delay is at most 3600 seconds");
  CHECK(errorOf(serialSetup("/dev/ttyX", R"(, "timeout": "soon")")).rfind("server_list.server.timeout: ", 0) == 0);
}

TEST_CASE("simulator serial: allow_multiple_devices needs the unit ids the server answers, and a serial line") {
  CHECK(errorOf(serialSetup("/dev/ttyX", R"(, "allow_multiple_devices": true)")) ==
        "server_list.server.allow_multiple_devices: a server sharing its line needs \"device_id\" or \"devices\": "
        "the unit ids it answers");
  CHECK(errorOf(serialSetup("/dev/ttyX", R"(, "allow_multiple_devices": false)")) == "no error");
  CHECK(errorOf(serialSetup("/dev/ttyX", R"(, "allow_multiple_devices": true, "device_id": 4)")) == "no error");
  const std::string tcp = R"({"server_list": {"server": {"comm": "tcp", "port": 0, "device_id": 1,
      "allow_multiple_devices": true}}, "device_list": {}})";
  CHECK(errorOf(tcp) == "server_list.server.allow_multiple_devices: only a serial server (\"comm\": \"serial\") "
                        "shares its line with other devices");
}

TEST_CASE("simulator serial: on a shared line an offline device is silent, others and foreign ids as before") {
  reactor::testing::LoopCleanCheck clean;
  testsupport::Pty pty;
  reactor::Reactor reactor;
  auto sim = SimulatorServer::fromText(
      reactor, serialSetup(pty.slavePath(), R"(, "allow_multiple_devices": true, "reconnect_delay": 0.5,
                                             "devices": {"1-2": "device"})"));
  sim->runForever(/*onlyStart=*/true);
  auto* serial = dynamic_cast<ModbusSerialServer*>(sim->servers().at(0).get());
  REQUIRE(serial != nullptr);
  // Runs `change` on the reactor thread and waits for it, so the next request sees it.
  auto onReactor = [&](std::function<void()> change) {
    std::promise<void> done;
    reactor.callFromThread([&] {
      change();
      done.set_value();
    });
    done.get_future().wait();
  };
  Bytes first, foreign, offline, again;
  std::thread client([&] {
    pty.write(kReadUnit1);
    first = pty.read(kAnswerUnit1.size(), 5.0);
    // A foreign id is skipped: the next answer on the line is unit 2's.
    pty.write(concat(kReadUnit9, kReadUnit2));
    foreign = pty.read(kAnswerUnit2.size(), 5.0);
    onReactor([&] { sim->setOffline(1, true); });
    pty.write(concat(kReadUnit1, kReadUnit2));
    offline = pty.read(kAnswerUnit2.size(), 5.0);
    onReactor([&] { sim->setOffline(1, false); });
    pty.write(kReadUnit1);
    again = pty.read(kAnswerUnit1.size(), 5.0);
    reactor.callFromThread([&] {
      sim->stop();
      reactor.stop();
    });
  });
  reactor::testing::runReactor(reactor, 20);
  client.join();
  CHECK(first == kAnswerUnit1);
  CHECK(foreign == kAnswerUnit2);
  CHECK(offline == kAnswerUnit2);
  CHECK(again == kAnswerUnit1);
  sim.reset();
}

TEST_CASE("simulator serial: the call monitor counts requests on a serial line and its simulations apply there") {
  reactor::testing::LoopCleanCheck clean;
  testsupport::Pty pty;
  reactor::Reactor reactor;
  auto sim = SimulatorServer::fromText(reactor, serialSetup(pty.slavePath(), ""));
  SimulatorCalls& calls = sim->calls();  // before runForever: the servers started then carry it
  sim->runForever(/*onlyStart=*/true);
  Bytes answered, exception;
  std::thread client([&] {
    pty.write(kReadUnit1);
    answered = pty.read(kAnswerUnit1.size(), 5.0);
    std::promise<void> set;
    reactor.callFromThread([&] {
      CallSimulation error;
      error.response = SimulatedResponse::Error;
      error.errorCode = 4;
      calls.simulate(error);
      set.set_value();
    });
    set.get_future().wait();
    pty.write(kReadUnit1);
    exception = pty.read(5, 5.0);  // 01 83 04 CRC
    reactor.callFromThread([&] {
      sim->stop();
      reactor.stop();
    });
  });
  reactor::testing::runReactor(reactor, 20);
  client.join();
  CHECK(answered == kAnswerUnit1);
  CHECK(exception == withCrc(hexBytes("01 83 04")));
  CHECK(calls.totalRequests() == 2);
  CHECK(calls.requestCount(3) == 2);
  sim.reset();
}

}  // namespace modbus
