// Tests for framers/function_codes.h: the table's facts per code against the Modbus Application
// Protocol v1.1b3 and the serial-line guide, and the RTU framer's default rules coming from it.
#include "framers/function_codes.h"

#include <doctest/doctest.h>

#include <set>
#include <string_view>

#include "framers/rtu_framer.h"

namespace modbus {

TEST_CASE("function-code table names the public codes and nothing else") {
  CHECK(std::string_view(functionCodeInfo(3).name) == "Read Holding Registers");
  CHECK(std::string_view(functionCodeInfo(23).name) == "Read/Write Multiple Registers");
  CHECK(std::string_view(functionCodeInfo(43).name) == "Encapsulated Interface Transport");
  const std::set<int> known = {1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43};
  for (int fc = 0; fc < 256; ++fc) {
    CAPTURE(fc);
    CHECK(isKnownFunctionCode(static_cast<std::uint8_t>(fc)) == (known.count(fc) == 1));
  }
  CHECK(functionCodeInfo(9).kind == FunctionKind::Unknown);
  CHECK(functionCodeInfo(0x83).name == nullptr);
}

TEST_CASE("function-code table kinds: reads, writes, FC 23 read-write, diagnostics") {
  for (std::uint8_t fc : {1, 2, 3, 4, 20, 24}) CHECK(functionCodeInfo(fc).kind == FunctionKind::Read);
  for (std::uint8_t fc : {5, 6, 15, 16, 21, 22}) CHECK(functionCodeInfo(fc).kind == FunctionKind::Write);
  CHECK(functionCodeInfo(23).kind == FunctionKind::ReadWrite);
  for (std::uint8_t fc : {7, 8, 11, 12, 17, 43}) CHECK(functionCodeInfo(fc).kind == FunctionKind::Diagnostic);
  for (std::uint8_t fc : {5, 6, 15, 16, 21, 22, 23}) CHECK(isWriteFunctionCode(fc));
  for (std::uint8_t fc : {1, 3, 8, 20, 43, 0x41}) CHECK_FALSE(isWriteFunctionCode(fc));
  CHECK(functionKindName(FunctionKind::ReadWrite) == "read-write");
  CHECK(functionKindName(FunctionKind::Diagnostic) == "diagnostic");
  CHECK(functionKindName(FunctionKind::Unknown) == "unknown");
}

TEST_CASE("function-code table: serial-line only are 7, 8, 11, 12, 17, and broadcast only the writing commands") {
  const std::set<int> serialOnly = {7, 8, 11, 12, 17};
  const std::set<int> broadcast = {5, 6, 15, 16, 21, 22, 23};
  for (int fc = 0; fc < 256; ++fc) {
    CAPTURE(fc);
    CHECK(functionCodeInfo(static_cast<std::uint8_t>(fc)).serialLineOnly == (serialOnly.count(fc) == 1));
    CHECK(isBroadcastableFunctionCode(static_cast<std::uint8_t>(fc)) == (broadcast.count(fc) == 1));
  }
}

TEST_CASE("function-code table holds the RTU request rules, and RtuFramer starts from them") {
  CHECK(functionCodeInfo(3).request == LengthRule::fixedPdu(5));
  CHECK(functionCodeInfo(8).request == LengthRule::fixedPdu(5));  // sub-function 0 with other data: the gap
  CHECK(functionCodeInfo(17).request == LengthRule::fixedPdu(1));
  CHECK(functionCodeInfo(16).request == LengthRule::byteCount(5, 6));
  CHECK(functionCodeInfo(21).request == LengthRule::byteCount(1, 2));
  CHECK(functionCodeInfo(23).request == LengthRule::byteCount(9, 10));
  CHECK(functionCodeInfo(24).response == LengthRule::byteCount16(1, 3));
  CHECK(functionCodeInfo(43).response == LengthRule::untilGap());  // the framer walks MEI 14 lists
  CHECK(functionCodeInfo(0x41).request == LengthRule::untilGap());
  RtuFramer framer;
  for (int fc = 0; fc < 256; ++fc) {
    CAPTURE(fc);
    CHECK(framer.lengthRule(static_cast<std::uint8_t>(fc)) == functionCodeInfo(static_cast<std::uint8_t>(fc)).request);
  }
}

}  // namespace modbus
