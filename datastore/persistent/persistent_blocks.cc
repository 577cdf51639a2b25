// Persistent blocks: the same loops as SequentialDataBlock, over a StateFile's mapped table.
#include "datastore/persistent/persistent_blocks.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace modbus {
namespace {

bool covers(std::uint16_t start, std::size_t size, std::uint16_t address, std::uint16_t count) {
  return address >= start && std::size_t{address} + count <= std::size_t{start} + size;
}

const StateTable& tableOf(const std::shared_ptr<StateFile>& file, std::size_t table) {
  if (!file) throw std::invalid_argument("modbus::Persistent*Block: no state file");
  const StateTable& t = file->layout().at(table);
  if (!fitsAddressSpace(t.start, t.count)) {
    throw std::invalid_argument("modbus::Persistent*Block: table reaches past address 65535");
  }
  return t;
}

}  // namespace

// --- registers -------------------------------------------------------------------------------

PersistentRegisterBlock::PersistentRegisterBlock(std::shared_ptr<StateFile> file, std::size_t table)
    : file_(std::move(file)),
      values_(file_ ? file_->registers(table) : nullptr),
      start_(static_cast<std::uint16_t>(tableOf(file_, table).start)),
      count_(tableOf(file_, table).count) {}

bool PersistentRegisterBlock::validate(std::uint16_t address, std::uint16_t count) const {
  return covers(start_, count_, address, count);
}

ExceptionCode PersistentRegisterBlock::readRegisters(std::uint16_t address, std::uint16_t count,
                                                     std::uint8_t* outBigEndian) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  const std::uint16_t* src = values_ + (address - start_);
  for (std::size_t i = 0; i < count; ++i) {
    outBigEndian[2 * i] = static_cast<std::uint8_t>(src[i] >> 8);
    outBigEndian[2 * i + 1] = static_cast<std::uint8_t>(src[i] & 0xFF);
  }
  return ExceptionCode::None;
}

ExceptionCode PersistentRegisterBlock::writeRegisters(std::uint16_t address, std::uint16_t count,
                                                      const std::uint8_t* inBigEndian) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  std::uint16_t* dst = values_ + (address - start_);
  for (std::size_t i = 0; i < count; ++i) {
    dst[i] = static_cast<std::uint16_t>((inBigEndian[2 * i] << 8) | inBigEndian[2 * i + 1]);
  }
  return file_->written(dst, 2 * std::size_t{count}) ? ExceptionCode::None : ExceptionCode::ServerDeviceFailure;
}

// --- bits ------------------------------------------------------------------------------------

PersistentBitBlock::PersistentBitBlock(std::shared_ptr<StateFile> file, std::size_t table)
    : file_(std::move(file)),
      bits_(file_ ? file_->bits(table) : nullptr),
      start_(static_cast<std::uint16_t>(tableOf(file_, table).start)),
      count_(tableOf(file_, table).count) {}

bool PersistentBitBlock::validate(std::uint16_t address, std::uint16_t count) const {
  return covers(start_, count_, address, count);
}

ExceptionCode PersistentBitBlock::readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* outPacked) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  const std::uint8_t* src = bits_ + (address - start_);
  const std::size_t bytes = (std::size_t{count} + 7) / 8;
  for (std::size_t b = 0; b < bytes; ++b) {
    const std::size_t n = std::min<std::size_t>(8, count - 8 * b);
    unsigned packed = 0;
    // A byte other than 0 or 1 (a damaged data page) reads as 1: a bit is never more than a bit.
    for (std::size_t k = 0; k < n; ++k) packed |= unsigned{src[8 * b + k] != 0} << k;
    outPacked[b] = static_cast<std::uint8_t>(packed);
  }
  return ExceptionCode::None;
}

ExceptionCode PersistentBitBlock::writeBits(std::uint16_t address, std::uint16_t count, const std::uint8_t* inPacked) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  std::uint8_t* dst = bits_ + (address - start_);
  for (std::size_t i = 0; i < count; ++i) dst[i] = (inPacked[i / 8] >> (i % 8)) & 1;
  return file_->written(dst, count) ? ExceptionCode::None : ExceptionCode::ServerDeviceFailure;
}

}  // namespace modbus
