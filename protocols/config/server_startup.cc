// startServers / reloadTlsCertificates: the configuration's servers on one reactor.
#include "protocols/config/server_startup.h"

#include <exception>
#include <map>
#include <string>
#include <utility>

#include "protocols/devices/redis_store.h"
#include "protocols/devices/remote_device.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/servers/server_for_endpoint.h"
#include "protocols/servers/start_server.h"
#include "reactor/endpoints.h"
#include "reactor/tls.h"

namespace modbus {

namespace {

/// startServers, or (StartMode::Check) checkServers: one loop, so that the check cannot drift
/// from what start-up does.
std::vector<std::unique_ptr<ModbusServer>> buildServers(reactor::Reactor& reactor, const ServerConfig& config,
                                                        StartMode mode) {
  std::vector<std::unique_ptr<ModbusServer>> servers;
  // Gateway units: one downstream connection each, shared by every server (their endpoints were
  // checked when the configuration was parsed).
  std::map<std::uint8_t, std::shared_ptr<RemoteDevice>> remotes;
  if (mode == StartMode::Serve) {
    for (const auto& [unitId, remote] : config.remotes) {
      RemoteDeviceOptions options;
      options.unitId = remote.unitId;
      options.timeout = remote.timeout;
      remotes.emplace(unitId, RemoteDevice::fromEndpoint(reactor, remote.endpoint, options));
    }
  }
  // Units in Redis: one store (two connections) for all of them, shared by every server.
  std::shared_ptr<RedisStore> redis;
  if (mode == StartMode::Serve && !config.redisUnits.empty() && config.redis) {
    redis = RedisStore::create(reactor, config.redis->options, config.redisUnits);
  }
  auto serveRedisUnits = [&redis, &config](ModbusServerFactory& factory) {
    if (!redis) return;
    for (const auto& [unitId, device] : config.redisUnits) factory.setAsyncDevice(unitId, redis);
    redis->addFactory(factory);
  };
  for (std::size_t i = 0; i < config.servers.size(); ++i) {
    const ServerEntry& entry = config.servers[i];
    const std::string where =
        (entry.jsonPath.empty() ? "servers[" + std::to_string(i) + "]" : entry.jsonPath) + ".endpoint: ";
    std::unique_ptr<ModbusServer> server;
    try {
      if (entry.tls) {
        auto tls = std::make_unique<ModbusTlsServer>(reactor, config.context, *entry.tls, entry.options);
        for (const auto& [unitId, device] : remotes) tls->factory().setAsyncDevice(unitId, device);
        serveRedisUnits(tls->factory());
        mode == StartMode::Check ? tls->check(entry.endpoint) : void(tls->listen(entry.endpoint));
        server = std::move(tls);
      } else {
        server = makeServerForEndpoint(reactor, entry.endpoint, entry.options.framer, config.context, entry.options,
                                       mode);
        if (!server) throw ConfigError(where + "this endpoint type is not served (use tcp:, udp:, serial: or tls:)");
        // Requests are only read once the reactor runs, so the gateway units are in place in time.
        if (auto* tcp = dynamic_cast<ModbusTcpServer*>(server.get())) {
          for (const auto& [unitId, device] : remotes) tcp->factory().setAsyncDevice(unitId, device);
          serveRedisUnits(tcp->factory());
        }
      }
    } catch (const reactor::EndpointError& e) {
      throw ConfigError(where + e.what());
    } catch (const reactor::TlsError& e) {
      // A certificate, key or CA file that cannot be used is a configuration mistake.
      throw ConfigError(where + e.what());
    }
    servers.push_back(std::move(server));
  }
  return servers;
}

}  // namespace

void checkServers(reactor::Reactor& reactor, const ServerConfig& config) {
  buildServers(reactor, config, StartMode::Check);
}

std::vector<std::unique_ptr<ModbusServer>> startServers(reactor::Reactor& reactor, const ServerConfig& config) {
  std::vector<std::unique_ptr<ModbusServer>> servers = buildServers(reactor, config, StartMode::Serve);
  // ServerStop() shuts every server down; once they all are, the process's reactor ends too.
  auto remaining = std::make_shared<std::size_t>(servers.size());
  for (auto& server : servers) {
    server->onShutdown = [remaining, &reactor] {
      if (--*remaining == 0) stopReactorIfRunning(reactor);
    };
  }
  return servers;
}

std::size_t reloadTlsCertificates(const std::vector<std::unique_ptr<ModbusServer>>& servers) {
  std::size_t failed = 0;
  for (const auto& server : servers) {
    auto* tls = dynamic_cast<ModbusTlsServer*>(server.get());
    if (tls == nullptr) continue;
    try {
      tls->reloadCertificates();  // one log line per endpoint, reloaded or not
    } catch (const std::exception&) {
      ++failed;
    }
  }
  return failed;
}

}  // namespace modbus
