// Port of pymodbus's UDP server example (examples/server_sync.py --comm udp, StartUdpServer): one
// device with a sequential block per table and a device identity, served by the blocking
// StartUdpServer() until Ctrl-C / SIGTERM. Each datagram carries one whole request.
// Usage: 04_udp_server [ENDPOINT [FRAMER]]
//   ENDPOINT  default "udp:5020:interface=127.0.0.1" ("udp:0:…" picks a free port; see the log line)
//   FRAMER    socket (MBAP, the default), rtu or ascii (RTU/ASCII frames over UDP)
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "framers/framer_type.h"
#include "protocols/servers/modbus_udp_server.h"

int main(int argc, char** argv) {
  const std::string endpoint = argc > 1 ? argv[1] : "udp:5020:interface=127.0.0.1";
  const std::string framerName = argc > 2 ? argv[2] : "socket";
  auto framer = modbus::framerTypeFromName(framerName);
  if (argc > 3 || !framer || *framer == modbus::FramerType::MbapInTls) {
    std::fprintf(stderr, "usage: 04_udp_server [ENDPOINT [socket|rtu|ascii]]\n");
    return 2;
  }
  // pymodbus: ModbusSequentialDataBlock(0, [17] * 100) for each table. Addresses are 0-based.
  auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 100, true),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 100, true),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
  });
  // pymodbus's ModbusDeviceIdentification of the example, answered to FC 43 / 14.
  auto& identity = device->identity();
  identity.set(modbus::ModbusDeviceIdentification::kVendorName, "uvmodbus");
  identity.set(modbus::ModbusDeviceIdentification::kProductCode, "UM");
  identity.set(modbus::ModbusDeviceIdentification::kMajorMinorRevision, "1.0");
  identity.set(modbus::ModbusDeviceIdentification::kProductName, "uvmodbus UDP server");
  modbus::ServerOptions options;
  options.framer = *framer;
  try {
    modbus::StartUdpServer(modbus::ServerContext::single(device), endpoint, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "04_udp_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
