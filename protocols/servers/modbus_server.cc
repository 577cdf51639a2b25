// The ModbusServer base and the process-wide registry behind ServerStop().
#include "protocols/servers/modbus_server.h"

#include <algorithm>
#include <mutex>
#include <vector>

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

}  // namespace modbus
