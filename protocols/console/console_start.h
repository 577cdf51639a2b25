// Starting a debug console from settings: the token read from the configured file, or generated
// into a new 0600 file (Start*Server's console=true), the endpoint checked, listening, and one log
// line saying where it listens and where the token is.
// Tests: tests/protocols/console/console_service_test.cc, tests/integration/console_test.cc
#pragma once

#include <memory>

#include "protocols/console/console_server.h"
#include "protocols/servers/console_settings.h"

namespace modbus {

class ModbusServer;

/// A listening console on `target` (target.reactor set) as `settings` say (`enabled` is not looked
/// at). Throws ConsoleError (token file) or reactor::EndpointError / CannotListenError (endpoint).
std::unique_ptr<ConsoleServer> startConsole(const ConsoleSettings& settings, ConsoleTarget target);

/// What runUntilShutdown (start_server.h) calls: the console `server`'s ServerOptions::console asks
/// (TCP, TLS, UDP) or SerialServerOptions::console asks for, on that server and its datastore; nullptr when not enabled.
std::unique_ptr<ConsoleServer> startConsoleIfAsked(ModbusServer& server);

}  // namespace modbus
