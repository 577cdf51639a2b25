// Port of pymodbus's server classes and start helpers (server/server.py, startstop.py): several
// servers may share one reactor, and ServerStop() stops every one of them (pymodbus's stops only
// the last server created, pymodbus#1297).
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "datastore/server_context.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/servers/server_options.h"
#include "reactor/address.h"
#include "reactor/interfaces.h"
#include "reactor/reactor.h"

namespace modbus {

/// What every server (TCP, UDP, TLS, serial) is to ServerStop(). Create and destroy on the
/// reactor's thread.
class ModbusServer {
 public:
  virtual ~ModbusServer();
  ModbusServer(const ModbusServer&) = delete;
  ModbusServer& operator=(const ModbusServer&) = delete;

  /// Stop listening and close every connection gracefully, then call onShutdown. Idempotent.
  void shutdown();
  reactor::Reactor& reactor() const { return reactor_; }
  /// Run once after shutdown() (the Start*Server helpers stop their reactor here).
  std::function<void()> onShutdown;

 protected:
  explicit ModbusServer(reactor::Reactor& reactor);
  virtual void doShutdown() = 0;

 private:
  reactor::Reactor& reactor_;
  bool shutDown_ = false;
};

/// Stops `reactor` if it runs; a stop already under way (a signal came first) is not an error.
/// What every server's onShutdown does when the server owns its reactor's lifetime.
void stopReactorIfRunning(reactor::Reactor& reactor);

/// Runs `server`'s reactor, with SIGINT/SIGTERM handlers, until the server shuts down
/// (ServerStop(), a signal): the common tail of every blocking Start*Server helper, once the
/// server listens or has its line open.
void runUntilShutdown(ModbusServer& server);

/// Modbus/TCP (MBAP by default; RTU or ASCII over TCP with ServerOptions::framer).
class ModbusTcpServer : public ModbusServer {
 public:
  ModbusTcpServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context, ServerOptions options = {});
  ~ModbusTcpServer() override;

  /// Listens on an endpoint string ("tcp:5020:interface=127.0.0.1"); call again for more endpoints.
  /// Returns the bound address (the real port when the string said 0). Throws
  /// reactor::EndpointError or reactor::CannotListenError.
  reactor::Address listen(std::string_view endpoint);
  std::vector<reactor::Address> addresses() const;
  ModbusServerFactory& factory() { return *factory_; }
  std::shared_ptr<ModbusServerFactory> factoryPtr() const { return factory_; }

 protected:
  void doShutdown() override;

 private:
  std::shared_ptr<ModbusServerFactory> factory_;
  std::vector<std::shared_ptr<reactor::IListeningPort>> ports_;
};

/// pymodbus's StartTcpServer: blocks, serving `context` on `address` (an endpoint string, e.g.
/// "tcp:5020:interface=127.0.0.1"; default "tcp:502") with a reactor of its own, until ServerStop(),
/// SIGINT or SIGTERM. Throws if it cannot listen.
void StartTcpServer(std::shared_ptr<ServerContext> context, std::string_view address = "tcp:502",
                    ServerOptions options = {});

/// Thread-safe: shuts down every running server in this process (every Start*Server call returns).
void ServerStop();

/// How many servers are running (for tests and for a thread that waits for start-up).
std::size_t runningServerCount();

}  // namespace modbus
