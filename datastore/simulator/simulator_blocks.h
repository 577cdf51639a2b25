// The simulator's store seen as the four Modbus tables: RegisterBlock and BitBlock views of one
// SimulatorStore, laid out as pymodbus lays them out.
// Rules:
// - "shared blocks" true: every table addresses the same cells (size = the largest table size);
//   false: the store holds the tables one after another, co, di, ir, hr (pymodbus's order), each
//   table's addresses starting at 0 on the wire and at its offset in the store.
// - Bit tables: wire bit address a is bit a % 16 (least significant first) of the table's cell a / 16.
// - A request past its table's size is 02 (pymodbus lets it run into the next table).
// - No allocation on the request path; reactor thread only, like every block.
// Tests: tests/datastore/simulator/simulator_blocks_test.cc
#pragma once

#include <cstdint>
#include <memory>

#include "datastore/data_block.h"
#include "datastore/device_context.h"
#include "datastore/simulator/simulator_store.h"

namespace modbus::simulator {

/// Table sizes in registers ("co size", ...) and whether the tables share one register space.
struct SimulatorLayout {
  std::uint32_t coils = 0;
  std::uint32_t discreteInputs = 0;
  std::uint32_t holdingRegisters = 0;
  std::uint32_t inputRegisters = 0;
  bool shared = true;

  /// Cells the store needs: the largest size when shared, else the sum.
  std::uint32_t cellCount() const;
  /// Where each table starts in the store (0 for all when shared).
  std::uint32_t coilsOffset() const { return 0; }
  std::uint32_t discreteInputsOffset() const { return shared ? 0 : coils; }
  std::uint32_t inputRegistersOffset() const { return shared ? 0 : coils + discreteInputs; }
  std::uint32_t holdingRegistersOffset() const { return shared ? 0 : coils + discreteInputs + inputRegisters; }
  std::uint32_t coilsSize() const { return shared ? cellCount() : coils; }
  std::uint32_t discreteInputsSize() const { return shared ? cellCount() : discreteInputs; }
  std::uint32_t inputRegistersSize() const { return shared ? cellCount() : inputRegisters; }
  std::uint32_t holdingRegistersSize() const { return shared ? cellCount() : holdingRegisters; }
};

/// Registers [offset, offset + size) of a store as a RegisterBlock addressed from 0.
class SimulatorRegisterBlock final : public RegisterBlock {
 public:
  SimulatorRegisterBlock(std::shared_ptr<SimulatorStore> store, std::uint32_t offset, std::uint32_t size);
  ExceptionCode readRegisters(std::uint16_t address, std::uint16_t count, std::uint8_t* outBigEndian) override;
  ExceptionCode writeRegisters(std::uint16_t address, std::uint16_t count, const std::uint8_t* inBigEndian) override;
  bool validate(std::uint16_t address, std::uint16_t count) const override;
  bool validateWrite(std::uint16_t address, std::uint16_t count) const override;

 private:
  bool inside(std::uint16_t address, std::uint16_t count) const {
    return std::uint32_t{address} + count <= size_;
  }
  std::shared_ptr<SimulatorStore> store_;
  std::uint32_t offset_;
  std::uint32_t size_;
};

/// The bits of cells [offset, offset + size) of a store as a BitBlock: 16 bit addresses a cell.
class SimulatorBitBlock final : public BitBlock {
 public:
  SimulatorBitBlock(std::shared_ptr<SimulatorStore> store, std::uint32_t offset, std::uint32_t size);
  ExceptionCode readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* outPacked) override;
  ExceptionCode writeBits(std::uint16_t address, std::uint16_t count, const std::uint8_t* inPacked) override;
  bool validate(std::uint16_t address, std::uint16_t count) const override;
  bool validateWrite(std::uint16_t address, std::uint16_t count) const override;

 private:
  bool inside(std::uint16_t address, std::uint16_t count) const {
    return std::uint64_t{address} + count <= std::uint64_t{size_} * 16;
  }
  std::shared_ptr<SimulatorStore> store_;
  std::uint32_t offset_;
  std::uint32_t size_;
};

/// The four tables of `store` as `layout` places them (the store must hold layout.cellCount() cells;
/// throws std::invalid_argument otherwise).
DeviceTables simulatorTables(const std::shared_ptr<SimulatorStore>& store, const SimulatorLayout& layout);

}  // namespace modbus::simulator
