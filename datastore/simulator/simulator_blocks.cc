// RegisterBlock/BitBlock views of a SimulatorStore: bound the request to the table, shift it by the
// table's offset, and let the store apply its rules.
#include "datastore/simulator/simulator_blocks.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace modbus::simulator {

std::uint32_t SimulatorLayout::cellCount() const {
  if (shared) return std::max({coils, discreteInputs, holdingRegisters, inputRegisters});
  return coils + discreteInputs + holdingRegisters + inputRegisters;
}

SimulatorRegisterBlock::SimulatorRegisterBlock(std::shared_ptr<SimulatorStore> store, std::uint32_t offset,
                                               std::uint32_t size)
    : store_(std::move(store)), offset_(offset), size_(size) {
  if (!store_ || std::uint64_t{offset} + size > store_->size()) {
    throw std::invalid_argument("modbus::simulator::SimulatorRegisterBlock: table outside the store");
  }
}

ExceptionCode SimulatorRegisterBlock::readRegisters(std::uint16_t address, std::uint16_t count, std::uint8_t* out) {
  if (!inside(address, count)) return ExceptionCode::IllegalDataAddress;
  return store_->readRegisters(offset_ + address, count, out);
}

ExceptionCode SimulatorRegisterBlock::writeRegisters(std::uint16_t address, std::uint16_t count,
                                                     const std::uint8_t* in) {
  if (!inside(address, count)) return ExceptionCode::IllegalDataAddress;
  return store_->writeRegisters(offset_ + address, count, in);
}

bool SimulatorRegisterBlock::validate(std::uint16_t address, std::uint16_t count) const {
  return inside(address, count) && store_->checkRegisters(offset_ + address, count, false) == ExceptionCode::None;
}

bool SimulatorRegisterBlock::validateWrite(std::uint16_t address, std::uint16_t count) const {
  return inside(address, count) && store_->checkRegisters(offset_ + address, count, true) == ExceptionCode::None;
}

SimulatorBitBlock::SimulatorBitBlock(std::shared_ptr<SimulatorStore> store, std::uint32_t offset, std::uint32_t size)
    : store_(std::move(store)), offset_(offset), size_(size) {
  if (!store_ || std::uint64_t{offset} + size > store_->size()) {
    throw std::invalid_argument("modbus::simulator::SimulatorBitBlock: table outside the store");
  }
}

ExceptionCode SimulatorBitBlock::readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* out) {
  if (!inside(address, count)) return ExceptionCode::IllegalDataAddress;
  return store_->readBits(offset_, address, count, out);
}

ExceptionCode SimulatorBitBlock::writeBits(std::uint16_t address, std::uint16_t count, const std::uint8_t* in) {
  if (!inside(address, count)) return ExceptionCode::IllegalDataAddress;
  return store_->writeBits(offset_, address, count, in);
}

bool SimulatorBitBlock::validate(std::uint16_t address, std::uint16_t count) const {
  return inside(address, count) && store_->checkBits(offset_, address, count, false) == ExceptionCode::None;
}

bool SimulatorBitBlock::validateWrite(std::uint16_t address, std::uint16_t count) const {
  return inside(address, count) && store_->checkBits(offset_, address, count, true) == ExceptionCode::None;
}

DeviceTables simulatorTables(const std::shared_ptr<SimulatorStore>& store, const SimulatorLayout& layout) {
  if (!store || store->size() != layout.cellCount()) {
    throw std::invalid_argument("modbus::simulator::simulatorTables: the store does not match the layout");
  }
  return DeviceTables{
      .coils = std::make_shared<SimulatorBitBlock>(store, layout.coilsOffset(), layout.coilsSize()),
      .discreteInputs =
          std::make_shared<SimulatorBitBlock>(store, layout.discreteInputsOffset(), layout.discreteInputsSize()),
      .holdingRegisters = std::make_shared<SimulatorRegisterBlock>(store, layout.holdingRegistersOffset(),
                                                                   layout.holdingRegistersSize()),
      .inputRegisters = std::make_shared<SimulatorRegisterBlock>(store, layout.inputRegistersOffset(),
                                                                 layout.inputRegistersSize()),
  };
}

}  // namespace modbus::simulator
