// Tests for datastore/file_records.h: files of records for FC 20 / 21.
#include "datastore/file_records.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <utility>
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

/// Records every write reported to it; refuses them when `refuse` is set.
struct RecordingSync : StorageSync {
  bool written(const void* data, std::size_t bytes) override {
    writes.push_back({data, bytes});
    return !refuse;
  }
  std::vector<std::pair<const void*, std::size_t>> writes;
  bool refuse = false;
};

TEST_CASE("a placed file keeps its records in the caller's storage and reports each write") {
  std::array<std::uint16_t, 4> storage = {1, 2, 3, 4};
  auto sync = std::make_shared<RecordingSync>();
  FileRecords f;
  f.placeFile(5, storage);
  f.setStorageSync(sync);
  CHECK(f.recordCount(5) == 4);
  CHECK(f.getRecords(5, 0, 4) == Registers{1, 2, 3, 4});
  const std::array<std::uint8_t, 4> in = {0x01, 0x02, 0x03, 0x04};
  CHECK(f.writeRecords(5, 2, 2, in.data()) == ExceptionCode::None);
  CHECK(storage[2] == 0x0102);
  CHECK(storage[3] == 0x0304);
  REQUIRE(sync->writes.size() == 1);
  CHECK(sync->writes[0].first == &storage[2]);
  CHECK(sync->writes[0].second == 4);
  const Registers values{9};
  CHECK(f.setRecords(5, 0, values) == ExceptionCode::None);
  CHECK(storage[0] == 9);
  CHECK(sync->writes.size() == 2);
  CHECK_THROWS_AS(f.placeFile(0, storage), std::invalid_argument);
}

TEST_CASE("a write whose storage cannot be synced answers ServerDeviceFailure") {
  std::array<std::uint16_t, 2> storage = {};
  auto sync = std::make_shared<RecordingSync>();
  sync->refuse = true;
  FileRecords f;
  f.placeFile(1, storage);
  f.setStorageSync(sync);
  const std::array<std::uint8_t, 2> in = {0, 7};
  CHECK(f.writeRecords(1, 0, 1, in.data()) == ExceptionCode::ServerDeviceFailure);
}

TEST_CASE("a copy of the files owns copies of its records") {
  FileRecords f;
  f.addFile(1, Registers{1, 2});
  FileRecords copy = f;
  CHECK(copy.setRecords(1, 0, Registers{5}) == ExceptionCode::None);
  CHECK(f.getRecords(1, 0, 1) == Registers{1});
  CHECK(copy.getRecords(1, 0, 1) == Registers{5});
}

}  // namespace
}  // namespace modbus
