// uvmodbus-bench-server: the servers the benchmark's UDP, RTU and TLS scenarios run against, built
// straight on ModbusUdpServer, ModbusSerialServer and ModbusTlsServer (not on uvmodbus-server's
// configuration). Unit 1 has 10 000 registers of each kind; holding and input register i hold the
// value i (the RTU load checks content), coils and discrete inputs are off.
//
//   uvmodbus-bench-server [--tcp PORT] [--udp PORT] [--serial DEVICE --baud N]
//                         [--tls PORT --cert FILE --key FILE --ca FILE [--roles] [--ciphersuites A,B]]
//
// Port 0 binds a free port. Once everything listens it prints one line
// "listening tcp=P udp=P tls=P serial=DEVICE" (only the endpoints asked for) and serves until
// SIGTERM or SIGINT. Everything binds 127.0.0.1 only.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "protocols/application/roles.h"
#include "reactor/endpoints.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

namespace {

constexpr std::size_t kRegisters = 10000;

std::shared_ptr<modbus::ServerContext> makeContext() {
  std::vector<std::uint16_t> values(kRegisters);
  for (std::size_t i = 0; i < kRegisters; ++i) values[i] = static_cast<std::uint16_t>(i);
  auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, kRegisters),
      .discreteInputs = modbus::SequentialBitBlock::create(0, kRegisters),
      .holdingRegisters = std::make_shared<modbus::SequentialRegisterBlock>(0, values),
      .inputRegisters = std::make_shared<modbus::SequentialRegisterBlock>(0, values),
  });
  return modbus::ServerContext::multiple({{1, device}});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvmodbus-bench-server: UDP, serial RTU and TLS Modbus servers for bench/run.sh"};
  int tcpPort = -1;
  int udpPort = -1;
  int tlsPort = -1;
  std::string serialDevice;
  unsigned baud = 115200;
  std::string cert, key, ca;
  bool roles = false;
  std::string ciphersuites;
  app.add_option("--tcp", tcpPort, "Modbus/TCP port (0: any free one)")->check(CLI::Range(0, 65535));
  app.add_option("--udp", udpPort, "Modbus/UDP port (0: any free one)")->check(CLI::Range(0, 65535));
  app.add_option("--serial", serialDevice, "serve Modbus RTU on this serial device (e.g. a pty's slave)");
  app.add_option("--baud", baud, "serial baud rate (8E1)")->capture_default_str()->check(CLI::Range(1u, 4000000u));
  app.add_option("--tls", tlsPort, "Modbus/TCP Security port (0: any free one)")->check(CLI::Range(0, 65535));
  app.add_option("--cert", cert, "TLS: server certificate");
  app.add_option("--key", key, "TLS: server private key");
  app.add_option("--ca", ca, "TLS: CA that client certificates must chain to");
  app.add_option("--ciphersuites", ciphersuites, "TLS: suites the server accepts, comma-separated (default: mbedTLS's)");
  app.add_flag("--roles", roles, "TLS: authorize by the certificate's role (Operator: FC 1-6, 15, 16)");
  CLI11_PARSE(app, argc, argv);
  if (tcpPort < 0 && udpPort < 0 && tlsPort < 0 && serialDevice.empty()) {
    std::cerr << "uvmodbus-bench-server: nothing to serve (--tcp, --udp, --serial or --tls)\n";
    return 2;
  }
  if (tlsPort >= 0 && (cert.empty() || key.empty() || ca.empty())) {
    std::cerr << "uvmodbus-bench-server: --tls needs --cert, --key and --ca\n";
    return 2;
  }
  reactor::log::setLevel(reactor::log::Level::Warning);

  reactor::Reactor reactor;
  auto context = makeContext();
  std::unique_ptr<modbus::ModbusTcpServer> tcp;
  std::unique_ptr<modbus::ModbusUdpServer> udp;
  std::unique_ptr<modbus::ModbusSerialServer> serial;
  std::unique_ptr<modbus::ModbusTlsServer> tls;
  std::string ready = "listening";
  try {
    if (tcpPort >= 0) {
      tcp = std::make_unique<modbus::ModbusTcpServer>(reactor, context);
      auto bound = tcp->listen("tcp:" + std::to_string(tcpPort) + ":interface=127.0.0.1:backlog=1024");
      ready += " tcp=" + std::to_string(bound.port);
    }
    if (udpPort >= 0) {
      udp = std::make_unique<modbus::ModbusUdpServer>(reactor, context);
      auto bound = udp->listen("udp:" + std::to_string(udpPort) + ":interface=127.0.0.1");
      ready += " udp=" + std::to_string(bound.port);
    }
    if (!serialDevice.empty()) {
      serial = std::make_unique<modbus::ModbusSerialServer>(reactor, context);
      serial->open("serial:" + reactor::quoteStringArgument(serialDevice) + ":baudrate=" + std::to_string(baud) +
                   ":parity=E");
      ready += " serial=" + serialDevice;
    }
    if (tlsPort >= 0) {
      modbus::TlsServerOptions tlsOptions;
      if (roles) tlsOptions.roles = modbus::parseRoleTable(R"({"Operator": {"functions": [1, 2, 3, 4, 5, 6, 15, 16]}})");
      tls = std::make_unique<modbus::ModbusTlsServer>(reactor, context, std::move(tlsOptions));
      // max_handshakes and max_handshakes_per_peer above their defaults (64, 8): scenario h opens 100
      // connections from 127.0.0.1 in a burst.
      using reactor::quoteStringArgument;
      auto bound = tls->listen("tls:" + std::to_string(tlsPort) + ":interface=127.0.0.1:backlog=1024" +
                               ":cert=" + quoteStringArgument(cert) + ":key=" + quoteStringArgument(key) +
                               ":ca=" + quoteStringArgument(ca) + ":max_handshakes=1024:max_handshakes_per_peer=1024" +
                               (ciphersuites.empty() ? std::string() : ":ciphersuites=" + quoteStringArgument(ciphersuites)));
      ready += " tls=" + std::to_string(bound.port);
    }
  } catch (const std::exception& e) {
    std::cerr << "uvmodbus-bench-server: " << e.what() << "\n";
    return 1;
  }
  reactor.callWhenRunning([&ready] {
    std::printf("%s\n", ready.c_str());
    std::fflush(stdout);
  });
  reactor.run(true);  // SIGTERM / SIGINT stop it
  return 0;
}
