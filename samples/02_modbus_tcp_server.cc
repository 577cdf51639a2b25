// Port of pymodbus's StartTcpServer example (examples/server_sync.py): one device with a
// sequential block per table, served by the blocking StartTcpServer() until Ctrl-C / SIGTERM.
// Usage: 02_modbus_tcp_server [ENDPOINT] (default "tcp:5020:interface=127.0.0.1").
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"

int main(int argc, char** argv) {
  std::string endpoint = argc > 1 ? argv[1] : "tcp:5020:interface=127.0.0.1";
  // pymodbus: ModbusSequentialDataBlock(0, [17] * 100) for each table. Addresses are 0-based.
  auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 100, true),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 100, true),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
  });
  auto context = modbus::ServerContext::single(device);  // every unit id gets this device
  try {
    modbus::StartTcpServer(context, endpoint);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "02_modbus_tcp_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
