// The data block interfaces (bit tables and register tables); ports pymodbus's BaseModbusDataBlock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "datastore/exception_code.h"

namespace modbus {

/// Number of addresses in one Modbus table: 0..65535.
inline constexpr std::size_t kAddressSpace = 65536;

/// True when [address, address + count) lies inside 0..65535 (no wrap-around, ever).
constexpr bool fitsAddressSpace(std::size_t address, std::size_t count) noexcept {
  return address < kAddressSpace && count <= kAddressSpace - address;
}

/// A table of 16-bit registers (holding or input registers). Addresses are the block's own, 0-based.
///
/// The hot interface is virtual and called once per request: it reads straight into, and writes
/// straight from, the big-endian bytes of the PDU. Implementations must:
/// - treat a range that leaves 0..65535 as IllegalDataAddress;
/// - make writes all-or-nothing: validate the whole range first, a rejected write changes nothing;
/// - run on the reactor thread only (no locks anywhere in the datastore).
/// A block may throw; the request processor answers ServerDeviceFailure (04) then.
class RegisterBlock {
 public:
  virtual ~RegisterBlock();

  /// Writes `count` registers starting at `address` into `outBigEndian[0 .. 2*count)`, high byte
  /// first. Returns None, or the exception code to send (IllegalDataAddress for an undefined range).
  /// On failure the contents of `outBigEndian` are unspecified.
  virtual ExceptionCode readRegisters(std::uint16_t address, std::uint16_t count,
                                      std::uint8_t* outBigEndian) = 0;
  /// Stores `count` registers read from `inBigEndian[0 .. 2*count)` at `address`. All-or-nothing.
  virtual ExceptionCode writeRegisters(std::uint16_t address, std::uint16_t count,
                                       const std::uint8_t* inBigEndian) = 0;
  /// True when a read of [address, address + count) would succeed. A zero count is valid.
  virtual bool validate(std::uint16_t address, std::uint16_t count) const = 0;
  /// True when a write of [address, address + count) would succeed. Defaults to validate(); a block
  /// whose writes may define new addresses (a mutable sparse block) overrides it.
  virtual bool validateWrite(std::uint16_t address, std::uint16_t count) const;

  // --- application-facing, typed (allocates; not for the request path) ---

  /// The `count` registers at `address`. Throws std::out_of_range for an undefined range, and
  /// std::runtime_error for any other exception code the block returns.
  std::vector<std::uint16_t> getValues(std::uint16_t address, std::uint16_t count);
  /// Fills `out` with the registers at `address`; returns None or the block's exception code
  /// (then `out` is unspecified).
  ExceptionCode getValues(std::uint16_t address, std::span<std::uint16_t> out);
  /// Stores `values` at `address`, all or nothing. Returns None or the exception code.
  ExceptionCode setValues(std::uint16_t address, std::span<const std::uint16_t> values);
  ExceptionCode setValues(std::uint16_t address, std::initializer_list<std::uint16_t> values);

 protected:
  RegisterBlock() = default;
  RegisterBlock(const RegisterBlock&) = default;
  RegisterBlock& operator=(const RegisterBlock&) = default;
};

/// A table of single bits (coils or discrete inputs). Same contract as RegisterBlock; on the wire
/// bits are packed LSB first: bit i of the range is bit (i % 8) of byte (i / 8).
class BitBlock {
 public:
  virtual ~BitBlock();

  /// Writes `count` bits starting at `address` into `outPacked[0 .. ceil(count/8))`, LSB first.
  /// Unused high bits of the last byte are written as zero.
  virtual ExceptionCode readBits(std::uint16_t address, std::uint16_t count, std::uint8_t* outPacked) = 0;
  /// Stores `count` bits read from `inPacked` (LSB first; padding bits ignored). All-or-nothing.
  virtual ExceptionCode writeBits(std::uint16_t address, std::uint16_t count,
                                  const std::uint8_t* inPacked) = 0;
  /// True when a read of [address, address + count) would succeed. A zero count is valid.
  virtual bool validate(std::uint16_t address, std::uint16_t count) const = 0;
  /// True when a write of the range would succeed. Defaults to validate().
  virtual bool validateWrite(std::uint16_t address, std::uint16_t count) const;

  // --- application-facing, typed (allocates; not for the request path) ---

  /// The `count` bits at `address`. Throws std::out_of_range for an undefined range, and
  /// std::runtime_error for any other exception code the block returns.
  std::vector<bool> getValues(std::uint16_t address, std::uint16_t count);
  /// Fills `out` with the bits at `address`; returns None or the block's exception code.
  ExceptionCode getValues(std::uint16_t address, std::span<bool> out);
  /// Stores `values` at `address`, all or nothing. Returns None or the exception code.
  ExceptionCode setValues(std::uint16_t address, std::span<const bool> values);
  ExceptionCode setValues(std::uint16_t address, const std::vector<bool>& values);

 protected:
  BitBlock() = default;
  BitBlock(const BitBlock&) = default;
  BitBlock& operator=(const BitBlock&) = default;
};

}  // namespace modbus
