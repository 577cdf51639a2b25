// The typed, application-facing half of the data block interfaces.
#include "datastore/data_block.h"

#include <memory>
#include <stdexcept>
#include <string>

#include "datastore/wire_codec.h"

namespace modbus {
namespace {

// The hot interface takes a 16-bit count, so a range of the whole 65536-address space is split in
// two halves. `call(address, count, firstIndex)` runs once per piece; the first failure stops.
template <class Call>
ExceptionCode forEachPiece(std::uint16_t address, std::size_t total, Call call) {
  if (!fitsAddressSpace(address, total)) return ExceptionCode::IllegalDataAddress;
  if (total <= 0xFFFF) return call(address, static_cast<std::uint16_t>(total), std::size_t{0});
  constexpr std::uint16_t kHalf = 0x8000;  // total == 65536 and address == 0 here
  ExceptionCode code = call(std::uint16_t{0}, kHalf, std::size_t{0});
  if (code != ExceptionCode::None) return code;
  return call(kHalf, kHalf, std::size_t{kHalf});
}

template <class Block>
bool validateWriteWhole(const Block& block, std::uint16_t address, std::size_t total) {
  return forEachPiece(address, total, [&](std::uint16_t a, std::uint16_t n, std::size_t) {
           return block.validateWrite(a, n) ? ExceptionCode::None : ExceptionCode::IllegalDataAddress;
         }) == ExceptionCode::None;
}

[[noreturn]] void throwFor(ExceptionCode code, std::uint16_t address, std::size_t count) {
  std::string what = "modbus data block: reading " + std::to_string(count) + " values at " +
                     std::to_string(address) + " failed with " + exceptionCodeName(code);
  if (code == ExceptionCode::IllegalDataAddress) throw std::out_of_range(what);
  throw std::runtime_error(what);
}

}  // namespace

// --- RegisterBlock ---------------------------------------------------------------------------

RegisterBlock::~RegisterBlock() = default;

bool RegisterBlock::validateWrite(std::uint16_t address, std::uint16_t count) const {
  return validate(address, count);
}

std::vector<std::uint16_t> RegisterBlock::getValues(std::uint16_t address, std::uint16_t count) {
  std::vector<std::uint16_t> values(count);
  ExceptionCode code = getValues(address, std::span<std::uint16_t>(values));
  if (code != ExceptionCode::None) throwFor(code, address, count);
  return values;
}

ExceptionCode RegisterBlock::getValues(std::uint16_t address, std::span<std::uint16_t> out) {
  if (out.empty()) return ExceptionCode::None;
  std::vector<std::uint8_t> bytes(out.size() * 2);
  ExceptionCode code =
      forEachPiece(address, out.size(), [&](std::uint16_t a, std::uint16_t n, std::size_t first) {
        return readRegisters(a, n, bytes.data() + 2 * first);
      });
  if (code != ExceptionCode::None) return code;
  wire::loadRegisters(bytes.data(), out.size(), out.data());
  return ExceptionCode::None;
}

ExceptionCode RegisterBlock::setValues(std::uint16_t address, std::span<const std::uint16_t> values) {
  if (values.empty()) return ExceptionCode::None;
  if (!fitsAddressSpace(address, values.size())) return ExceptionCode::IllegalDataAddress;
  // Only the 65536-value write is split; validate both halves before touching either.
  if (values.size() > 0xFFFF && !validateWriteWhole(*this, address, values.size())) {
    return ExceptionCode::IllegalDataAddress;
  }
  std::vector<std::uint8_t> bytes(values.size() * 2);
  wire::storeRegisters(values.data(), values.size(), bytes.data());
  return forEachPiece(address, values.size(), [&](std::uint16_t a, std::uint16_t n, std::size_t first) {
    return writeRegisters(a, n, bytes.data() + 2 * first);
  });
}

ExceptionCode RegisterBlock::setValues(std::uint16_t address, std::initializer_list<std::uint16_t> values) {
  return setValues(address, std::span<const std::uint16_t>(values.begin(), values.size()));
}

// --- BitBlock --------------------------------------------------------------------------------

BitBlock::~BitBlock() = default;

bool BitBlock::validateWrite(std::uint16_t address, std::uint16_t count) const {
  return validate(address, count);
}

std::vector<bool> BitBlock::getValues(std::uint16_t address, std::uint16_t count) {
  std::vector<bool> values(count);
  if (count == 0) return values;
  std::vector<std::uint8_t> packed((count + 7) / 8);
  ExceptionCode code = readBits(address, count, packed.data());
  if (code != ExceptionCode::None) throwFor(code, address, count);
  for (std::size_t i = 0; i < count; ++i) values[i] = (packed[i / 8] >> (i % 8)) & 1;
  return values;
}

ExceptionCode BitBlock::getValues(std::uint16_t address, std::span<bool> out) {
  if (out.empty()) return ExceptionCode::None;
  std::vector<std::uint8_t> packed((out.size() + 7) / 8);
  // Pieces start at multiples of 0x8000, so each lands on a whole byte of `packed`.
  ExceptionCode code =
      forEachPiece(address, out.size(), [&](std::uint16_t a, std::uint16_t n, std::size_t first) {
        return readBits(a, n, packed.data() + first / 8);
      });
  if (code != ExceptionCode::None) return code;
  wire::unpackBits(packed.data(), out.size(), out.data());
  return ExceptionCode::None;
}

ExceptionCode BitBlock::setValues(std::uint16_t address, std::span<const bool> values) {
  if (values.empty()) return ExceptionCode::None;
  if (!fitsAddressSpace(address, values.size())) return ExceptionCode::IllegalDataAddress;
  if (values.size() > 0xFFFF && !validateWriteWhole(*this, address, values.size())) {
    return ExceptionCode::IllegalDataAddress;
  }
  std::vector<std::uint8_t> packed((values.size() + 7) / 8);
  wire::packBits(values.data(), values.size(), packed.data());
  return forEachPiece(address, values.size(), [&](std::uint16_t a, std::uint16_t n, std::size_t first) {
    return writeBits(a, n, packed.data() + first / 8);
  });
}

ExceptionCode BitBlock::setValues(std::uint16_t address, const std::vector<bool>& values) {
  // std::vector<bool> has no contiguous bool storage; copy into one.
  std::unique_ptr<bool[]> copy(new bool[values.size()]);
  for (std::size_t i = 0; i < values.size(); ++i) copy[i] = values[i];
  return setValues(address, std::span<const bool>(copy.get(), values.size()));
}

}  // namespace modbus
