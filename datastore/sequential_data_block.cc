// Contiguous data blocks: registers stored as uint16, bits as one byte each.
#include "datastore/sequential_data_block.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace modbus {
namespace {

void checkFits(std::uint16_t address, std::size_t count) {
  if (!fitsAddressSpace(address, count)) {
    throw std::invalid_argument("modbus::SequentialDataBlock: block reaches past address 65535");
  }
}

bool covers(std::uint16_t start, std::size_t size, std::uint16_t address, std::uint16_t count) {
  return address >= start && std::size_t{address} + count <= std::size_t{start} + size;
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
  return covers(address_, values_.size(), address, count);
}

ExceptionCode SequentialDataBlock<std::uint16_t>::readRegisters(std::uint16_t address, std::uint16_t count,
                                                                std::uint8_t* outBigEndian) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  const std::uint16_t* src = values_.data() + (address - address_);
  for (std::size_t i = 0; i < count; ++i) {
    outBigEndian[2 * i] = static_cast<std::uint8_t>(src[i] >> 8);
    outBigEndian[2 * i + 1] = static_cast<std::uint8_t>(src[i] & 0xFF);
  }
  return ExceptionCode::None;
}

ExceptionCode SequentialDataBlock<std::uint16_t>::writeRegisters(std::uint16_t address, std::uint16_t count,
                                                                 const std::uint8_t* inBigEndian) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  std::uint16_t* dst = values_.data() + (address - address_);
  for (std::size_t i = 0; i < count; ++i) {
    dst[i] = static_cast<std::uint16_t>((inBigEndian[2 * i] << 8) | inBigEndian[2 * i + 1]);
  }
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
  return covers(address_, bits_.size(), address, count);
}

ExceptionCode SequentialDataBlock<bool>::readBits(std::uint16_t address, std::uint16_t count,
                                                  std::uint8_t* outPacked) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  const std::uint8_t* src = bits_.data() + (address - address_);
  const std::size_t bytes = (std::size_t{count} + 7) / 8;
  for (std::size_t b = 0; b < bytes; ++b) {
    const std::size_t n = std::min<std::size_t>(8, count - 8 * b);
    unsigned packed = 0;
    for (std::size_t k = 0; k < n; ++k) packed |= unsigned{src[8 * b + k]} << k;
    outPacked[b] = static_cast<std::uint8_t>(packed);
  }
  return ExceptionCode::None;
}

ExceptionCode SequentialDataBlock<bool>::writeBits(std::uint16_t address, std::uint16_t count,
                                                   const std::uint8_t* inPacked) {
  if (!validate(address, count)) return ExceptionCode::IllegalDataAddress;
  std::uint8_t* dst = bits_.data() + (address - address_);
  for (std::size_t i = 0; i < count; ++i) dst[i] = (inPacked[i / 8] >> (i % 8)) & 1;
  return ExceptionCode::None;
}

void SequentialDataBlock<bool>::reset(bool value) {
  std::fill(bits_.begin(), bits_.end(), static_cast<std::uint8_t>(value ? 1 : 0));
}

}  // namespace modbus
