// Port of a twistd application (a .tac file with service.Application, internet.TCPServer and
// internet.TimerService) serving pymodbus's updating server: one Application, a Modbus TCPServer,
// a TimerService adding 1 to holding registers 0..9 every interval, and a service whose stop takes
// a moment (it reports the final values after a deferLater). SIGTERM or Ctrl-C stops the reactor;
// the shutdown waits for every service's stopService Deferred, then the connections close.
// Usage: 14_application [INTERVAL_SECONDS [PORT [INTERFACE]]] (default 1, 5020, 127.0.0.1).
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_server_factory.h"
#include "reactor/defer.h"
#include "reactor/log.h"
#include "reactor/reactor.h"
#include "reactor/service.h"

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

    auto holding = modbus::SequentialRegisterBlock::create(0, 100, 17);
    auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
        .coils = modbus::SequentialBitBlock::create(0, 100),
        .discreteInputs = modbus::SequentialBitBlock::create(0, 100),
        .holdingRegisters = holding,
        .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
    });

    reactor::Reactor reactor;
    auto factory = std::make_shared<modbus::ModbusServerFactory>(modbus::ServerContext::single(device));
    factory->setClock(&reactor);

    // application = service.Application("modbus")
    auto application = std::make_shared<reactor::Application>("modbus");
    // internet.TCPServer(5020, factory, interface="127.0.0.1").setServiceParent(application)
    auto modbusServer = std::make_shared<reactor::TCPServer>(reactor, static_cast<std::uint16_t>(port), factory, 50,
                                                             interface);
    modbusServer->setName("modbus-tcp");
    modbusServer->setServiceParent(*application);
    // internet.TimerService(interval, updating_task).setServiceParent(application)
    auto updater = std::make_shared<reactor::TimerService>(reactor, interval, [&holding] {
      std::vector<std::uint16_t> values = holding->getValues(0, 10);
      for (auto& v : values) ++v;
      holding->setValues(0, values);
      reactor::log::info("updated holding registers 0..9 to ", values[0]);
    });
    updater->setName("updater");
    updater->setServiceParent(*application);
    std::make_shared<SnapshotService>(reactor, holding)->setServiceParent(*application);

    // What twistd does: privileged start now (the port is bound here), start once running, stop
    // from a "before shutdown" trigger.
    reactor::startApplication(application, reactor);
    reactor::log::info("listening on tcp ", modbusServer->port()->getHost().toString());
    reactor.addSystemEventTrigger(reactor::Phase::After, reactor::SystemEvent::Shutdown,
                                  [] { reactor::log::info("application stopped"); });
    reactor.run();  // until SIGTERM / Ctrl-C
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "14_application: %s\nusage: 14_application [INTERVAL [PORT [INTERFACE]]]\n", e.what());
    return 1;
  }
}
