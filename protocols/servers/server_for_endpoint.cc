// makeServerForEndpoint and defaultFramerForEndpoint: the server for an endpoint string.
#include "protocols/servers/server_for_endpoint.h"

#include <algorithm>
#include <string>

#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "reactor/endpoints.h"

namespace modbus {

FramerType defaultFramerForEndpoint(std::string_view endpoint) {
  return reactor::parseEndpoint(endpoint).type == "serial" ? FramerType::Rtu : FramerType::Socket;
}

std::unique_ptr<ModbusServer> makeServerForEndpoint(reactor::Reactor& reactor, std::string_view endpoint,
                                                    FramerType framer, std::shared_ptr<ServerContext> context,
                                                    ServerOptions options, StartMode mode) {
  const std::string type = reactor::parseEndpoint(endpoint).type;
  options.framer = framer;
  if (type == "tcp" || type == "tcp6" || type == "unix") {  // unix: MBAP over a UNIX socket
    auto server = std::make_unique<ModbusTcpServer>(reactor, std::move(context), options);
    mode == StartMode::Check ? server->check(endpoint) : void(server->listen(endpoint));
    return server;
  }
  if (type == "udp" || type == "udp6") {
    auto server = std::make_unique<ModbusUdpServer>(reactor, std::move(context), options);
    mode == StartMode::Check ? server->check(endpoint) : void(server->listen(endpoint));
    return server;
  }
  if (type == "serial") {
    SerialServerOptions serial;
    serial.line.framer = framer;
    serial.stateChangingDiagnostics = options.stateChangingDiagnostics;
    serial.line.maxInputBuffer = std::max<std::size_t>(options.maxInputBuffer, 260);
    serial.responseHook = options.responseHook;  // the simulator's call monitor and simulations
    SerialServerEndpoint parsed = parseSerialServerEndpoint(endpoint, serial.line);
    serial.line = parsed.line;
    auto server = std::make_unique<ModbusSerialServer>(reactor, std::move(context), serial);
    mode == StartMode::Check ? server->check(endpoint) : void(server->open(parsed.serial));
    return server;
  }
  return nullptr;
}

}  // namespace modbus
