// Custom function codes: a user class decodes its request, executes it against the device and
// encodes its response (ports pymodbus's custom_pdu, adding the sub-function codes it lacks).
// Tests: tests/protocols/application/custom_function_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/exception_code.h"
#include "framers/length_rule.h"

namespace modbus {

/// Subclass this for a function code of your own (pymodbus: subclass ModbusPDU, pass it in
/// custom_pdu), then register an instance with ModbusServerFactory::registerCustomFunction (or
/// RequestProcessor::registerCustomFunction for the UDP and serial servers).
///
/// For every request the server calls decode(), then execute() (when decode said None), then
/// encode() (when execute said None), back to back on the reactor thread, on the one registered
/// instance: keep the decoded request in members. An exception code returned by decode or execute
/// is sent as `fc|0x80 code`; a throw from any of them is exception 04.
class CustomFunction {
 public:
  virtual ~CustomFunction() = default;

  /// The function code served, 1..127 (a built-in code may be replaced).
  virtual std::uint8_t functionCode() const = 0;
  /// The sub-function code served, or nullopt for the whole function code. The sub-function is
  /// the big-endian field of subFunctionWidth() bytes right after the function code (as FC 8 and
  /// FC 43 have). Several classes may share a function code, one per sub-function; a request
  /// with a sub-function nobody registered gets exception 01.
  virtual std::optional<std::uint16_t> subFunctionCode() const { return std::nullopt; }
  /// 1 or 2 bytes.
  virtual std::size_t subFunctionWidth() const { return 1; }

  /// How long a request PDU is, so that the RTU framer can cut frames (pymodbus's rtu_frame_size
  /// / rtu_byte_count_pos). Every class of one function code must give the same rule.
  virtual LengthRule requestLength() const { return LengthRule::untilGap(); }
  /// How long a response PDU is (a serial server skips other devices' responses with it).
  virtual LengthRule responseLength() const { return LengthRule::untilGap(); }
  /// True when a broadcast (unit id 0, with broadcastEnable or on a serial line) of this request is
  /// executed on every device, unanswered. Default false: the serial-line guide allows only writing
  /// commands in a broadcast, and only the class knows whether it writes. This replaces the
  /// function-code table's answer for the code (a class that replaces FC 6 must say true to keep
  /// FC 6 broadcasts).
  virtual bool broadcastable() const { return false; }

  /// Parses the request: `data` is the PDU after the function code (the sub-function included).
  /// Return None, or the exception to answer (IllegalDataValue for a bad length).
  virtual ExceptionCode decode(std::span<const std::uint8_t> data) = 0;
  /// Runs the decoded request against the device of the request's unit.
  virtual ExceptionCode execute(DeviceContext& device) = 0;
  /// Writes the response after the function code (sub-function included, if it is echoed) into
  /// `out` (at most 252 bytes) and returns its length.
  virtual std::size_t encode(std::span<std::uint8_t> out) = 0;
};

/// The classes registered for one function code, and the dispatch on their sub-function codes.
/// Used by RequestProcessor; reactor thread only.
class CustomFunctionSet {
 public:
  explicit CustomFunctionSet(std::uint8_t functionCode) : functionCode_(functionCode) {}

  /// Adds `function` (same function code). Throws std::invalid_argument when it is null, its width
  /// is not 1 or 2, it disagrees with the classes already there (a whole-code class next to
  /// sub-function classes, a different width or length rule), or its sub-function is taken — a
  /// whole-code class replaces an earlier whole-code class.
  void add(std::shared_ptr<CustomFunction> function);

  /// Runs `request` (the whole PDU) on `device`; returns the response PDU length written to
  /// `response`.
  std::size_t handle(DeviceContext& device, std::span<const std::uint8_t> request, std::span<std::uint8_t> response);

  /// True when the class that serves `request` (the whole PDU) may run it as a broadcast.
  bool broadcastable(std::span<const std::uint8_t> request) const;

  std::uint8_t functionCode() const { return functionCode_; }
  LengthRule requestLength() const { return requestLength_; }
  LengthRule responseLength() const { return responseLength_; }

 private:
  CustomFunction* find(std::span<const std::uint8_t> request) const;

  std::uint8_t functionCode_;
  std::shared_ptr<CustomFunction> whole_;
  std::vector<std::pair<std::uint16_t, std::shared_ptr<CustomFunction>>> bySubFunction_;
  std::size_t width_ = 0;
  LengthRule requestLength_;
  LengthRule responseLength_;
};

}  // namespace modbus
