// uvmodbus-simulator: pymodbus's `pymodbus.simulator` command (server/simulator/main.py) on
// modbus::SimulatorServer. Serves one "server_list" entry with one "device_list" entry of a
// setup.json until SIGINT/SIGTERM; with no --json_file, the built-in config/simulator.json, which
// listens on 127.0.0.1 (pymodbus's default file binds 0.0.0.0). Its HTTP side (pymodbus's pages and
// REST API, modbus::SimulatorHttp) listens on --http_host:--http_port, 127.0.0.1:8081 by default; any
// other address needs --http_token. docs/simulator.md describes it.
// Exit codes: 0 stopped by a signal, 1 cannot serve (port in use, serial device), 2 bad setup or
// command line (the message names the JSON path).
#include <cstdio>
#include <exception>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

#include "protocols/http/http_server.h"
#include "protocols/simulator/log_ring.h"
#include "protocols/simulator/simulator_http.h"
#include "protocols/simulator/simulator_server.h"
#include "protocols/simulator/web_ui.h"
#include "samples/command_startup.h"
#ifdef UVMODBUS_HAVE_LUA
#include "protocols/simulator/lua/lua_actions.h"
#endif
#include "reactor/failure.h"
#include "reactor/log.h"
#include "reactor/reactor.h"
#include "reactor/serial_port.h"

namespace uvmodbus_simulator {
extern const char* const kDefaultSetup;  // simulator_default_setup.cc, generated from config/simulator.json
}
namespace uvmodbus_web {
std::span<const modbus::WebAsset> assets();  // web_assets.cc, generated from web/ (cmake/WebUi.cmake)
}

