// Blocks of individually defined addresses; ports pymodbus's ModbusSparseDataBlock (immutable by default).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include "datastore/data_block.h"

namespace modbus {

/// A block that holds only the addresses it was given: `SparseDataBlock<std::uint16_t>` for
/// registers, `SparseDataBlock<bool>` for bits (aliases below). A request touching any undefined
/// address in its range is IllegalDataAddress. Unlike pymodbus, a block is NOT mutable by default:
/// a write to an undefined address is IllegalDataAddress and changes nothing. With
/// `isMutable = true`, writes define the addresses they touch (reads still need defined addresses).
template <class Value>
class SparseDataBlock;

template <>
class SparseDataBlock<std::uint16_t> final : public RegisterBlock {
 public:
  /// `values` maps block address → initial value.
  explicit SparseDataBlock(std::map<std::uint16_t, std::uint16_t> values = {}, bool isMutable = false);

  ExceptionCode readRegisters(std::uint16_t address, std::uint16_t count, std::uint8_t* outBigEndian) override;
  ExceptionCode writeRegisters(std::uint16_t address, std::uint16_t count,
                               const std::uint8_t* inBigEndian) override;
  bool validate(std::uint16_t address, std::uint16_t count) const override;
  bool validateWrite(std::uint16_t address, std::uint16_t count) const override;

  /// Defines `address` (or overwrites it) with `value`, whatever isMutable() says: the application's
  /// way to add addresses (pymodbus's setValues(use_as_default=True)).
  void define(std::uint16_t address, std::uint16_t value);
  bool isDefined(std::uint16_t address) const { return values_.contains(address); }
  bool isMutable() const { return mutable_; }
  /// How many addresses are defined.
  std::size_t size() const { return values_.size(); }

 private:
  std::map<std::uint16_t, std::uint16_t> values_;
  bool mutable_;
};

template <>
class SparseDataBlock<bool> final : public BitBlock {
 public:
  /// `values` maps block address → initial value.
  explicit SparseDataBlock(std::map<std::uint16_t, bool> values = {}, bool isMutable = false);

  ExceptionCode readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* outPacked) override;
  ExceptionCode writeBits(std::uint16_t address, std::uint16_t count, const std::uint8_t* inPacked) override;
  bool validate(std::uint16_t address, std::uint16_t count) const override;
  bool validateWrite(std::uint16_t address, std::uint16_t count) const override;

  /// Defines `address` (or overwrites it) with `value`, whatever isMutable() says.
  void define(std::uint16_t address, bool value);
  bool isDefined(std::uint16_t address) const { return values_.contains(address); }
  bool isMutable() const { return mutable_; }
  /// How many addresses are defined.
  std::size_t size() const { return values_.size(); }

 private:
  std::map<std::uint16_t, bool> values_;
  bool mutable_;
};

using SparseRegisterBlock = SparseDataBlock<std::uint16_t>;
using SparseBitBlock = SparseDataBlock<bool>;

}  // namespace modbus
