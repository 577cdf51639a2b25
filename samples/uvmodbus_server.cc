// uvmodbus-server: the main command. Serves the datastore and servers of a JSON configuration
// (docs/configuration.md: tcp, udp, serial and tls endpoints) on one reactor until SIGINT/SIGTERM;
// SIGHUP reloads the certificates of the TLS servers. pymodbus's `pymodbus.server run`. Units with
// "store": "persistent" keep their tables in state files (docs/persistence.md); --reset-state
// replaces stored values by the configured ones. As a Unix service (samples/service_runtime.h,
// packaging/systemd/): --pidfile, --logfile (reopened on SIGUSR1), --log-format text|json.
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "protocols/config/console_config.h"
#include "protocols/console/console_server.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/config/http_entry_startup.h"
#include "protocols/config/server_startup.h"
#include "protocols/config/store_config.h"
#include "samples/command_startup.h"
#include "samples/service_runtime.h"
#include "reactor/failure.h"
#include "reactor/log.h"
#include "reactor/reactor.h"
#include "reactor/serial_port.h"

namespace {

using uvmodbus_command::kExitBadConfig;
using uvmodbus_command::kExitOk;

void printError(const std::string& message) { uvmodbus_command::printError("uvmodbus-server", message); }

/// Checks or starts the servers: a problem is reported in the same words either way.
int startUp(const std::string& configPath, const std::function<void()>& step) {
  return uvmodbus_command::startUp("uvmodbus-server", "bad configuration: " + configPath + ": ", step);
}

std::string describe(const modbus::ServerConfig& config) {
  std::size_t units = config.context->isSingle() ? 1 : config.context->unitIds().size();
  return std::to_string(config.servers.size()) + " server(s), " + std::to_string(units) + " unit(s)" +
         (config.context->isSingle() ? " (single: every unit id)" : "") +
         (config.redisUnits.empty() ? "" : ", " + std::to_string(config.redisUnits.size()) + " unit(s) in Redis");
}

/// --log-writes: one line per client write to coils or holding registers, through the write
/// observers of each TCP and TLS server (with units in Redis, writes made through any process).
void logWrites(const std::vector<std::unique_ptr<modbus::ModbusServer>>& servers) {
  for (const auto& server : servers) {
    modbus::ModbusServerFactory* factory = nullptr;
    if (auto* tcp = dynamic_cast<modbus::ModbusTcpServer*>(server.get())) factory = &tcp->factory();
    if (auto* tls = dynamic_cast<modbus::ModbusTlsServer*>(server.get())) factory = &tls->factory();
    if (factory == nullptr) continue;
    for (auto table : {modbus::ModbusTable::Coils, modbus::ModbusTable::HoldingRegisters}) {
      factory->subscribeWrites(std::nullopt, table, {}, [](const modbus::WriteEvent& e) {
        std::string values;
        for (std::uint16_t v : e.values) values += " " + std::to_string(v);
        reactor::log::info("write: unit ", static_cast<int>(e.unitId), " ", modbus::modbusTableName(e.table), " ",
                           e.address, " =", values);
      });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvmodbus-server: Modbus servers on one reactor, from a JSON configuration file"};
  std::string configPath;
  std::string levelName = "info";
  bool checkOnly = false;
  bool resetState = false;
  bool writesLogged = false;
  std::string pidfilePath;
  std::string logfilePath;
  std::string logFormatName = "text";
  app.add_option("-c,--config", configPath, "The configuration file (see docs/configuration.md)")->required();
  app.add_option("--log-level", levelName, "How much to log")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
  app.add_flag("--check", checkOnly,
               "Check the configuration and everything start-up checks short of binding ports and opening "
               "serial devices (certificates, interfaces, devices), then exit: 0 when it would start");
  app.add_flag("--reset-state", resetState,
               "Replace the stored values of every persistent unit by the configured ones (the way out when "
               "the tables of a unit changed since its state file was written)");
  app.add_flag("--log-writes", writesLogged,
               "Log every client write to coils and holding registers (write observers; with units in Redis, "
               "writes made through any server sharing the prefix)");
  app.add_option("--pidfile", pidfilePath,
                 "Write the process id here once listening, remove it on a clean exit; refuse to start while "
                 "a live process holds it (a stale one is replaced)");
  app.add_option("--logfile", logfilePath, "Append log lines to this file instead of stderr; SIGUSR1 reopens it");
  app.add_option("--log-format", logFormatName, "Log lines as text, or as one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);  // prints the help, or the usage error
    return rc == 0 ? kExitOk : kExitBadConfig;
  }
  reactor::log::setLevel(*reactor::log::parseLevel(levelName));
  std::unique_ptr<uvmodbus_command::LogDestination> logDestination;
  if (!checkOnly) {
    try {
      logDestination = std::make_unique<uvmodbus_command::LogDestination>(
          logfilePath, *reactor::log::parseFormat(logFormatName));
    } catch (const std::exception& e) {
      printError(e.what());
      return kExitBadConfig;
    }
  }

  modbus::ServerConfig config;
  try {
    config = modbus::loadServerConfig(configPath);
  } catch (const modbus::ConfigError& e) {
    printError(std::string("bad configuration: ") + e.what());
    return kExitBadConfig;
  }

  reactor::Reactor reactor;  // declared first: the servers are destroyed before it
  // The persistent units' state files: opened before the servers serve them, closed (and flushed)
  // after the servers are gone.
  std::unique_ptr<modbus::PersistentStore> store;
  std::vector<std::unique_ptr<modbus::ModbusServer>> servers;
  std::shared_ptr<reactor::IListeningPort> http;  // the "http:" entry (GET /metrics), if configured
  std::unique_ptr<modbus::ConsoleServer> console;  // "console": docs/console.md
  // Installed before the servers start, so that an early SIGHUP is held until the loop runs
  // instead of ending the process.
  reactor.addSignalHandler(SIGHUP, [&servers] {
    bool anyTls = false;
    for (const auto& s : servers) anyTls = anyTls || dynamic_cast<modbus::ModbusTlsServer*>(s.get()) != nullptr;
    if (!anyTls) {
      reactor::log::info("received signal SIGHUP: no TLS server, nothing to reload");
      return;
    }
    reactor::log::info("received signal SIGHUP, reloading the TLS certificates");
    std::size_t failed = modbus::reloadTlsCertificates(servers);
    if (failed != 0) reactor::log::warning(failed, " TLS server(s) kept their previous certificates");
  });
  if (checkOnly) {
    int rc = startUp(configPath, [&] {
      // Unless reset, the state files must fit the tables (a missing one is a first start).
      if (!config.persistentUnits.empty() && !resetState) {
        modbus::checkPersistentUnits(*config.persistence, config.persistentUnits);
      }
      modbus::checkServers(reactor, config);
    });
    if (rc == kExitOk) std::printf("%s: OK: %s\n", configPath.c_str(), describe(config).c_str());
    return rc;
  }
  if (logDestination) logDestination->reopenOnSigusr1(reactor);
  std::unique_ptr<uvmodbus_command::PidFile> pidfile;
  int rc = startUp(configPath, [&] {
    // Before the state files and ports: a second instance must not touch the first one's.
    if (!pidfilePath.empty()) uvmodbus_command::PidFile::checkFree(pidfilePath);
    if (!config.persistentUnits.empty()) {
      store = std::make_unique<modbus::PersistentStore>(reactor, *config.persistence, config.persistentUnits,
                                                        resetState);
    } else if (resetState) {
      reactor::log::warning("--reset-state: no unit has a persistent store, nothing to reset");
    }
    servers = modbus::startServers(reactor, config);
    if (config.http) http = modbus::startHttpEntry(reactor, *config.http, servers);
    if (config.console) console = modbus::startConfiguredConsole(reactor, config, servers);
    if (!pidfilePath.empty()) pidfile = std::make_unique<uvmodbus_command::PidFile>(pidfilePath);
  });
  if (rc != kExitOk) return rc;
  if (writesLogged) logWrites(servers);
  // Logged once run() has installed the SIGINT/SIGTERM handlers: from this line on, a SIGTERM is a
  // clean stop (a supervisor or test that waits for it never kills the process by the default action).
  reactor.callWhenRunning([&config, &configPath] {
    reactor::log::info("uvmodbus-server running: ", describe(config), " from ", configPath);
  });
  reactor.run(/*installSignalHandlers=*/true);  // SIGINT/SIGTERM: close connections gracefully
  if (http) http->stopListening();
  http.reset();
  console.reset();
  servers.clear();
  store.reset();
  pidfile.reset();  // removed only on a clean exit: after a crash systemd (or the next start) sees it stale
  reactor::log::info("uvmodbus-server stopped");
  return kExitOk;
}
