// Server classes, the blocking Start*Server helpers and the process-wide ServerStop().
#include "protocols/servers/modbus_server.h"

#include <algorithm>
#include <mutex>

#include "reactor/endpoints.h"
#include "reactor/log.h"

namespace modbus {
namespace {

// Every live server and its reactor, so ServerStop() can reach them from any thread.
std::mutex gRegistryMutex;
std::vector<ModbusServer*> gRegistry;

bool isRegistered(ModbusServer* s) {
  std::lock_guard<std::mutex> lock(gRegistryMutex);
  return std::find(gRegistry.begin(), gRegistry.end(), s) != gRegistry.end();
}

}  // namespace

ModbusServer::ModbusServer(reactor::Reactor& reactor) : reactor_(reactor) {
  std::lock_guard<std::mutex> lock(gRegistryMutex);
  gRegistry.push_back(this);
}

ModbusServer::~ModbusServer() {
  std::lock_guard<std::mutex> lock(gRegistryMutex);
  gRegistry.erase(std::remove(gRegistry.begin(), gRegistry.end(), this), gRegistry.end());
}

void ModbusServer::shutdown() {
  if (shutDown_) return;
  shutDown_ = true;
  doShutdown();
  if (onShutdown) onShutdown();
}

void ServerStop() {
  std::lock_guard<std::mutex> lock(gRegistryMutex);
  for (ModbusServer* s : gRegistry) {
    // The check runs on the server's own thread, where it is also destroyed: no race.
    s->reactor().callFromThread([s] {
      if (isRegistered(s)) s->shutdown();
    });
  }
}

std::size_t runningServerCount() {
  std::lock_guard<std::mutex> lock(gRegistryMutex);
  return gRegistry.size();
}

ModbusTcpServer::ModbusTcpServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context,
                                 ServerOptions options)
    : ModbusServer(reactor), factory_(std::make_shared<ModbusServerFactory>(std::move(context), options)) {
  factory_->setClock(&reactor);
}

ModbusTcpServer::~ModbusTcpServer() {
  for (auto& p : ports_) p->stopListening();
}

reactor::Address ModbusTcpServer::listen(std::string_view endpoint) {
  auto desc = reactor::parseEndpoint(endpoint);
  if (desc.type != "tcp" && desc.type != "tcp6") {
    throw reactor::EndpointError("a Modbus TCP server needs a tcp: endpoint, not '" + desc.type + ":'");
  }
  std::string spec(endpoint);
  if (!desc.has("backlog")) spec += ":backlog=" + std::to_string(factory_->options().backlog);
  auto port = reactor::serverFromString(reactor(), spec)->listen(factory_);
  reactor::Address host = port->getHost();
  ports_.push_back(std::move(port));
  reactor::log::info("listening on tcp ", host.toString(), " (framer ", framerTypeName(factory_->options().framer), ")");
  return host;
}

std::vector<reactor::Address> ModbusTcpServer::addresses() const {
  std::vector<reactor::Address> out;
  for (const auto& p : ports_) out.push_back(p->getHost());
  return out;
}

void ModbusTcpServer::doShutdown() {
  for (auto& p : ports_) p->stopListening();
  factory_->loseAllConnections();
}

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

void StartTcpServer(std::shared_ptr<ServerContext> context, std::string_view address, ServerOptions options) {
  reactor::Reactor reactor;
  ModbusTcpServer server(reactor, std::move(context), options);
  server.listen(address);
  runUntilShutdown(server);
}

}  // namespace modbus
