// Port of a twistd application (a .tac file with service.Application, internet.TCPServer and
// internet.TimerService) serving pymodbus's updating server, with pymodbus 1.x's console=True: one
// Application, a Modbus TCPServer, a TimerService adding 1 to holding registers 0..9 every interval
// (samples/updating_device.h, shared with sample 03), the debug console as a ConsoleService
// (loopback only, a token file), and a service whose stop takes a moment (it reports the final
// values after a deferLater). SIGTERM, Ctrl-C or the console's `shutdown` stops the reactor; the
// shutdown waits for every service's stopService Deferred, then the connections close.
// Usage: 14_application [INTERVAL_SECONDS [PORT [INTERFACE [CONSOLE_PORT [TOKEN_FILE]]]]]
// (default 1, 5020, 127.0.0.1, 5021; the console listens on 127.0.0.1 whatever INTERFACE says, and
// without TOKEN_FILE a new 0600 token file is made and its path logged).
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>

#include "datastore/server_context.h"
#include "protocols/console/console_service.h"
#include "protocols/servers/modbus_server_factory.h"
#include "reactor/defer.h"
#include "reactor/log.h"
#include "reactor/reactor.h"
#include "reactor/service.h"
#include "samples/updating_device.h"

namespace {

/// Twisted's pattern for "flush on the way out": stopService returns a Deferred that fires when
/// the work is done; the reactor's shutdown waits for it.
class SnapshotService : public reactor::Service {
 public:
  SnapshotService(reactor::Reactor& reactor, std::shared_ptr<modbus::SequentialRegisterBlock> block)
      : Service("snapshot"), reactor_(reactor), block_(std::move(block)) {}

  reactor::Deferred<void> stopService() override {
    Service::stopService();
    return reactor::deferLater(reactor_, 0.05, [block = block_] {
      reactor::log::info("snapshot: holding registers 0..9 end at ", block->getValues(0, 10)[0]);
    });
  }

 private:
  reactor::Reactor& reactor_;
  std::shared_ptr<modbus::SequentialRegisterBlock> block_;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const double interval = argc > 1 ? std::stod(argv[1]) : 1.0;
    const int port = argc > 2 ? std::stoi(argv[2]) : 5020;
    const std::string interface = argc > 3 ? argv[3] : "127.0.0.1";
    if (port < 0 || port > 65535) throw std::invalid_argument("PORT must be 0..65535");

    const int consolePort = argc > 4 ? std::stoi(argv[4]) : 5021;
    const std::string tokenFile = argc > 5 ? argv[5] : "";
    if (consolePort < 0 || consolePort > 65535) throw std::invalid_argument("CONSOLE_PORT must be 0..65535");

    samples::UpdatingDevice updating = samples::makeUpdatingDevice();
    auto holding = updating.holding;
    auto context = modbus::ServerContext::single(updating.device);

    reactor::Reactor reactor;
    auto factory = std::make_shared<modbus::ModbusServerFactory>(context);
    factory->setClock(&reactor);

    // application = service.Application("modbus")
    auto application = std::make_shared<reactor::Application>("modbus");
    // internet.TCPServer(5020, factory, interface="127.0.0.1").setServiceParent(application)
    auto modbusServer = std::make_shared<reactor::TCPServer>(reactor, static_cast<std::uint16_t>(port), factory, 50,
                                                             interface);
    modbusServer->setName("modbus-tcp");
    modbusServer->setServiceParent(*application);
    // internet.TimerService(interval, updating_task).setServiceParent(application)
    auto updater = std::make_shared<reactor::TimerService>(
        reactor, interval, [&holding] { samples::updateHoldingRegisters(*holding); });
    updater->setName("updater");
    updater->setServiceParent(*application);
    std::make_shared<SnapshotService>(reactor, holding)->setServiceParent(*application);
    // pymodbus 1.x's console=True, made safe: loopback only, and the first line a client sends must
    // be the token. Its `shutdown` stops the reactor, which stops this application like SIGTERM.
    modbus::ConsoleSettings consoleSettings;
    consoleSettings.endpoint = "tcp:";  // appends: g++ 12 -O3 flags "literal" + string (-Wrestrict)
    consoleSettings.endpoint += std::to_string(consolePort);
    consoleSettings.endpoint += ":interface=127.0.0.1";
    consoleSettings.tokenFile = tokenFile;
    modbus::ConsoleTarget consoleTarget;
    consoleTarget.reactor = &reactor;
    consoleTarget.context = context.get();
    std::make_shared<modbus::ConsoleService>(consoleSettings, consoleTarget)->setServiceParent(*application);

    // What twistd does: privileged start now (the port is bound here), start once running, stop
    // from a "before shutdown" trigger.
    reactor::startApplication(application, reactor);
    reactor::log::info("listening on tcp ", modbusServer->port()->getHost().toString());
    reactor.addSystemEventTrigger(reactor::Phase::After, reactor::SystemEvent::Shutdown,
                                  [] { reactor::log::info("application stopped"); });
    reactor.run();  // until SIGTERM / Ctrl-C
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "14_application: %s\n"
                 "usage: 14_application [INTERVAL [PORT [INTERFACE [CONSOLE_PORT [TOKEN_FILE]]]]]\n",
                 e.what());
    return 1;
  }
}
