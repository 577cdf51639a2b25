// A Modbus/TCP server whose registers outlive it: sample 02's device, made persistent with
// makeDevicePersistent() (docs/persistence.md), so a value written by a client is still there after
// Ctrl-C, a crash or kill -9. The first start serves the configured values (17); later starts the
// stored ones. SyncPolicy::Always puts each write on the disk before it is answered, so this sample
// needs no flush timer (uvmodbus-server's "sync": "periodic" adds one on its reactor).
// Usage: 11_persistent_server [STATE_DIR] [ENDPOINT] (defaults "." and "tcp:5020:interface=127.0.0.1").
// The same with uvmodbus-server: config/persistent.json.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "datastore/device_context.h"
#include "datastore/persistent/persistent_device.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/log.h"

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : ".";
  std::string endpoint = argc > 2 ? argv[2] : "tcp:5020:interface=127.0.0.1";
  auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 100, true),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 100, true),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
  });
  try {
    // From here on the tables live in DIR/device.state, seeded with the values above the first time.
    auto file = modbus::makeDevicePersistent(*device, dir + "/device.state", modbus::SyncPolicy::Always);
    reactor::log::info(file->created() ? "first start: created " : "restored the stored values from ", file->path());
    modbus::StartTcpServer(modbus::ServerContext::single(device), endpoint);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "11_persistent_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
