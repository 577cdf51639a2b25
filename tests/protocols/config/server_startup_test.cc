// Tests for protocols/config/server_startup: the servers a configuration starts, how start-up
// failures are reported, and the one reload path of the TLS certificates.
#include "protocols/config/server_startup.h"

#include <doctest/doctest.h>

#include <string>

#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "reactor/failure.h"
#include "reactor/serial_port.h"
#include "tests/protocols/config/config_test_support.h"
#include "tests/support/certs.h"
#include "tests/support/pty_pair.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/subprocess.h"

using modbus::ConfigError;
using modbus::parseServerConfig;
using modbus::testing::withServer;
using modbus::testing::withUnits;
using reactor::testing::LogCapture;
using reactor::testing::LoopCleanCheck;

namespace {

/// Runs the reactor and calls ServerStop once it runs: ServerStop must end it (a 5 s guard stops a
/// reactor it failed to end, and fails the test, instead of hanging).
void runUntilServerStop(reactor::Reactor& reactor) {
  bool stoppedByTimeout = false;
  auto guard = reactor.callLater(5.0, [&] {
    stoppedByTimeout = true;
    reactor.stop();
  });
  reactor.callWhenRunning([] { modbus::ServerStop(); });
  reactor.run(/*installSignalHandlers=*/false);
  CHECK_FALSE(stoppedByTimeout);
  if (guard.active()) guard.cancel();
}

}  // namespace

TEST_CASE("server config: startServers listens on every entry and ServerStop ends the reactor") {
  auto c = parseServerConfig(R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"},
                                             {"endpoint": "tcp:0:interface=127.0.0.1", "framer": "rtu"}],
                                 "units": {"1": {"coils": {"count": 1}}}})");
  reactor::Reactor reactor;
  auto servers = modbus::startServers(reactor, c);
  REQUIRE(servers.size() == 2);
  auto* first = dynamic_cast<modbus::ModbusTcpServer*>(servers[0].get());
  auto* second = dynamic_cast<modbus::ModbusTcpServer*>(servers[1].get());
  REQUIRE(first != nullptr);
  REQUIRE(second != nullptr);
  REQUIRE(first->addresses().size() == 1);
  CHECK(first->addresses()[0].host == "127.0.0.1");
  CHECK(first->addresses()[0].port != 0);
  CHECK(second->factory().options().framer == modbus::FramerType::Rtu);
  CHECK(&first->factory().context() == c.context.get());  // both serve the one datastore
  CHECK(&second->factory().context() == c.context.get());
  runUntilServerStop(reactor);
  servers.clear();
}

TEST_CASE("server config: startServers reports a port in use as CannotListenError") {
  auto c = parseServerConfig(R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}],
                                 "units": {"1": {"coils": {"count": 1}}}})");
  reactor::Reactor reactor;
  auto servers = modbus::startServers(reactor, c);
  auto port = dynamic_cast<modbus::ModbusTcpServer&>(*servers[0]).addresses()[0].port;
  modbus::ServerConfig clash = c;
  clash.servers = {modbus::ServerEntry{"tcp:0:interface=127.0.0.1", {}},
                   modbus::ServerEntry{"tcp:" + std::to_string(port) + ":interface=127.0.0.1", {}}};
  CHECK_THROWS_AS(modbus::startServers(reactor, clash), reactor::CannotListenError);
  CHECK(modbus::runningServerCount() == 1);  // the clash's first server was closed again
}

