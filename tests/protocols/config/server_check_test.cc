// Tests for checkServers (protocols/config/server_startup.h): what `uvmodbus-server --check` runs.
// It must refuse what start-up refuses, in the same words, and bind, open and connect nothing.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "protocols/config/server_startup.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/failure.h"
#include "reactor/serial_port.h"
#include "tests/protocols/config/config_test_support.h"
#include "tests/support/certs.h"
#include "tests/support/pty_pair.h"

using modbus::parseServerConfig;
using modbus::testing::withServer;

namespace {

/// "Type: message" of what `step` throws, or "no error".
std::string errorOf(const std::function<void()>& step) {
  try {
    step();
  } catch (const modbus::ConfigError& e) {
    return std::string("ConfigError: ") + e.what();
  } catch (const reactor::CannotListenError& e) {
    return e.what();  // already "CannotListenError: …"
  } catch (const reactor::SerialPortError& e) {
    return std::string("SerialPortError: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
  return "no error";
}

/// What checkServers says about `config`, after checking that startServers says the same.
std::string checkSaysAsStartUpDoes(const modbus::ServerConfig& config) {
  reactor::Reactor reactor;
  std::string checked = errorOf([&] { modbus::checkServers(reactor, config); });
  std::string started = errorOf([&] { modbus::startServers(reactor, config); });
  CHECK(checked == started);
  CHECK(modbus::runningServerCount() == 0);
  return checked;
}

std::string tlsEntry(const std::string& cert, const std::string& key, const std::string& interface = "127.0.0.1") {
  const auto& certs = testsupport::testCertificates();
  return R"({"endpoint": "tls:0:interface=)" + interface + ":cert=" + cert + ":key=" + key + ":ca=" + certs.ca.cert +
         R"("})";
}

}  // namespace

TEST_CASE("server check: checkServers binds no port, so a port in use still passes") {
  auto c = parseServerConfig(withServer(R"({"endpoint": "tcp:0:interface=127.0.0.1"})"));
  reactor::Reactor reactor;
  auto servers = modbus::startServers(reactor, c);
  auto port = dynamic_cast<modbus::ModbusTcpServer&>(*servers[0]).addresses()[0].port;
  auto taken = parseServerConfig(withServer(R"({"endpoint": "tcp:)" + std::to_string(port) +
                                            R"(:interface=127.0.0.1"}, {"endpoint": "udp:0:interface=127.0.0.1"})"));
  CHECK(errorOf([&] { modbus::checkServers(reactor, taken); }) == "no error");
  CHECK(modbus::runningServerCount() == 1);  // only the server started above
  servers.clear();
  CHECK(modbus::runningServerCount() == 0);
}

TEST_CASE("server check: checkServers passes a valid tls entry and a serial line that exists, opening neither") {
  const auto& certs = testsupport::testCertificates();
  testsupport::Pty pty;
  auto c = parseServerConfig(withServer(tlsEntry(certs.server.cert, certs.server.key) +
                                        R"(, {"endpoint": "serial:)" + pty.slavePath() + R"("})"));
  reactor::Reactor reactor;
  CHECK(errorOf([&] { modbus::checkServers(reactor, c); }) == "no error");
  CHECK(modbus::runningServerCount() == 0);
}

TEST_CASE("server check: an interface that is not an IP address is refused with listen's CannotListenError") {
  const auto& certs = testsupport::testCertificates();
  CHECK(checkSaysAsStartUpDoes(parseServerConfig(withServer(R"({"endpoint": "tcp:5020:interface=999.1.1.1"})"))) ==
        "CannotListenError: couldn't listen on 999.1.1.1:5020: invalid argument (EINVAL)");
  CHECK(checkSaysAsStartUpDoes(parseServerConfig(withServer(R"({"endpoint": "udp:5020:interface=plc.local"})"))) ==
        "CannotListenError: couldn't listen on plc.local:5020: invalid argument (EINVAL)");
  CHECK(checkSaysAsStartUpDoes(parseServerConfig(
            withServer(tlsEntry(certs.server.cert, certs.server.key, "10.0.0.256")))) ==
        "CannotListenError: couldn't listen on 10.0.0.256:0: invalid argument (EINVAL)");
}

TEST_CASE("server check: a missing certificate and a key that is not the certificate's are refused as at start-up") {
  const auto& certs = testsupport::testCertificates();
  std::string missing = checkSaysAsStartUpDoes(
      parseServerConfig(withServer(tlsEntry(certs.dir + "/no-such-cert.pem", certs.server.key))));
  CHECK(missing.starts_with("ConfigError: servers[0].endpoint: "));
  CHECK(missing.find("no-such-cert.pem") != std::string::npos);

  std::string mismatch =
      checkSaysAsStartUpDoes(parseServerConfig(withServer(tlsEntry(certs.server.cert, certs.readerClient.key))));
  CHECK(mismatch.starts_with("ConfigError: servers[0].endpoint: "));
  CHECK(mismatch.find("does not match") != std::string::npos);
}

TEST_CASE("server check: a serial device that is missing or not a terminal is refused as at start-up") {
  CHECK(checkSaysAsStartUpDoes(parseServerConfig(withServer(R"({"endpoint": "serial:/dev/uvmodbus-no-such-tty"})"))) ==
        "SerialPortError: cannot open /dev/uvmodbus-no-such-tty: No such file or directory");
  const std::string regular = testsupport::testCertificates().ca.cert;  // a regular file, not a tty
  CHECK(checkSaysAsStartUpDoes(parseServerConfig(withServer(R"({"endpoint": "serial:)" + regular + R"("})"))) ==
        "SerialPortError: cannot open " + regular + ": not a terminal device");
}
