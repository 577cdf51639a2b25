// The function-code table: one constexpr array indexed by the code (O(1) lookup), built once.
// Tests: tests/framers/function_codes_test.cc
#include "framers/function_codes.h"

#include <array>

namespace modbus {
namespace {

using R = LengthRule;
using K = FunctionKind;

// Broadcast, on every transport. The Modbus over Serial Line guide v1.02 §2.1: "broadcast requests
// are necessarily writing commands" and no server answers them; PI-MBUS-300 marks broadcast as
// supported for the writes (05, 06, 15, 16) and for no read or diagnostic. So:
// - every code whose purpose is to change data is broadcastable: 5, 6, 15, 16, 21 (Write File
//   Record), 22 (Mask Write Register), and 23 (Read/Write Multiple Registers: its write is applied
//   first, the read has nobody to go to, as both lists in this library already agreed);
// - reads (1-4, 20, 24) are not: their only effect is the answer that a broadcast cannot carry;
// - diagnostics (7, 8, 11, 12, 17, 43) are not: they are not writing commands, and FC 8's effects
//   (restart, listen-only, clearing counters) are per device and confirmed by the answer;
// - codes not in the table (custom codes) are not, unless their CustomFunction says so.
constexpr FunctionCodeInfo entry(const char* name, K kind, bool broadcastable, bool serialLineOnly, R request,
                                 R response) {
  return FunctionCodeInfo{name, kind, broadcastable, serialLineOnly, request, response};
}

// The RTU request rules are libmodbus's: PDU = fc + the fields up to the byte count + the counted
// bytes. FC 8 is measured as fixed (sub-function + one data word), which is wrong only for
// sub-function 00 (Return Query Data) with other than 2 data bytes: LengthRule cannot say "fixed
// unless sub-function 0", so such frames are cut at the t3.5 gap by a line that marks gaps. FC 43
// is measured as MEI 14 (fc, MEI type, read code, object id); MEI 13 (CANopen) does not fit.
constexpr std::array<FunctionCodeInfo, 256> makeTable() {
  std::array<FunctionCodeInfo, 256> t{};
  const R address5 = R::fixedPdu(5);    // fc, address/sub-function, quantity/value
  const R functionOnly = R::fixedPdu(1);
  const R counted = R::byteCount(1, 2);  // fc, byte count, data
  t[0x01] = entry("Read Coils", K::Read, false, false, address5, counted);
  t[0x02] = entry("Read Discrete Inputs", K::Read, false, false, address5, counted);
  t[0x03] = entry("Read Holding Registers", K::Read, false, false, address5, counted);
  t[0x04] = entry("Read Input Registers", K::Read, false, false, address5, counted);
  t[0x05] = entry("Write Single Coil", K::Write, true, false, address5, address5);
  t[0x06] = entry("Write Single Register", K::Write, true, false, address5, address5);
  t[0x07] = entry("Read Exception Status", K::Diagnostic, false, true, functionOnly, R::fixedPdu(2));
  t[0x08] = entry("Diagnostics", K::Diagnostic, false, true, address5, address5);
  t[0x0B] = entry("Get Comm Event Counter", K::Diagnostic, false, true, functionOnly, address5);
  t[0x0C] = entry("Get Comm Event Log", K::Diagnostic, false, true, functionOnly, counted);
  t[0x0F] = entry("Write Multiple Coils", K::Write, true, false, R::byteCount(5, 6), address5);
  t[0x10] = entry("Write Multiple Registers", K::Write, true, false, R::byteCount(5, 6), address5);
  t[0x11] = entry("Report Server ID", K::Diagnostic, false, true, functionOnly, counted);
  t[0x14] = entry("Read File Record", K::Read, false, false, counted, counted);
  t[0x15] = entry("Write File Record", K::Write, true, false, counted, counted);
  t[0x16] = entry("Mask Write Register", K::Write, true, false, R::fixedPdu(7), R::fixedPdu(7));
  t[0x17] = entry("Read/Write Multiple Registers", K::ReadWrite, true, false, R::byteCount(9, 10), counted);
  t[0x18] = entry("Read FIFO Queue", K::Read, false, false, R::fixedPdu(3), R::byteCount16(1, 3));
  t[0x2B] = entry("Encapsulated Interface Transport", K::Diagnostic, false, false, R::fixedPdu(4), R::untilGap());
  return t;
}

constexpr std::array<FunctionCodeInfo, 256> kTable = makeTable();

}  // namespace

const FunctionCodeInfo& functionCodeInfo(std::uint8_t functionCode) noexcept { return kTable[functionCode]; }

std::string_view functionKindName(FunctionKind kind) noexcept {
  switch (kind) {
    case FunctionKind::Unknown: return "unknown";
    case FunctionKind::Read: return "read";
    case FunctionKind::Write: return "write";
    case FunctionKind::ReadWrite: return "read-write";
    case FunctionKind::Diagnostic: return "diagnostic";
  }
  return "unknown";
}

}  // namespace modbus
