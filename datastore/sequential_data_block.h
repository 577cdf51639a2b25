// Contiguous data blocks; ports pymodbus's ModbusSequentialDataBlock (0-based, no hidden +1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "datastore/data_block.h"

namespace modbus {

/// A block of contiguous storage starting at a block address: `SequentialDataBlock<std::uint16_t>`
/// for registers, `SequentialDataBlock<bool>` for coils and discrete inputs (aliases below). A read
/// of N values touches the storage once, in a plain loop. Any address outside
/// [address(), address() + size()) is IllegalDataAddress.
template <class Value>
class SequentialDataBlock;

template <>
class SequentialDataBlock<std::uint16_t> final : public RegisterBlock {
 public:
  /// values[i] lives at block address `address + i`. Throws std::invalid_argument when the block
  /// would reach past address 65535.
  SequentialDataBlock(std::uint16_t address, std::vector<std::uint16_t> values);
  /// pymodbus's create()/default(): `count` registers equal to `value`, from `address`. The
  /// defaults give the whole table (0..65535), zeroed.
  static std::shared_ptr<SequentialDataBlock> create(std::uint16_t address = 0,
                                                     std::size_t count = kAddressSpace,
                                                     std::uint16_t value = 0);

  ExceptionCode readRegisters(std::uint16_t address, std::uint16_t count, std::uint8_t* outBigEndian) override;
  ExceptionCode writeRegisters(std::uint16_t address, std::uint16_t count,
                               const std::uint8_t* inBigEndian) override;
  bool validate(std::uint16_t address, std::uint16_t count) const override;

  /// The block address of the first register.
  std::uint16_t address() const { return address_; }
  /// How many registers the block holds.
  std::size_t size() const { return values_.size(); }
  /// Sets every register to `value` (pymodbus's reset()).
  void reset(std::uint16_t value = 0);

 private:
  std::uint16_t address_;
  std::vector<std::uint16_t> values_;
};

template <>
class SequentialDataBlock<bool> final : public BitBlock {
 public:
  /// values[i] lives at block address `address + i`. Throws std::invalid_argument when the block
  /// would reach past address 65535.
  SequentialDataBlock(std::uint16_t address, const std::vector<bool>& values);
  /// `count` bits equal to `value`, from `address`; the defaults give the whole table, all off.
  static std::shared_ptr<SequentialDataBlock> create(std::uint16_t address = 0,
                                                     std::size_t count = kAddressSpace, bool value = false);

  ExceptionCode readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* outPacked) override;
  ExceptionCode writeBits(std::uint16_t address, std::uint16_t count, const std::uint8_t* inPacked) override;
  bool validate(std::uint16_t address, std::uint16_t count) const override;

  /// The block address of the first bit.
  std::uint16_t address() const { return address_; }
  /// How many bits the block holds.
  std::size_t size() const { return bits_.size(); }
  /// Sets every bit to `value`.
  void reset(bool value = false);

 private:
  std::uint16_t address_;
  std::vector<std::uint8_t> bits_;  // one byte (0 or 1) per bit: cheap to pack at any offset
};

using SequentialRegisterBlock = SequentialDataBlock<std::uint16_t>;
using SequentialBitBlock = SequentialDataBlock<bool>;

}  // namespace modbus
