// The device of pymodbus's updating server (examples/server_updating.py), shared by the samples
// that port it: 03_updating_server (a LoopingCall) and 14_application (a TimerService in an
// Application). One unit of 100 coils, discrete inputs and registers (registers start at 17), and
// the updating task: read holding registers 0..9, add one, write them back, log the new value.
// Tests: tests/integration/samples_test.cc (03), tests/integration/service_command_test.cc (14)
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "reactor/log.h"

namespace samples {

struct UpdatingDevice {
  std::shared_ptr<modbus::DeviceContext> device;
  /// The device's holding registers, which the updating task changes.
  std::shared_ptr<modbus::SequentialRegisterBlock> holding;
};

inline UpdatingDevice makeUpdatingDevice() {
  UpdatingDevice d;
  d.holding = modbus::SequentialRegisterBlock::create(0, 100, 17);
  d.device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 100),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 100),
      .holdingRegisters = d.holding,
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
  });
  return d;
}

/// pymodbus's updating_task, through the datastore's typed API. Call it on the reactor thread, like
/// every request, so no lock is needed.
inline void updateHoldingRegisters(modbus::SequentialRegisterBlock& holding) {
  std::vector<std::uint16_t> values = holding.getValues(0, 10);
  for (auto& v : values) ++v;
  holding.setValues(0, values);
  reactor::log::info("updated holding registers 0..9 to ", values[0]);
}

}  // namespace samples
