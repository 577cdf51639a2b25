// stopReactorIfRunning and runUntilShutdown: the blocking tail of every Start*Server helper.
#include "protocols/servers/start_server.h"

#include "protocols/console/console_start.h"
#include "protocols/servers/modbus_server.h"

namespace modbus {

void stopReactorIfRunning(reactor::Reactor& reactor) {
  if (!reactor.running()) return;
  try {
    reactor.stop();
  } catch (const reactor::ReactorNotRunning&) {
    // already stopping (a signal came first)
  }
}

void runUntilShutdown(ModbusServer& server) {
  reactor::Reactor& reactor = server.reactor();
  server.onShutdown = [&reactor] { stopReactorIfRunning(reactor); };
  // ServerOptions::console (pymodbus 1.x's console=True): closed before the server goes.
  std::unique_ptr<ConsoleServer> console = startConsoleIfAsked(server);
  reactor.run(/*installSignalHandlers=*/true);
}

}  // namespace modbus
