// deferToThread with a blocking datastore: unit 1 is a device whose every read first blocks 50 ms
// (a slow bus or database, modbus::BlockingDevice), served on the reactor's thread pool; unit 2 is
// an ordinary device served on the reactor thread. While unit 1's reads block, every other client
// and unit 2 are answered at once — what pymodbus 1.x, running a blocking store inside the reactor,
// could not do.
// Usage: 10_blocking_datastore [ENDPOINT [BLOCK_SECONDS]] (default "tcp:5020:interface=127.0.0.1", 0.05).
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/devices/blocking_device.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/reactor.h"

int main(int argc, char** argv) {
  try {
    std::string endpoint = argc > 1 ? argv[1] : "tcp:5020:interface=127.0.0.1";
    double blockSeconds = argc > 2 ? std::stod(argv[2]) : 0.05;
    auto registers = [](std::uint16_t value) {
      return std::make_shared<modbus::DeviceContext>(
          modbus::DeviceTables{.holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100, value)});
    };

    reactor::Reactor reactor;
    reactor.suggestThreadPoolSize(4);  // up to four unit-1 reads block at once
    modbus::ModbusTcpServer server(reactor, modbus::ServerContext::multiple({{2, registers(2)}}));
    server.factory().setAsyncDevice(
        1, std::make_shared<modbus::BlockingDevice>(reactor, registers(1),
                                                    modbus::BlockingDevice::sleepBeforeReads(blockSeconds)));
    server.listen(endpoint);
    reactor.run();  // until Ctrl-C / SIGTERM; the pool is joined on the way out
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "10_blocking_datastore: %s\nusage: 10_blocking_datastore [ENDPOINT [BLOCK_SECONDS]]\n",
                 e.what());
    return 1;
  }
}
