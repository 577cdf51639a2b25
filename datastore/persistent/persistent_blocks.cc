// Persistent blocks: SequentialDataBlock's loops (datastore/wire_codec.h) over a StateFile's mapped table.
#include "datastore/persistent/persistent_blocks.h"

#include <stdexcept>
#include <utility>

#include "datastore/wire_codec.h"

namespace modbus {
namespace {

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
  return wire::covers(start_, count_, address, count);
}

ExceptionCode PersistentRegisterBlock::readRegisters(std::uint16_t address, std::uint16_t count,
                                                     std::uint8_t* outBigEndian) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  wire::storeRegisters(values_ + (address - start_), count, outBigEndian);
  return ExceptionCode::None;
}

ExceptionCode PersistentRegisterBlock::writeRegisters(std::uint16_t address, std::uint16_t count,
                                                      const std::uint8_t* inBigEndian) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  std::uint16_t* dst = values_ + (address - start_);
  wire::loadRegisters(inBigEndian, count, dst);
  return file_->written(dst, 2 * std::size_t{count}) ? ExceptionCode::None : ExceptionCode::ServerDeviceFailure;
}

// --- bits ------------------------------------------------------------------------------------

PersistentBitBlock::PersistentBitBlock(std::shared_ptr<StateFile> file, std::size_t table)
    : file_(std::move(file)),
      bits_(file_ ? file_->bits(table) : nullptr),
      start_(static_cast<std::uint16_t>(tableOf(file_, table).start)),
      count_(tableOf(file_, table).count) {}

bool PersistentBitBlock::validate(std::uint16_t address, std::uint16_t count) const {
  return wire::covers(start_, count_, address, count);
}

ExceptionCode PersistentBitBlock::readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* outPacked) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  // A byte other than 0 or 1 (a damaged data page) reads as 1: packBits never yields more than a bit.
  wire::packBits(bits_ + (address - start_), count, outPacked);
  return ExceptionCode::None;
}

ExceptionCode PersistentBitBlock::writeBits(std::uint16_t address, std::uint16_t count, const std::uint8_t* inPacked) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  std::uint8_t* dst = bits_ + (address - start_);
  wire::unpackBits(inPacked, count, dst);
  return file_->written(dst, count) ? ExceptionCode::None : ExceptionCode::ServerDeviceFailure;
}

}  // namespace modbus
