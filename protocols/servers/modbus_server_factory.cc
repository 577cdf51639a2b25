// ModbusServerFactory: shared state of one server across its connections.
#include "protocols/servers/modbus_server_factory.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "protocols/serving/modbus_tcp_protocol.h"
#include "reactor/log.h"

namespace modbus {

ModbusServerFactory::ModbusServerFactory(std::shared_ptr<ServerContext> context, ServerOptions options)
    : context_(std::move(context)),
      options_(std::move(options)),
      processor_(context_, ProcessorOptions{.ignoreMissingSlaves = options_.ignoreMissingSlaves,
                                            .broadcastEnable = options_.broadcastEnable,
                                            .missingUnit = options_.missingUnit,
                                            .stateChangingDiagnostics = options_.stateChangingDiagnostics}),
      log_(options_.connectionLogBurst, options_.connectionLogWindow) {}

std::shared_ptr<reactor::Protocol> ModbusServerFactory::buildProtocol(const reactor::Address& addr) {
  if (connectionCountFrom(addr.host) >= options_.maxConnectionsPerPeer) {
    log_.record(ConnectionEvent::RefusedPerPeer, reactor::log::Level::Warning, "refusing ", addr.toString(), ": ",
                options_.maxConnectionsPerPeer, " connections open from it (max_connections_per_peer)");
    return nullptr;
  }
  if (connections_.size() >= options_.maxConnections && !evictStalest()) {
    log_.record(ConnectionEvent::RefusedFull, reactor::log::Level::Warning, "refusing ", addr.toString(), ": ",
                connections_.size(), " connections open (max_connections)");
    return nullptr;
  }
  auto p = makeProtocol();
  adopt(*p);
  return p;
}

std::size_t ModbusServerFactory::connectionCountFrom(const std::string& host) const {
  auto it = perPeer_.find(host);
  return it == perPeer_.end() ? 0 : it->second;
}

void ModbusServerFactory::connectionOpened(ModbusTcpProtocol* p) {
  std::string host = p->transport().getPeer().host;
  ++perPeer_[host];
  connections_.emplace(p, Peer{std::move(host)});
}

void ModbusServerFactory::connectionClosed(ModbusTcpProtocol* p) { forget(p); }

bool ModbusServerFactory::forget(ModbusTcpProtocol* p) {
  auto it = connections_.find(p);
  if (it == connections_.end()) return false;
  auto peer = perPeer_.find(it->second.host);
  if (--peer->second == 0) perPeer_.erase(peer);
  connections_.erase(it);
  return true;
}

bool ModbusServerFactory::evictStalest() {
  // A linear scan, only while the server is full: the price of a newcomer then, nothing otherwise.
  ModbusTcpProtocol* stalest = nullptr;
  for (const auto& [p, peer] : connections_) {
    if (!stalest || p->staleSince() < stalest->staleSince()) stalest = p;
  }
  if (!stalest) return false;
  log_.record(ConnectionEvent::EvictedIdle, reactor::log::Level::Info, "closing ", stalest->transport().getPeer().toString(),
              " to make room (max_connections): the stalest connection");
  forget(stalest);  // counted out now: its connectionLost comes later
  stalest->transport().abortConnection();
  return true;
}

std::shared_ptr<ModbusTcpProtocol> ModbusServerFactory::makeProtocol() {
  return std::make_shared<ModbusTcpProtocol>(makeFramer(options_.framer));
}

void ModbusServerFactory::loseAllConnections() {
  std::vector<ModbusTcpProtocol*> open;
  open.reserve(connections_.size());
  for (const auto& [p, peer] : connections_) open.push_back(p);
  for (auto* p : open) p->transport().loseConnection();
}

std::vector<ModbusServerFactory::OpenConnection> ModbusServerFactory::openConnections() const {
  std::vector<OpenConnection> out;
  out.reserve(connections_.size());
  for (const auto& [p, unused] : connections_) out.push_back(OpenConnection{p->connectionId(), p});
  std::sort(out.begin(), out.end(), [](const OpenConnection& a, const OpenConnection& b) { return a.id < b.id; });
  return out;
}

}  // namespace modbus