TEST_CASE("server config: startServers starts tcp, udp, serial and tls servers, and reloads the tls certificates") {
  LoopCleanCheck clean;
  const auto& certs = testsupport::testCertificates();
  const std::string cert = certs.dir + "/server-config-reload.pem";
  const std::string key = certs.dir + "/server-config-reload.key";
  testsupport::writeTextFile(cert, testsupport::readTextFile(certs.server.cert));
  testsupport::writeTextFile(key, testsupport::readTextFile(certs.server.key));
  testsupport::Pty pty;
  auto c = parseServerConfig(R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"},
      {"endpoint": "udp:0:interface=127.0.0.1", "framer": "rtu"},
      {"endpoint": "serial:)" + pty.slavePath() + R"(:baudrate=9600", "framer": "ascii"},
      {"endpoint": "tls:0:interface=127.0.0.1:cert=)" + cert + ":key=" + key + ":ca=" + certs.ca.cert +
                             R"(", "roles": {"Reader": {"functions": [3]}}}],
      "units": {"1": {"coils": {"count": 1}}}})");
  LogCapture logs;
  reactor::Reactor reactor;
  auto servers = modbus::startServers(reactor, c);
  REQUIRE(servers.size() == 4);
  CHECK(dynamic_cast<modbus::ModbusTcpServer*>(servers[0].get()) != nullptr);
  auto* udp = dynamic_cast<modbus::ModbusUdpServer*>(servers[1].get());
  REQUIRE(udp != nullptr);
  CHECK(udp->options().framer == modbus::FramerType::Rtu);
  REQUIRE(udp->addresses().size() == 1);
  CHECK(udp->addresses()[0].port != 0);
  auto* serial = dynamic_cast<modbus::ModbusSerialServer*>(servers[2].get());
  REQUIRE(serial != nullptr);
  CHECK(serial->isOpen());
  CHECK(serial->options().line.framer == modbus::FramerType::Ascii);
  auto* tls = dynamic_cast<modbus::ModbusTlsServer*>(servers[3].get());
  REQUIRE(tls != nullptr);
  REQUIRE(tls->ports().size() == 1);
  CHECK(tls->factory().roles() != nullptr);
  CHECK(&tls->factory().context() == c.context.get());  // one datastore for all
  CHECK(&udp->processor().context() == c.context.get());
  CHECK(&serial->processor().context() == c.context.get());
  CHECK(logs.count("listening on udp 127.0.0.1:") == 1);
  CHECK(logs.count("serving Modbus ascii on serial " + pty.slavePath()) == 1);
  CHECK(logs.count("listening on tls 127.0.0.1:") == 1);

  // SIGHUP's work: every TLS endpoint re-reads its files; a broken file keeps the current ones.
  CHECK(modbus::reloadTlsCertificates(servers) == 0);
  CHECK(tls->ports()[0]->context().generation() == 1);
  CHECK(logs.count("reloaded the certificate, key and CA of tls 127.0.0.1:") == 1);
  testsupport::writeTextFile(key, "not a key");
  CHECK(modbus::reloadTlsCertificates(servers) == 1);
  CHECK(tls->ports()[0]->context().generation() == 1);
  CHECK(logs.count("failed, keeping the current ones") == 1);

  runUntilServerStop(reactor);
  servers.clear();
}

TEST_CASE("server config: startServers reports unusable certificate files as ConfigError, a missing device as SerialPortError") {
  const auto& certs = testsupport::testCertificates();
  auto badCert = parseServerConfig(withServer(R"({"endpoint": "tcp:0:interface=127.0.0.1"},
      {"endpoint": "tls:0:interface=127.0.0.1:cert=)" + certs.dir + R"(/no-such.pem:key=)" + certs.server.key +
                                              ":ca=" + certs.ca.cert + R"("})"));
  reactor::Reactor reactor;
  std::string message = "no error";
  try {
    modbus::startServers(reactor, badCert);
  } catch (const ConfigError& e) {
    message = e.what();
  }
  CHECK(message.starts_with("servers[1].endpoint: "));
  CHECK(message.find("no-such.pem") != std::string::npos);
  CHECK(modbus::runningServerCount() == 0);  // the tcp server started first was closed again

  auto missingDevice = parseServerConfig(withServer(R"({"endpoint": "serial:/dev/uvmodbus-no-such-tty"})"));
  CHECK_THROWS_AS(modbus::startServers(reactor, missingDevice), reactor::SerialPortError);
  CHECK(modbus::runningServerCount() == 0);
}

TEST_CASE("server config: one reload of the TLS certificates logs exactly one line per TLS endpoint") {
  LoopCleanCheck clean;
  const auto& certs = testsupport::testCertificates();
  const std::string files = ":cert=" + certs.server.cert + ":key=" + certs.server.key + ":ca=" + certs.ca.cert;
  auto c = parseServerConfig(withServer(R"({"endpoint": "tls:0:interface=127.0.0.1)" + files + R"("},
      {"endpoint": "tls:0:interface=127.0.0.1)" + files + R"("})"));
  reactor::Reactor reactor;
  auto servers = modbus::startServers(reactor, c);
  REQUIRE(servers.size() == 2);
  LogCapture logs;
  CHECK(modbus::reloadTlsCertificates(servers) == 0);
  // Two endpoints, two lines: no second line from the port, no second pass over the files.
  CHECK(logs.count("reloaded") == 2);
  CHECK(logs.count("reloaded the certificate, key and CA of tls 127.0.0.1:") == 2);
  CHECK(logs.count("certificates reloaded") == 0);
  servers.clear();
}
