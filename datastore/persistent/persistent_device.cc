// makeDevicePersistent: layout, seed or restore, then swap the device's blocks for mapped ones.
#include "datastore/persistent/persistent_device.h"

#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

#include "datastore/persistent/persistent_blocks.h"
#include "datastore/sequential_data_block.h"

namespace modbus {
namespace {

/// The range of a block the store can keep; throws for one it cannot.
template <class Sequential, class Persistent, class Block>
StateTable tableFor(const Block* block, StateTableKind kind) {
  if (const auto* s = dynamic_cast<const Sequential*>(block)) {
    return StateTable{kind, 0, s->address(), static_cast<std::uint32_t>(s->size())};
  }
  if (const auto* p = dynamic_cast<const Persistent*>(block)) {
    return StateTable{kind, 0, p->address(), static_cast<std::uint32_t>(p->size())};
  }
  throw std::invalid_argument(describeTable(kind) +
                              ": only a table of one range (start, count) can be persistent, not a sparse one");
}

void seedRegisters(RegisterBlock& from, const StateTable& t, std::uint16_t* to) {
  if (from.getValues(static_cast<std::uint16_t>(t.start), std::span<std::uint16_t>(to, t.count)) !=
      ExceptionCode::None) {
    throw std::runtime_error(describeTable(t.kind) + ": the configured values cannot be read");
  }
}

void seedBits(BitBlock& from, const StateTable& t, std::uint8_t* to) {
  std::unique_ptr<bool[]> values(new bool[t.count]);
  if (from.getValues(static_cast<std::uint16_t>(t.start), std::span<bool>(values.get(), t.count)) !=
      ExceptionCode::None) {
    throw std::runtime_error(describeTable(t.kind) + ": the configured values cannot be read");
  }
  for (std::size_t i = 0; i < t.count; ++i) to[i] = values[i] ? 1 : 0;
}

}  // namespace

StateLayout persistentLayout(const DeviceContext& device) {
  StateLayout layout;
  if (device.coils() != nullptr) {
    layout.push_back(tableFor<SequentialBitBlock, PersistentBitBlock>(device.coils(), StateTableKind::Coils));
  }
  if (device.discreteInputs() != nullptr) {
    layout.push_back(
        tableFor<SequentialBitBlock, PersistentBitBlock>(device.discreteInputs(), StateTableKind::DiscreteInputs));
  }
  if (device.holdingRegisters() != nullptr) {
    layout.push_back(tableFor<SequentialRegisterBlock, PersistentRegisterBlock>(device.holdingRegisters(),
                                                                                StateTableKind::HoldingRegisters));
  }
  if (device.inputRegisters() != nullptr) {
    layout.push_back(tableFor<SequentialRegisterBlock, PersistentRegisterBlock>(device.inputRegisters(),
                                                                                StateTableKind::InputRegisters));
  }
  for (std::uint16_t number : device.files().fileNumbers()) {
    layout.push_back(StateTable{StateTableKind::FileRecords, number, 0,
                                static_cast<std::uint32_t>(device.files().recordCount(number))});
  }
  return layout;
}

std::shared_ptr<StateFile> makeDevicePersistent(DeviceContext& device, const std::string& path, SyncPolicy sync,
                                                bool reset) {
  const StateLayout layout = persistentLayout(device);
  auto seed = [&device, &layout](StateFile& file) {
    for (std::size_t i = 0; i < layout.size(); ++i) {
      const StateTable& t = layout[i];
      switch (t.kind) {
        case StateTableKind::Coils: seedBits(*device.coils(), t, file.bits(i)); break;
        case StateTableKind::DiscreteInputs: seedBits(*device.discreteInputs(), t, file.bits(i)); break;
        case StateTableKind::HoldingRegisters: seedRegisters(*device.holdingRegisters(), t, file.registers(i)); break;
        case StateTableKind::InputRegisters: seedRegisters(*device.inputRegisters(), t, file.registers(i)); break;
        case StateTableKind::FileRecords: {
          if (t.count == 0) break;
          std::vector<std::uint16_t> records =
              device.files().getRecords(t.fileNumber, 0, static_cast<std::uint16_t>(t.count));
          std::copy(records.begin(), records.end(), file.registers(i));
          break;
        }
      }
    }
  };
  auto file = std::make_shared<StateFile>(path, layout, sync, reset, seed);
  for (std::size_t i = 0; i < layout.size(); ++i) {
    const StateTable& t = layout[i];
    switch (t.kind) {
      case StateTableKind::Coils: device.setCoils(std::make_shared<PersistentBitBlock>(file, i)); break;
      case StateTableKind::DiscreteInputs: device.setDiscreteInputs(std::make_shared<PersistentBitBlock>(file, i)); break;
      case StateTableKind::HoldingRegisters:
        device.setHoldingRegisters(std::make_shared<PersistentRegisterBlock>(file, i));
        break;
      case StateTableKind::InputRegisters:
        device.setInputRegisters(std::make_shared<PersistentRegisterBlock>(file, i));
        break;
      case StateTableKind::FileRecords:
        device.files().placeFile(t.fileNumber, std::span<std::uint16_t>(file->registers(i), t.count));
        break;
    }
  }
  device.files().setStorageSync(file);
  return file;
}

}  // namespace modbus
