// Sparse data blocks: an ordered map walked once per request from the first address.
#include "datastore/sparse_data_block.h"

#include <utility>

namespace modbus {
namespace {

// True when every address of [address, address + count) is a key of `map`: one lower_bound, then
// a walk that must meet consecutive keys.
template <class Map>
bool allDefined(const Map& map, std::uint16_t address, std::uint16_t count) {
  if (!fitsAddressSpace(address, count)) return false;
  auto it = map.lower_bound(address);
  for (std::size_t i = 0; i < count; ++i, ++it) {
    if (it == map.end() || it->first != address + i) return false;
  }
  return true;
}

template <class Map>
bool writable(const Map& map, bool isMutable, std::uint16_t address, std::uint16_t count) {
  return isMutable ? fitsAddressSpace(address, count) : allDefined(map, address, count);
}

// Stores `count` values at `address`, value i given by `valueAt(i)`. The range is already validated.
template <class Map, class ValueAt>
void store(Map& map, std::uint16_t address, std::uint16_t count, ValueAt valueAt) {
  auto hint = map.lower_bound(address);
  for (std::size_t i = 0; i < count; ++i) {
    const auto key = static_cast<std::uint16_t>(address + i);
    if (hint != map.end() && hint->first == key) {
      hint->second = valueAt(i);
    } else {
      hint = map.emplace_hint(hint, key, valueAt(i));
    }
    ++hint;
  }
}

}  // namespace

// --- registers -------------------------------------------------------------------------------

SparseDataBlock<std::uint16_t>::SparseDataBlock(std::map<std::uint16_t, std::uint16_t> values, bool isMutable)
    : values_(std::move(values)), mutable_(isMutable) {}

bool SparseDataBlock<std::uint16_t>::validate(std::uint16_t address, std::uint16_t count) const {
  return allDefined(values_, address, count);
}

bool SparseDataBlock<std::uint16_t>::validateWrite(std::uint16_t address, std::uint16_t count) const {
  return writable(values_, mutable_, address, count);
}

ExceptionCode SparseDataBlock<std::uint16_t>::readRegisters(std::uint16_t address, std::uint16_t count,
                                                            std::uint8_t* outBigEndian) {
  if (!fitsAddressSpace(address, count)) return ExceptionCode::IllegalDataAddress;
  auto it = values_.lower_bound(address);
  for (std::size_t i = 0; i < count; ++i, ++it) {
    if (it == values_.end() || it->first != address + i) return ExceptionCode::IllegalDataAddress;
    outBigEndian[2 * i] = static_cast<std::uint8_t>(it->second >> 8);
    outBigEndian[2 * i + 1] = static_cast<std::uint8_t>(it->second & 0xFF);
  }
  return ExceptionCode::None;
}

ExceptionCode SparseDataBlock<std::uint16_t>::writeRegisters(std::uint16_t address, std::uint16_t count,
                                                             const std::uint8_t* inBigEndian) {
  if (!validateWrite(address, count)) return ExceptionCode::IllegalDataAddress;
  store(values_, address, count, [inBigEndian](std::size_t i) {
    return static_cast<std::uint16_t>((inBigEndian[2 * i] << 8) | inBigEndian[2 * i + 1]);
  });
  return ExceptionCode::None;
}

void SparseDataBlock<std::uint16_t>::define(std::uint16_t address, std::uint16_t value) {
  values_.insert_or_assign(address, value);
}

// --- bits ------------------------------------------------------------------------------------

SparseDataBlock<bool>::SparseDataBlock(std::map<std::uint16_t, bool> values, bool isMutable)
    : values_(std::move(values)), mutable_(isMutable) {}

bool SparseDataBlock<bool>::validate(std::uint16_t address, std::uint16_t count) const {
  return allDefined(values_, address, count);
}

bool SparseDataBlock<bool>::validateWrite(std::uint16_t address, std::uint16_t count) const {
  return writable(values_, mutable_, address, count);
}

ExceptionCode SparseDataBlock<bool>::readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* outPacked) {
  if (!fitsAddressSpace(address, count)) return ExceptionCode::IllegalDataAddress;
  const std::size_t bytes = (std::size_t{count} + 7) / 8;
  for (std::size_t b = 0; b < bytes; ++b) outPacked[b] = 0;
  auto it = values_.lower_bound(address);
  for (std::size_t i = 0; i < count; ++i, ++it) {
    if (it == values_.end() || it->first != address + i) return ExceptionCode::IllegalDataAddress;
    if (it->second) outPacked[i / 8] = static_cast<std::uint8_t>(outPacked[i / 8] | (1u << (i % 8)));
  }
  return ExceptionCode::None;
}

ExceptionCode SparseDataBlock<bool>::writeBits(std::uint16_t address, std::uint16_t count,
                                               const std::uint8_t* inPacked) {
  if (!validateWrite(address, count)) return ExceptionCode::IllegalDataAddress;
  store(values_, address, count, [inPacked](std::size_t i) { return ((inPacked[i / 8] >> (i % 8)) & 1) != 0; });
  return ExceptionCode::None;
}

void SparseDataBlock<bool>::define(std::uint16_t address, bool value) { values_.insert_or_assign(address, value); }

}  // namespace modbus
