// Port of pymodbus's ModbusTcpServer and StartTcpServer (server/server.py, startstop.py) on the
// reactor's TCP endpoints: MBAP by default, RTU or ASCII over TCP with ServerOptions::framer.
// ServerStop() stops it like every other server.
// Tests: tests/integration/server_command_test.cc, libmodbus_test.cc, pymodbus_test.cc.
#pragma once

#include <memory>
#include <string_view>

#include "datastore/server_context.h"
#include "protocols/servers/listening_server.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/servers/server_options.h"
#include "protocols/servers/start_server.h"
#include "reactor/address.h"
#include "reactor/interfaces.h"
#include "reactor/reactor.h"

namespace modbus {

/// Modbus/TCP (MBAP by default; RTU or ASCII over TCP with ServerOptions::framer).
class ModbusTcpServer : public ListeningServer<reactor::IListeningPort> {
 public:
  ModbusTcpServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context, ServerOptions options = {});

  /// Listens on an endpoint string ("tcp:5020:interface=127.0.0.1"); call again for more endpoints.
  /// Returns the bound address (the real port when the string said 0). Throws
  /// reactor::EndpointError or reactor::CannotListenError.
  reactor::Address listen(std::string_view endpoint);
  void check(std::string_view endpoint) const override;
  const ConnectionLog* connectionLog() const override { return &factory_->connectionLog(); }
  ModbusServerFactory& factory() { return *factory_; }
  std::shared_ptr<ModbusServerFactory> factoryPtr() const { return factory_; }

 protected:
  void doShutdown() override;

 private:
  std::shared_ptr<ModbusServerFactory> factory_;
};

/// pymodbus's StartTcpServer: blocks, serving `context` on `address` (an endpoint string, e.g.
/// "tcp:5020:interface=127.0.0.1"; default "tcp:502") with a reactor of its own, until ServerStop(),
/// SIGINT or SIGTERM. Throws if it cannot listen.
void StartTcpServer(std::shared_ptr<ServerContext> context, std::string_view address = "tcp:502",
                    ServerOptions options = {});
/// pymodbus 1.x's StartTcpServer(..., defer_reactor_run=True): listens on `address` on the
/// program's `reactor` and returns at once; the program runs the reactor (see serveOnReactor).
std::shared_ptr<ModbusTcpServer> StartTcpServer(std::shared_ptr<ServerContext> context, std::string_view address,
                                                reactor::Reactor& reactor, DeferReactorRun,
                                                ServerOptions options = {});

}  // namespace modbus
