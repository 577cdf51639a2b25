// SimulatorServer: load (setup.json → entry + device), then the configuration's startServers().
#include "protocols/simulator/simulator_server.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "protocols/config/server_startup.h"
#include "reactor/log.h"

namespace modbus {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

SimulatorServer::SimulatorServer(reactor::Reactor& reactor, const std::string& jsonFile,
                                 const std::string& modbusServer, const std::string& modbusDevice,
                                 SimulatorSetupOptions options)
    : SimulatorServer(FromText{}, reactor, readFile(jsonFile), modbusServer, modbusDevice, std::move(options),
                      jsonFile) {}

std::unique_ptr<SimulatorServer> SimulatorServer::fromText(reactor::Reactor& reactor, std::string_view setupJson,
                                                           const std::string& modbusServer,
                                                           const std::string& modbusDevice,
                                                           SimulatorSetupOptions options, const std::string& label) {
  return std::unique_ptr<SimulatorServer>(
      new SimulatorServer(FromText{}, reactor, setupJson, modbusServer, modbusDevice, std::move(options), label));
}

SimulatorServer::SimulatorServer(FromText, reactor::Reactor& reactor, std::string_view setupJson,
                                 const std::string& modbusServer, const std::string& modbusDevice,
                                 SimulatorSetupOptions options, const std::string& label)
    : reactor_(reactor) {
  try {
    entry_ = parseSimulatorServer(setupJson, modbusServer);
    device_ = loadSimulatorDevice(setupJson, modbusDevice, options);
  } catch (const ConfigError& e) {
    throw ConfigError(label + ": " + e.what());
  }
  for (const std::string& warning : device_.warnings) reactor::log::warning(label, ": ", warning);
  auto device = device_.makeContext();
  entry_.applyIdentity(*device);
  context_ = entry_.deviceId ? ServerContext::multiple({{*entry_.deviceId, device}}) : ServerContext::single(device);
}

SimulatorServer::~SimulatorServer() { servers_.clear(); }

void SimulatorServer::runForever(bool onlyStart) {
  if (servers_.empty()) {
    ServerConfig config;
    config.context = context_;
    config.servers.push_back(entry_.entry);
    try {
      servers_ = startServers(reactor_, config);
    } catch (const ConfigError& e) {
      // startServers names its own list ("servers[0].endpoint: …"); ours is the server_list entry.
      std::string message = e.what();
      const std::string theirs = "servers[0].endpoint: ";
      if (message.rfind(theirs, 0) == 0) message = entry_.path + ": " + message.substr(theirs.size());
      throw ConfigError(message);
    }
    runsReactor_ = !onlyStart;
    if (onlyStart) {
      for (auto& server : servers_) server->onShutdown = nullptr;  // the program's reactor is not ours to stop
    }
  }
  if (!onlyStart) reactor_.run();
}

void SimulatorServer::stop() {
  for (auto& server : servers_) server->shutdown();
}

}  // namespace modbus
