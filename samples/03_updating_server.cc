// Port of pymodbus's updating server (examples/server_updating.py): a LoopingCall on the server's
// reactor adds 1 to holding registers 0..9 every interval, through the datastore's typed API.
// Usage: 03_updating_server [INTERVAL_SECONDS [ENDPOINT]] (default 1 and "tcp:5020:interface=127.0.0.1").
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/looping_call.h"
#include "reactor/reactor.h"
#include "samples/updating_device.h"

int main(int argc, char** argv) {
  try {
    double interval = argc > 1 ? std::stod(argv[1]) : 1.0;
    std::string endpoint = argc > 2 ? argv[2] : "tcp:5020:interface=127.0.0.1";

    samples::UpdatingDevice updating = samples::makeUpdatingDevice();

    reactor::Reactor reactor;
    modbus::ModbusTcpServer server(reactor, modbus::ServerContext::single(updating.device));
    server.listen(endpoint);

    // pymodbus's updating_task (samples/updating_device.h), on the server's reactor.
    reactor::LoopingCall updater(reactor, [holding = updating.holding] { samples::updateHoldingRegisters(*holding); });
    updater.start(interval, /*now=*/false);
    reactor.run();  // until Ctrl-C / SIGTERM
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "03_updating_server: %s\nusage: 03_updating_server [INTERVAL [ENDPOINT]]\n", e.what());
    return 1;
  }
}
