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
  std::map<std::string, SimulatorDevice> loaded;  // each device name once
  try {
    entry_ = parseSimulatorServer(setupJson, modbusServer);
    if (entry_.units.empty()) {
      device_ = loadSimulatorDevice(setupJson, modbusDevice, options);
    } else {
      for (const SimulatorUnitRange& range : entry_.units) {
        if (loaded.count(range.device) == 0) loaded.emplace(range.device, loadSimulatorDevice(setupJson, range.device, options));
      }
    }
  } catch (const ConfigError& e) {
    throw ConfigError(label + ": " + e.what());
  }
  if (entry_.units.empty()) {
    for (const std::string& warning : device_.warnings) reactor::log::warning(label, ": ", warning);
    auto device = device_.makeContext();
    entry_.applyIdentity(*device);
    device->setOffline(device_.offline);
    context_ = entry_.deviceId ? ServerContext::multiple({{*entry_.deviceId, device}}) : ServerContext::single(device);
    return;
  }
  for (const auto& [name, device] : loaded) {
    for (const std::string& warning : device.warnings) reactor::log::warning(label, ": ", warning);
  }
  context_ = std::make_shared<ServerContext>();
  for (const SimulatorUnitRange& range : entry_.units) {
    const SimulatorDevice& model = loaded.at(range.device);
    for (int unit = range.first; unit <= range.last; ++unit) {
      SimulatorDevice copy;
      copy.layout = model.layout;
      copy.store = std::make_shared<simulator::SimulatorStore>(*model.store);  // own values
      copy.offline = range.offline.value_or(model.offline);
      auto context = copy.makeContext();
      entry_.applyIdentity(*context);
      if (!range.identityJson.empty()) {
        SimulatorServerEntry unitIdentity;
        unitIdentity.identityJson = range.identityJson;
        unitIdentity.path = range.path;
        unitIdentity.applyIdentity(*context);
      }
      context->setOffline(copy.offline);
      context_->add(static_cast<std::uint8_t>(unit), std::move(context));
      units_.emplace(static_cast<std::uint8_t>(unit), std::move(copy));
    }
  }
  device_ = units_.begin()->second;
}

const SimulatorDevice* SimulatorServer::unitDevice(std::uint8_t unitId) const {
  if (!units_.empty()) {
    auto it = units_.find(unitId);
    return it == units_.end() ? nullptr : &it->second;
  }
  return context_->find(unitId) == nullptr ? nullptr : &device_;
}

bool SimulatorServer::setOffline(std::uint8_t unitId, bool offline) {
  DeviceContext* device = context_->find(unitId);
  if (device == nullptr) return false;
  device->setOffline(offline);
  return true;
}

bool SimulatorServer::offline(std::uint8_t unitId) const {
  const DeviceContext* device = context_->find(unitId);
  return device != nullptr && device->offline();
}

bool SimulatorServer::setFault(std::uint8_t unitId, SimulatorTable table, std::uint16_t address, ExceptionCode fault) {
  const SimulatorDevice* device = unitDevice(unitId);
  if (device == nullptr) return false;
  const simulator::SimulatorLayout& l = device->layout;
  std::uint32_t offset = 0, size = 0, cell = address;
  switch (table) {
    case SimulatorTable::Coils: offset = l.coilsOffset(); size = l.coilsSize(); cell = address / 16u; break;
    case SimulatorTable::DiscreteInputs:
      offset = l.discreteInputsOffset(); size = l.discreteInputsSize(); cell = address / 16u; break;
    case SimulatorTable::HoldingRegisters: offset = l.holdingRegistersOffset(); size = l.holdingRegistersSize(); break;
    case SimulatorTable::InputRegisters: offset = l.inputRegistersOffset(); size = l.inputRegistersSize(); break;
  }
  if (cell >= size) return false;
  device->store->setFault(offset + cell, fault);
  return true;
}

SimulatorServer::~SimulatorServer() { servers_.clear(); }

void SimulatorServer::runForever(bool onlyStart) {
  if (servers_.empty()) startServers(onlyStart);
  if (!onlyStart) reactor_.run();
}

void SimulatorServer::startServers(bool onlyStart) {
  ServerConfig config;
  config.context = context_;
  config.servers.push_back(entry_.entry);
  if (calls_) {
    std::weak_ptr<SimulatorCalls> calls = calls_;
    config.servers.back().options.responseHook = calls_;
    TraceConnect theirs = entry_.entry.options.traceConnect;
    config.servers.back().options.traceConnect = [calls, theirs](bool connected, const reactor::Address& peer) {
      if (auto c = calls.lock()) c->connectionChanged(connected, peer);
      if (theirs) theirs(connected, peer);
    };
  }
  try {
    servers_ = modbus::startServers(reactor_, config);
  } catch (const ConfigError& e) {
    // startServers names its own list ("servers[0].endpoint: …"); ours is the server_list entry.
    std::string message = e.what();
    const std::string theirs = "servers[0].endpoint: ";
    if (message.rfind(theirs, 0) == 0) message = entry_.path + ": " + message.substr(theirs.size());
    throw ConfigError(message);
  }
  startedAt_ = reactor_.seconds();
  runsReactor_ = !onlyStart;
  if (onlyStart) {
    for (auto& server : servers_) server->onShutdown = nullptr;  // the program's reactor is not ours to stop
  }
}

SimulatorCalls& SimulatorServer::calls(std::shared_ptr<simulator::RandomSource> random) {
  if (!calls_) {
    std::optional<std::uint8_t> counted;
    if (!units_.empty()) counted = units_.begin()->first;  // device_ is the lowest unit's copy
    calls_ = std::make_shared<SimulatorCalls>(device_.store, device_.layout, counted, std::move(random));
  }
  return *calls_;
}

void SimulatorServer::restart() {
  const bool runsReactor = runsReactor_;
  for (auto& server : servers_) {
    server->onShutdown = nullptr;  // a restart must not stop the reactor
    server->shutdown();
  }
  servers_.clear();
  ++restarts_;
  reactor::log::info("restarting the Modbus servers of ", entry_.path);
  startServers(!runsReactor);
}

void SimulatorServer::stop() {
  for (auto& server : servers_) server->shutdown();
}

}  // namespace modbus
