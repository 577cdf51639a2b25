// Starting what a parsed configuration (server_config.h) describes: one server per entry on one
// reactor, the gateway units connected, every server's shutdown stopping the reactor when the last
// one goes; and reloading the TLS servers' certificates (uvmodbus-server's SIGHUP).
// Tests: tests/protocols/config/server_startup_test.cc, tests/integration/server_command_test.cc
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "protocols/config/server_config.h"
#include "protocols/servers/modbus_server.h"
#include "protocols/servers/server_for_endpoint.h"
#include "reactor/reactor.h"

namespace modbus {

/// Creates one server per entry of `config.servers` on `reactor` and starts listening: a
/// ModbusTcpServer, ModbusUdpServer or ModbusSerialServer (makeServerForEndpoint) or a
/// ModbusTlsServer; each logs its "listening on ..." (serial: "serving Modbus rtu on serial ...")
/// line. When every returned server has been shut down (ServerStop()), the reactor is stopped.
/// Destroy the servers before the reactor, on its thread.
/// Throws reactor::CannotListenError when an address cannot be bound, reactor::SerialPortError
/// when a serial device cannot be opened, and ConfigError ("servers[N].endpoint: …") for an
/// endpoint the servers cannot use, including certificate files that cannot be loaded; servers
/// already started are closed again before the throw.
std::vector<std::unique_ptr<ModbusServer>> startServers(reactor::Reactor& reactor, const ServerConfig& config);

/// Everything startServers() does short of binding ports, opening serial devices and connecting
/// gateway units, with the same exceptions and messages: each server is built and its endpoint
/// checked (ModbusServer::check: the interface is an IP address, the certificate, key and CA load
/// and the key is the certificate's, the serial device exists). `uvmodbus-server --check`.
void checkServers(reactor::Reactor& reactor, const ServerConfig& config);

/// Re-reads the certificate, key and CA files of every ModbusTlsServer in `servers` (what
/// uvmodbus-server does on SIGHUP) through ModbusTlsServer::reloadCertificates(): new connections
/// use them, open ones continue. Logs exactly one line per TLS endpoint, reloaded or not; a server
/// whose files are broken keeps its current ones.
/// Returns how many TLS servers failed to reload (0 when all did, or when there is none).
std::size_t reloadTlsCertificates(const std::vector<std::unique_ptr<ModbusServer>>& servers);

}  // namespace modbus
