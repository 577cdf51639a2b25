// Write observers (pymodbus's "what did the client just write?", asked on its forums since 1.x,
// where it meant subclassing the datastore): a Modbus TCP server that prints every client write to
// coils and holding registers, through ModbusServerFactory::subscribeWrites — after the write is
// stored, with the values as stored, never on the request path of reads.
// Prints one line per write: "client wrote unit 1 holding_registers 10 = 7 8 9".
// Usage: 17_write_observer [ENDPOINT] (default "tcp:5020:interface=127.0.0.1").
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/application/write_observers.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/reactor.h"

int main(int argc, char** argv) {
  try {
    std::string endpoint = argc > 1 ? argv[1] : "tcp:5020:interface=127.0.0.1";
    auto device = std::make_shared<modbus::DeviceContext>(
        modbus::DeviceTables{.coils = modbus::SequentialDataBlock<bool>::create(0, 100),
                             .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100)});

    reactor::Reactor reactor;
    modbus::ModbusTcpServer server(reactor, modbus::ServerContext::single(device));
    auto print = [](const modbus::WriteEvent& e) {
      std::string values;
      for (std::uint16_t v : e.values) {
        values += ' ';
        values += std::to_string(v);
      }
      std::printf("client wrote unit %d %s %u =%s\n", static_cast<int>(e.unitId),
                  std::string(modbus::modbusTableName(e.table)).c_str(), static_cast<unsigned>(e.address),
                  values.c_str());
      std::fflush(stdout);
    };
    // Every unit (nullopt), every address ({} = 0..65535), both writable tables.
    server.factory().subscribeWrites(std::nullopt, modbus::ModbusTable::Coils, {}, print);
    server.factory().subscribeWrites(std::nullopt, modbus::ModbusTable::HoldingRegisters, {}, print);
    server.listen(endpoint);
    reactor.run();  // until Ctrl-C / SIGTERM
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "17_write_observer: %s\nusage: 17_write_observer [ENDPOINT]\n", e.what());
    return 1;
  }
}