namespace {

using uvmodbus_command::kExitBadConfig;
using uvmodbus_command::kExitCannotServe;
using uvmodbus_command::kExitOk;

void printError(const std::string& message) { uvmodbus_command::printError("uvmodbus-simulator", message); }

/// --log_file: every log line also goes to the file (pymodbus accepts the option and ignores it).
class LogFile {
 public:
  explicit LogFile(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {}
  ~LogFile() {
    if (file_) {
      reactor::log::setSink(nullptr);  // the sink writes to the file
      std::fclose(file_);
    }
  }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;
  bool ok() const { return file_ != nullptr; }
  /// The sink writing to the file and to stderr; valid while this object lives.
  reactor::log::Sink sink() {
    FILE* f = file_;
    return [f](reactor::log::Level level, std::string_view line) {
      std::fprintf(f, "%s %.*s\n", reactor::log::toString(level), static_cast<int>(line.size()), line.data());
      std::fflush(f);
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    };
  }

 private:
  FILE* file_;
};

/// The first line of --http_token's file, without surrounding blanks; nullopt if unreadable or empty.
std::optional<std::string> readToken(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos) return std::nullopt;
  return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvmodbus-simulator: a Modbus device simulated from a pymodbus setup.json"};
  std::string jsonFile;
  std::string serverName = "server";
  std::string deviceName = "device";
  std::string httpHost = "127.0.0.1";
  int httpPort = 8081;
  std::string httpTokenFile;
  std::string httpCertFile;
  std::string httpKeyFile;
  std::string httpStatic;
  bool noHttp = false;
  std::string levelName = "info";
  std::string logFile;
  std::string customActions;
  app.add_option("--json_file", jsonFile, "The setup.json (default: the built-in setup, on 127.0.0.1:5020)");
  app.add_option("--modbus_server", serverName, "The server_list entry to serve")->capture_default_str();
  app.add_option("--modbus_device", deviceName, "The device_list entry to serve")->capture_default_str();
  app.add_option("--http_host", httpHost, "HTTP interface address (any but loopback needs --http_token)")
      ->capture_default_str();
  app.add_option("--http_port", httpPort, "HTTP interface port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--http_token", httpTokenFile, "File holding the bearer token every HTTP request must carry");
  app.add_option("--http_certfile", httpCertFile, "Serve HTTPS with this certificate (PEM)");
  app.add_option("--http_keyfile", httpKeyFile, "The HTTPS certificate's private key (PEM; default: the certificate file)");
  app.add_option("--http_static", httpStatic, "Also serve the files of this folder (GET /<file>)");
  app.add_flag("--no_http", noHttp,
               "Serve Modbus only: no HTTP side (no pages, REST API, call monitor or /metrics); the benchmark's baseline");
  app.add_option("--log", levelName, "How much to log")
      ->check(CLI::IsMember({"critical", "error", "warning", "info", "debug"}))
      ->capture_default_str();
  app.add_option("--log_file", logFile, "Also append the log to this file");
  app.add_option("--custom_actions_module", customActions, "Custom actions: a Lua 5.4 script returning {name = function(value, cell) ... end}");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitBadConfig;
  }
  reactor::log::setLevel(*reactor::log::parseLevel(levelName));
  std::optional<LogFile> log;
  if (!logFile.empty()) {
    log.emplace(logFile);
    if (!log->ok()) {
      printError("--log_file " + logFile + ": cannot be opened for writing");
      return kExitBadConfig;
    }
  }
  // The Log page's lines; in front of the file (or stderr), so both still get every line.
  modbus::LogRing logRing;
  logRing.install(log ? log->sink() : reactor::log::Sink{});
  modbus::SimulatorHttpOptions httpOptions;
  if (!httpTokenFile.empty()) {
    std::optional<std::string> token = readToken(httpTokenFile);
    if (!token) {
      printError("--http_token " + httpTokenFile + ": cannot be read, or holds no token");
      return kExitBadConfig;
    }
    httpOptions.token = *token;
  } else if (!modbus::isLoopbackHost(httpHost)) {
    printError("--http_host " + httpHost +
               ": serving HTTP beyond this machine requires --http_token FILE (every request must then carry "
               "\"Authorization: Bearer <token>\")");
    return kExitBadConfig;
  }
  if (!httpKeyFile.empty() && httpCertFile.empty()) {
    printError("--http_keyfile needs --http_certfile");
    return kExitBadConfig;
  }
  httpOptions.staticFolder = httpStatic;
  httpOptions.https = !httpCertFile.empty();
  const modbus::WebUi webUi(uvmodbus_web::assets());  // the live UI at / (SimulatorHttp copies it)
  httpOptions.ui = &webUi;
  modbus::SimulatorSetupOptions options;
  if (!customActions.empty()) {
#ifdef UVMODBUS_HAVE_LUA
    try {
      for (auto& [name, action] : modbus::simulator::loadLuaActions(customActions)) {
        options.registerAction(name, std::move(action));
      }
    } catch (const modbus::ConfigError& e) {
      printError(std::string("--custom_actions_module: ") + e.what());
      return kExitBadConfig;
    } catch (const std::invalid_argument& e) {
      printError("--custom_actions_module " + customActions + ": " + e.what());
      return kExitBadConfig;
    }
#else
    printError("--custom_actions_module " + customActions +
               ": this uvmodbus-simulator was built without Lua 5.4 (install liblua5.4-dev and rebuild)");
    return kExitBadConfig;
#endif
  }
  reactor::Reactor reactor;  // declared first: the simulator is destroyed before it
  std::unique_ptr<modbus::SimulatorServer> simulator;
  std::unique_ptr<modbus::SimulatorHttp> http;
  std::shared_ptr<reactor::IListeningPort> httpListening;
  int rc = uvmodbus_command::startUp("uvmodbus-simulator", "bad setup: ", [&] {
    if (jsonFile.empty()) {
      reactor::log::info("no --json_file: serving the built-in setup (config/simulator.json)");
      simulator = modbus::SimulatorServer::fromText(reactor, uvmodbus_simulator::kDefaultSetup, serverName, deviceName,
                                                    std::move(options), "built-in setup");
    } else {
      simulator = std::make_unique<modbus::SimulatorServer>(reactor, jsonFile, serverName, deviceName, std::move(options));
    }
    if (!noHttp) http = std::make_unique<modbus::SimulatorHttp>(*simulator, &logRing, httpOptions);  // hooks the call monitor in first
    simulator->runForever(/*onlyStart=*/true);
  });
  if (rc != kExitOk) return rc;
  if (noHttp) reactor::log::info("no HTTP side (--no_http)");
  const std::string endpoint = noHttp ? std::string() : modbus::simulatorHttpEndpoint(httpHost, static_cast<std::uint16_t>(httpPort), httpCertFile, httpKeyFile);
  try {
    if (!noHttp) {
      auto factory = std::make_shared<http::HttpServerFactory>(http->handler(), &reactor);
      httpListening = http::listenHTTP(reactor, endpoint, factory);
    }
  } catch (const reactor::CannotListenError& e) {
    printError(std::string("HTTP: ") + e.what());
    return kExitCannotServe;
  } catch (const std::exception& e) {
    printError("HTTP " + endpoint + ": " + e.what());
    return kExitBadConfig;
  }
  if (httpListening) {
    reactor::log::info("HTTP listening on ", httpCertFile.empty() ? "http" : "https", "://",
                       httpHost.find(':') != std::string::npos ? "[" + httpHost + "]" : httpHost, ":",
                       httpListening->getHost().port, "/", httpOptions.token.empty() ? "" : " (bearer token required)");
  }
  // Logged once the loop runs and SIGINT/SIGTERM are handled: a script may signal after this line.
  reactor.callWhenRunning([&] {
    const auto& units = simulator->serverEntry().units;
    if (units.empty()) {
      reactor::log::info("uvmodbus-simulator running: server \"", serverName, "\", device \"", deviceName, "\" (",
                         simulator->device().layout.cellCount(), " registers)");
    } else {
      reactor::log::info("uvmodbus-simulator running: server \"", serverName, "\", ", simulator->unitIds().size(),
                         " unit ids from its \"devices\" map");
    }
  });
  reactor.run(/*installSignalHandlers=*/true);
  if (httpListening) httpListening->stopListening();
  httpListening.reset();
  http.reset();  // before the simulator: its call stream unhooks itself from the simulator's calls
  simulator.reset();
  reactor::log::info("uvmodbus-simulator stopped");
  return kExitOk;
}
