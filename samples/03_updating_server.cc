// Port of pymodbus's updating server (examples/server_updating.py): a LoopingCall on the server's
// reactor adds 1 to holding registers 0..9 every interval, through the datastore's typed API.
// Usage: 03_updating_server [INTERVAL_SECONDS [ENDPOINT]] (default 1 and "tcp:5020:interface=127.0.0.1").
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/log.h"
#include "reactor/looping_call.h"
#include "reactor/reactor.h"

int main(int argc, char** argv) {
  try {
    double interval = argc > 1 ? std::stod(argv[1]) : 1.0;
    std::string endpoint = argc > 2 ? argv[2] : "tcp:5020:interface=127.0.0.1";

    auto holding = modbus::SequentialRegisterBlock::create(0, 100, 17);
    auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
        .coils = modbus::SequentialBitBlock::create(0, 100),
        .discreteInputs = modbus::SequentialBitBlock::create(0, 100),
        .holdingRegisters = holding,
        .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
    });

    reactor::Reactor reactor;
    modbus::ModbusTcpServer server(reactor, modbus::ServerContext::single(device));
    server.listen(endpoint);

    // pymodbus's updating_task: read the registers, add one, write them back. It runs on the
    // reactor thread, like every request, so no lock is needed.
    reactor::LoopingCall updater(reactor, [&holding] {
      std::vector<std::uint16_t> values = holding->getValues(0, 10);
      for (auto& v : values) ++v;
      holding->setValues(0, values);
      reactor::log::info("updated holding registers 0..9 to ", values[0]);
    });
    updater.start(interval, /*now=*/false);
    reactor.run();  // until Ctrl-C / SIGTERM
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "03_updating_server: %s\nusage: 03_updating_server [INTERVAL [ENDPOINT]]\n", e.what());
    return 1;
  }
}
