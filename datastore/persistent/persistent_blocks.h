// Register and bit blocks whose values live in a StateFile's mapping: the persistent store's
// counterpart of SequentialDataBlock, behind the same RegisterBlock / BitBlock interfaces, so the
// request path does not know which store it talks to. A write stores into the mapped page (which
// the kernel keeps if the process dies) and then tells the file, which msyncs those pages first
// when its policy is SyncPolicy::Always. No allocation, no lock. Tests: tests/datastore/persistent_blocks_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "datastore/data_block.h"
#include "datastore/persistent/state_file.h"

namespace modbus {

/// `count` registers from block address `start`, stored in table `table` of `file` (which the
/// block keeps open). Addresses outside the range are IllegalDataAddress; a write whose sync the
/// kernel refuses is ServerDeviceFailure (the values are stored, but not as durably as promised).
class PersistentRegisterBlock final : public RegisterBlock {
 public:
  PersistentRegisterBlock(std::shared_ptr<StateFile> file, std::size_t table);

  ExceptionCode readRegisters(std::uint16_t address, std::uint16_t count, std::uint8_t* outBigEndian) override;
  ExceptionCode writeRegisters(std::uint16_t address, std::uint16_t count, const std::uint8_t* inBigEndian) override;
  bool validate(std::uint16_t address, std::uint16_t count) const override;

  std::uint16_t address() const { return start_; }
  std::size_t size() const { return count_; }

 private:
  std::shared_ptr<StateFile> file_;
  std::uint16_t* values_;
  std::uint16_t start_;
  std::size_t count_;
};

/// `count` bits (one byte each in the file) from block address `start`; same rules.
class PersistentBitBlock final : public BitBlock {
 public:
  PersistentBitBlock(std::shared_ptr<StateFile> file, std::size_t table);

  ExceptionCode readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* outPacked) override;
  ExceptionCode writeBits(std::uint16_t address, std::uint16_t count, const std::uint8_t* inPacked) override;
  bool validate(std::uint16_t address, std::uint16_t count) const override;

  std::uint16_t address() const { return start_; }
  std::size_t size() const { return count_; }

 private:
  std::shared_ptr<StateFile> file_;
  std::uint8_t* bits_;
  std::uint16_t start_;
  std::size_t count_;
};

}  // namespace modbus
