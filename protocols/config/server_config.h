// The JSON server configuration: one file gives the datastore and the servers that share it
// (the C++ counterpart of the "server" and "device" sections of pymodbus's setup.json).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/servers/server_options.h"
#include "reactor/reactor.h"

namespace modbus {

/// A configuration that cannot be used. what() starts with the JSON path of the offending value
/// and says what is wrong with it, e.g.
/// `units.1.holding_registers.values[3]: 70000 is not a register value (0..65535)`.
/// loadServerConfig() puts the file name in front: `site.json: units.1...`.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One entry of "servers": where to listen and how to serve.
struct ServerEntry {
  /// An endpoint string: "tcp:5020:interface=127.0.0.1", "tcp6:…", "udp:…", "udp6:…",
  /// "serial:/dev/ttyUSB0:baudrate=19200:parity=E" or "tls:802:cert=…:key=…:ca=…".
  std::string endpoint;
  /// options.framer is the effective framer: RTU by default on a serial line, MBAP elsewhere.
  ServerOptions options;
  /// Set for a "tls:" endpoint only: roles, default role and the framing inside TLS.
  std::optional<TlsServerOptions> tls = std::nullopt;
};

/// A unit answered by a downstream Modbus TCP device (a gateway unit): "remote" in place of tables.
struct RemoteUnit {
  /// "tcp:HOST:PORT".
  std::string endpoint;
  /// The unit id downstream; nullopt = the request's own.
  std::optional<std::uint8_t> unitId;
  /// Seconds a request waits for the downstream answer (0x0B after that).
  double timeout = 3.0;
};

/// A parsed configuration: the datastore every server shares, and the servers.
struct ServerConfig {
  std::shared_ptr<ServerContext> context;
  std::vector<ServerEntry> servers;
  /// Gateway units (not in `context`): startServers connects them and serves them on every server.
  std::map<std::uint8_t, RemoteUnit> remotes;
};

/// Parses and validates a configuration (the format is documented in docs/configuration.md).
/// Unknown keys, duplicate keys, wrong types and out-of-range values are all errors: throws
/// ConfigError naming the JSON path and the problem.
ServerConfig parseServerConfig(std::string_view json);

/// Reads `path` and parses it as parseServerConfig() does. Throws ConfigError (with the path in
/// front of the message) when the file cannot be read or the configuration is invalid.
ServerConfig loadServerConfig(const std::string& path);

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

/// Re-reads the certificate, key and CA files of every ModbusTlsServer in `servers` (what
/// uvmodbus-server does on SIGHUP): new connections use them, open ones continue. Logs one line
/// per TLS endpoint, reloaded or not; a server whose files are broken keeps its current ones.
/// Returns how many TLS servers failed to reload (0 when all did, or when there is none).
std::size_t reloadTlsCertificates(const std::vector<std::unique_ptr<ModbusServer>>& servers);

}  // namespace modbus
