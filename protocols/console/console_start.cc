// startConsole / startConsoleIfAsked.
#include "protocols/console/console_start.h"

#include <string>
#include <utility>

#include "protocols/application/request_processor.h"
#include "protocols/console/console_parse.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "reactor/log.h"

namespace modbus {

std::unique_ptr<ConsoleServer> startConsole(const ConsoleSettings& settings, ConsoleTarget target) {
  checkConsoleEndpoint(settings.endpoint);  // before a token file is made for nothing
  std::string token;
  std::string tokenFile = settings.tokenFile;
  if (tokenFile.empty()) {
    tokenFile = createConsoleTokenFile(token);
  } else {
    token = readConsoleToken(tokenFile);
  }
  auto console = std::make_unique<ConsoleServer>(std::move(target), std::move(token));
  reactor::Address host = console->listen(settings.endpoint);
  reactor::log::info("debug console on ", host.toString(), "; its token is in ", tokenFile,
                     " (send it as the first line)");
  return console;
}

std::unique_ptr<ConsoleServer> startConsoleIfAsked(ModbusServer& server) {
  const ConsoleSettings* settings = nullptr;
  if (auto* s = dynamic_cast<ModbusTcpServer*>(&server)) settings = &s->factory().options().console;
  if (auto* s = dynamic_cast<ModbusTlsServer*>(&server)) settings = &s->factory().options().console;
  if (auto* s = dynamic_cast<ModbusUdpServer*>(&server)) settings = &s->options().console;
  if (auto* s = dynamic_cast<ModbusSerialServer*>(&server)) settings = &s->options().console;
  if (settings == nullptr || !settings->enabled) return nullptr;
  RequestProcessor* processor = console_parse::processorOf(server);
  ConsoleTarget target;
  target.reactor = &server.reactor();
  target.context = processor != nullptr ? &processor->context() : nullptr;
  target.servers = [&server] { return std::vector<ModbusServer*>{&server}; };
  return startConsole(*settings, std::move(target));
}

}  // namespace modbus
