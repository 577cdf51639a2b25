// Contiguous data blocks: registers stored as uint16, bits as one byte each.
#include "datastore/sequential_data_block.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "datastore/wire_codec.h"

namespace modbus {
namespace {

void checkFits(std::uint16_t address, std::size_t count) {
  if (!fitsAddressSpace(address, count)) {
    throw std::invalid_argument("modbus::SequentialDataBlock: block reaches past address 65535");
  }
}

}  // namespace

// --- registers -------------------------------------------------------------------------------

SequentialDataBlock<std::uint16_t>::SequentialDataBlock(std::uint16_t address, std::vector<std::uint16_t> values)
    : address_(address), values_(std::move(values)) {
  checkFits(address_, values_.size());
}

std::shared_ptr<SequentialDataBlock<std::uint16_t>> SequentialDataBlock<std::uint16_t>::create(
    std::uint16_t address, std::size_t count, std::uint16_t value) {
  checkFits(address, count);
  return std::make_shared<SequentialDataBlock>(address, std::vector<std::uint16_t>(count, value));
}

bool SequentialDataBlock<std::uint16_t>::validate(std::uint16_t address, std::uint16_t count) const {
  return wire::covers(address_, values_.size(), address, count);
}

ExceptionCode SequentialDataBlock<std::uint16_t>::readRegisters(std::uint16_t address, std::uint16_t count,
                                                                std::uint8_t* outBigEndian) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  wire::storeRegisters(values_.data() + (address - address_), count, outBigEndian);
  return ExceptionCode::None;
}

ExceptionCode SequentialDataBlock<std::uint16_t>::writeRegisters(std::uint16_t address, std::uint16_t count,
                                                                 const std::uint8_t* inBigEndian) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  wire::loadRegisters(inBigEndian, count, values_.data() + (address - address_));
  return ExceptionCode::None;
}

void SequentialDataBlock<std::uint16_t>::reset(std::uint16_t value) {
  std::fill(values_.begin(), values_.end(), value);
}

// --- bits ------------------------------------------------------------------------------------

SequentialDataBlock<bool>::SequentialDataBlock(std::uint16_t address, const std::vector<bool>& values)
    : address_(address), bits_(values.begin(), values.end()) {
  checkFits(address_, bits_.size());
}

std::shared_ptr<SequentialDataBlock<bool>> SequentialDataBlock<bool>::create(std::uint16_t address,
                                                                             std::size_t count, bool value) {
  checkFits(address, count);
  return std::make_shared<SequentialDataBlock>(address, std::vector<bool>(count, value));
}

bool SequentialDataBlock<bool>::validate(std::uint16_t address, std::uint16_t count) const {
  return wire::covers(address_, bits_.size(), address, count);
}

ExceptionCode SequentialDataBlock<bool>::readBits(std::uint16_t address, std::uint16_t count,
                                                  std::uint8_t* outPacked) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  wire::packBits(bits_.data() + (address - address_), count, outPacked);
  return ExceptionCode::None;
}

ExceptionCode SequentialDataBlock<bool>::writeBits(std::uint16_t address, std::uint16_t count,
                                                   const std::uint8_t* inPacked) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  wire::unpackBits(inPacked, count, bits_.data() + (address - address_));
  return ExceptionCode::None;
}

void SequentialDataBlock<bool>::reset(bool value) {
  std::fill(bits_.begin(), bits_.end(), static_cast<std::uint8_t>(value ? 1 : 0));
}

}  // namespace modbus
