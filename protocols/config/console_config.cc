// "console" of the JSON configuration.
#include "protocols/config/console_config.h"

#include "protocols/config/detail/config_json.h"
#include "protocols/config/server_config.h"
#include "protocols/console/console_server.h"
#include "protocols/console/console_token.h"
#include "reactor/endpoints.h"
#include "reactor/log.h"

namespace modbus {

std::unique_ptr<ConsoleServer> startConfiguredConsole(reactor::Reactor& reactor, const ServerConfig& config,
                                                      const std::vector<std::unique_ptr<ModbusServer>>& servers) {
  ConsoleTarget target;
  target.reactor = &reactor;
  target.context = config.context.get();
  target.servers = [&servers] {
    std::vector<ModbusServer*> out;
    for (const auto& s : servers) out.push_back(s.get());
    return out;
  };
  auto console = std::make_unique<ConsoleServer>(std::move(target), config.console->token);
  reactor::Address host = console->listen(config.console->endpoint);
  reactor::log::info("debug console on ", host.toString(), " (token in ", config.console->tokenFile, ")");
  return console;
}

namespace config {

ConsoleConfig parseConsoleConfig(const Node& node) {
  node.expectObject({"endpoint", "token_file"});
  if (!node.has("endpoint")) node.fail("missing \"endpoint\" (e.g. \"tcp:9020:interface=127.0.0.1\" or \"unix:PATH\")");
  // A token file is required here: a service's console needs a token its operators can find, not
  // a new random one per start.
  if (!node.has("token_file")) node.fail("missing \"token_file\" (a file of mode 0600 holding the token)");
  ConsoleConfig c;
  Node endpoint = node.child("endpoint");
  c.endpoint = endpoint.string();
  try {
    checkConsoleEndpoint(c.endpoint);
  } catch (const reactor::EndpointError& e) {
    endpoint.fail(e.what());
  }
  Node file = node.child("token_file");
  c.tokenFile = file.string();
  try {
    c.token = readConsoleToken(c.tokenFile);
  } catch (const ConsoleError& e) {
    file.fail(e.what());
  }
  return c;
}

}  // namespace config
}  // namespace modbus
