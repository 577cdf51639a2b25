// The blocking tail every pymodbus-style Start*Server helper shares (StartTcpServer, StartUdpServer,
// StartTlsServer, StartSerialServer): a reactor of its own, one server, run until ServerStop(),
// SIGINT or SIGTERM. Written once here so the four helpers differ only in their arguments.
// Tests: tests/integration/samples_test.cc, the transports' integration tests, and
// tests/integration/console_test.cc (console=true on StartTcpServer and StartSerialServer).
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <utility>

#include "reactor/reactor.h"

namespace modbus {

class ModbusServer;

/// pymodbus 1.x's `defer_reactor_run=True`, as a tag: Start*Server(..., reactor, deferReactorRun)
/// sets the server up on a reactor the program runs itself (after its own LoopingCall.start(),
/// say) and returns at once instead of blocking.
struct DeferReactorRun {
  explicit constexpr DeferReactorRun() = default;
};
inline constexpr DeferReactorRun deferReactorRun{};

/// Builds a `Server` on the program's `reactor`, starts it on `address` with `start` and returns
/// it without running the reactor. The reactor keeps the server until it has shut down (an "after
/// shutdown" trigger releases it, or the reactor's destruction), so the result may be ignored, as
/// pymodbus programs do; ServerStop() shuts the server down and leaves the program's reactor running.
template <class Server, class Start, class... Args>
std::shared_ptr<Server> serveOnReactor(reactor::Reactor& reactor, std::string_view address, Start start,
                                       Args&&... args) {
  auto server = std::make_shared<Server>(reactor, std::forward<Args>(args)...);
  std::invoke(start, *server, address);
  auto held = std::make_shared<std::shared_ptr<Server>>(server);
  reactor.addSystemEventTrigger(reactor::Phase::After, reactor::SystemEvent::Shutdown, [held] { held->reset(); });
  return server;
}

/// Stops `reactor` if it runs; a stop already under way (a signal came first) is not an error.
/// What every server's onShutdown does when the server owns its reactor's lifetime.
void stopReactorIfRunning(reactor::Reactor& reactor);

/// Runs `server`'s reactor, with SIGINT/SIGTERM handlers, until the server shuts down
/// (ServerStop(), a signal): the common tail of every blocking Start*Server helper, once the
/// server listens or has its line open. With ServerOptions::console.enabled (TCP, TLS, UDP) or
/// SerialServerOptions::console.enabled (StartSerialServer) the debug console (protocols/console/)
/// listens next to it for as long (its token file logged).
void runUntilShutdown(ModbusServer& server);

/// Builds a `Server` on a reactor of its own from `args`, starts it on `address` with `start`
/// (its listen() or open(), called as start(server, address)) and blocks in runUntilShutdown().
/// Throws whatever `start` throws.
template <class Server, class Start, class... Args>
void serveUntilShutdown(std::string_view address, Start start, Args&&... args) {
  reactor::Reactor reactor;
  Server server(reactor, std::forward<Args>(args)...);
  std::invoke(start, server, address);
  runUntilShutdown(server);
}

}  // namespace modbus
