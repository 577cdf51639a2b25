// stopReactorIfRunning and runUntilShutdown: the blocking tail of every Start*Server helper.
#include "protocols/servers/start_server.h"

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
  reactor.run(/*installSignalHandlers=*/true);
}

}  // namespace modbus
