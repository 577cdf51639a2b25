// Tests for datastore/file_records.h: files of records for FC 20 / 21.
#include "datastore/file_records.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace modbus {
namespace {

using Registers = std::vector<std::uint16_t>;

TEST_CASE("files are added with records or a count and a fill, and removed") {
  FileRecords f;
  CHECK(f.empty());
  f.addFile(4, Registers{1, 2, 3});
  f.addFile(2, 5, 0xAAAA);
  CHECK(f.fileNumbers() == std::vector<std::uint16_t>{2, 4});
  CHECK(f.recordCount(4) == 3);
  CHECK(f.recordCount(2) == 5);
  CHECK(f.recordCount(9) == 0);
  CHECK(f.getRecords(2, 4, 1) == Registers{0xAAAA});
  CHECK(f.removeFile(2));
  CHECK_FALSE(f.removeFile(2));
  CHECK_FALSE(f.hasFile(2));
}

TEST_CASE("file 0 and more than 10000 records are refused") {
  FileRecords f;
  CHECK_THROWS_AS(f.addFile(0, Registers{1}), std::invalid_argument);
  CHECK_THROWS_AS(f.addFile(1, 10001), std::invalid_argument);
  CHECK_NOTHROW(f.addFile(1, 10000));
  CHECK(f.validate(1, 9999, 1));
  CHECK_FALSE(f.validate(1, 9999, 2));
}

TEST_CASE("records are read and written big-endian, only inside the file") {
  FileRecords f;
  f.addFile(7, Registers{0x0102, 0x0304, 0x0506});
  std::array<std::uint8_t, 4> out{};
  CHECK(f.readRecords(7, 1, 2, out.data()) == ExceptionCode::None);
  CHECK(out == std::array<std::uint8_t, 4>{0x03, 0x04, 0x05, 0x06});
  CHECK(f.readRecords(7, 2, 2, out.data()) == ExceptionCode::IllegalDataAddress);
  CHECK(f.readRecords(8, 0, 1, out.data()) == ExceptionCode::IllegalDataAddress);
  const std::array<std::uint8_t, 2> in{0xBE, 0xEF};
  CHECK(f.writeRecords(7, 0, 1, in.data()) == ExceptionCode::None);
  CHECK(f.getRecords(7, 0, 3) == Registers{0xBEEF, 0x0304, 0x0506});
  CHECK(f.writeRecords(7, 3, 1, in.data()) == ExceptionCode::IllegalDataAddress);
  CHECK(f.getRecords(7, 0, 3) == Registers{0xBEEF, 0x0304, 0x0506});
}

TEST_CASE("setRecords is all or nothing and getRecords throws outside the file") {
  FileRecords f;
  f.addFile(1, 4);
  const Registers values{9, 8, 7};
  CHECK(f.setRecords(1, 1, values) == ExceptionCode::None);
  CHECK(f.getRecords(1, 0, 4) == Registers{0, 9, 8, 7});
  CHECK(f.setRecords(1, 2, values) == ExceptionCode::IllegalDataAddress);
  CHECK(f.getRecords(1, 0, 4) == Registers{0, 9, 8, 7});
  CHECK_THROWS_AS(f.getRecords(1, 3, 2), std::out_of_range);
  CHECK_THROWS_AS(f.getRecords(2, 0, 1), std::out_of_range);
}

}  // namespace
}  // namespace modbus
