// Port of pymodbus's serial server example (examples/server_sync.py --comm serial,
// StartSerialServer): one device with a sequential block per table and a device identity, served
// over Modbus RTU (or ASCII) on a serial port by the blocking StartSerialServer() until Ctrl-C /
// SIGTERM. The port is opened 8N1; a port that goes away is reopened with back-off.
// Usage: 06_serial_server DEVICE [BAUDRATE [FRAMER]]
//   DEVICE    e.g. /dev/ttyUSB0 (or a pseudo-terminal: socat -d -d pty,raw,echo=0 pty,raw,echo=0)
//   BAUDRATE  default 19200
//   FRAMER    rtu (the default) or ascii
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "framers/framer_type.h"
#include "protocols/servers/modbus_serial_server.h"
#include "reactor/endpoints.h"

int main(int argc, char** argv) {
  const std::string framerName = argc > 3 ? argv[3] : "rtu";
  auto framer = modbus::framerTypeFromName(framerName);
  if (argc < 2 || argc > 4 || !framer || (*framer != modbus::FramerType::Rtu && *framer != modbus::FramerType::Ascii)) {
    std::fprintf(stderr, "usage: 06_serial_server DEVICE [BAUDRATE [rtu|ascii]]\n");
    return 2;
  }
  const std::string baudrate = argc > 2 ? argv[2] : "19200";
  // pymodbus: ModbusSequentialDataBlock(0, [17] * 100) for each table. Addresses are 0-based.
  auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 100, true),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 100, true),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
  });
  auto& identity = device->identity();
  identity.set(modbus::ModbusDeviceIdentification::kVendorName, "uvmodbus");
  identity.set(modbus::ModbusDeviceIdentification::kProductCode, "UM");
  identity.set(modbus::ModbusDeviceIdentification::kMajorMinorRevision, "1.0");
  identity.set(modbus::ModbusDeviceIdentification::kProductName, "uvmodbus serial server");
  modbus::SerialServerOptions options;
  options.line.framer = *framer;
  try {
    // A single context answers every unit id, as a point-to-point line to one device does.
    modbus::StartSerialServer(modbus::ServerContext::single(device),
                              "serial:" + reactor::quoteStringArgument(argv[1]) + ":baudrate=" + baudrate, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "06_serial_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
