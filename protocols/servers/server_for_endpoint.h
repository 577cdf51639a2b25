// The server factory by endpoint string: makeServerForEndpoint builds and starts a ModbusTcpServer,
// ModbusUdpServer or ModbusSerialServer for "tcp:", "udp:" or "serial:" (the configuration's start-up
// and users with an endpoint in hand use it); defaultFramerForEndpoint says which framer that is
// when none is configured. Rules: it knows the server classes, they do not know it; "tls:" is not
// built here (a TLS server needs certificates: ModbusTlsServer).
// Tests: tests/integration/udp_test.cc, tests/integration/serial_test.cc
#pragma once

#include <memory>
#include <string_view>

#include "datastore/server_context.h"
#include "framers/framer_type.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/server_options.h"
#include "reactor/reactor.h"

namespace modbus {

/// The framer a server on `endpoint` uses when none is configured: RTU for "serial:", MBAP
/// (Socket) otherwise. Throws reactor::EndpointError for a malformed string.
FramerType defaultFramerForEndpoint(std::string_view endpoint);

/// What makeServerForEndpoint and startServers do with the servers they build: listen (open the
/// serial line), or only ModbusServer::check() the endpoint (`uvmodbus-server --check`).
enum class StartMode { Serve, Check };

/// A started server for any endpoint string: "tcp:"/"tcp6:" (ModbusTcpServer), "udp:"/"udp6:"
/// (ModbusUdpServer) and "serial:" (ModbusSerialServer; its Modbus keys, e.g. framer=, win over
/// `framer`), each with `framer` (RTU over TCP, ASCII over UDP, ... are fine). Returns nullptr for
/// a type it does not build (e.g. "tls:"). Throws reactor::EndpointError (a bad string, or the
/// Socket/MbapInTls framer on a serial line), reactor::CannotListenError or reactor::SerialPortError.
/// With StartMode::Check the server is built and checked, not started: the same errors, short of
/// binding or opening.
std::unique_ptr<ModbusServer> makeServerForEndpoint(reactor::Reactor& reactor, std::string_view endpoint,
                                                    FramerType framer, std::shared_ptr<ServerContext> context,
                                                    ServerOptions options = {}, StartMode mode = StartMode::Serve);

}  // namespace modbus
