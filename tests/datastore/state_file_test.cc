// Tests for datastore/persistent/state_file.h: the state file's format and every way it is refused.
#include "datastore/persistent/state_file.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace modbus {
namespace {

using testsupport::TempDir;

const StateLayout kLayout = {
    {StateTableKind::Coils, 0, 0, 20},
    {StateTableKind::HoldingRegisters, 0, 100, 50},
    {StateTableKind::FileRecords, 3, 0, 10},
};

std::string errorOf(const std::string& path, const StateLayout& layout, StateFileError::Reason* reason = nullptr) {
  try {
    StateFile file(path, layout, SyncPolicy::None);
  } catch (const StateFileError& e) {
    if (reason != nullptr) *reason = e.reason();
    return e.what();
  }
  return "no error";
}

std::vector<char> readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void writeAll(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A state file with holding register 100 = 0xBEEF, closed again.
std::string makeFile(const TempDir& dir) {
  const std::string path = dir.file("unit-1.state");
  StateFile file(path, kLayout, SyncPolicy::None, false, [](StateFile& f) { f.registers(1)[0] = 0xBEEF; });
  CHECK(file.created());
  return path;
}

TEST_CASE("state file: a new file is seeded, and a later open restores the stored values") {
  TempDir dir;
  const std::string path = makeFile(dir);
  CHECK_FALSE(std::filesystem::exists(path + ".new"));
  {
    StateFile again(path, kLayout, SyncPolicy::None, false, [](StateFile&) { FAIL("a stored file is not reseeded"); });
    CHECK_FALSE(again.created());
    CHECK(again.registers(1)[0] == 0xBEEF);
    again.registers(1)[49] = 7;
    again.bits(0)[19] = 1;
    again.registers(2)[9] = 99;
  }
  StateFile third(path, kLayout, SyncPolicy::None);
  CHECK(third.registers(1)[49] == 7);
  CHECK(third.bits(0)[19] == 1);
  CHECK(third.registers(2)[9] == 99);
  CHECK(third.bits(0)[0] == 0);
}

TEST_CASE("state file: the layout may be given in another order") {
  TempDir dir;
  const std::string path = makeFile(dir);
  StateLayout reordered = {kLayout[2], kLayout[0], kLayout[1]};
  StateFile file(path, reordered, SyncPolicy::None);
  CHECK(file.registers(2)[0] == 0xBEEF);
}

TEST_CASE("state file: a changed layout is refused naming every difference") {
  TempDir dir;
  const std::string path = makeFile(dir);
  StateLayout changed = {
      {StateTableKind::Coils, 0, 0, 20},
      {StateTableKind::HoldingRegisters, 0, 100, 60},
      {StateTableKind::InputRegisters, 0, 0, 5},
  };
  StateFileError::Reason reason{};
  std::string what = errorOf(path, changed, &reason);
  CHECK(reason == StateFileError::Reason::LayoutChanged);
  CHECK(what.find("written for other tables") != std::string::npos);
  CHECK(what.find("holding_registers: stored 50 from 100, configured 60 from 100") != std::string::npos);
  CHECK(what.find("input_registers: configured (5 from 0), not in the stored state") != std::string::npos);
  CHECK(what.find("file 3: stored (10 from 0), no longer configured") != std::string::npos);
  // The refused file is untouched.
  StateFile file(path, kLayout, SyncPolicy::None);
  CHECK(file.registers(1)[0] == 0xBEEF);
}

TEST_CASE("state file: reset replaces a stored file by a newly seeded one, even for another layout") {
  TempDir dir;
  const std::string path = makeFile(dir);
  StateLayout changed = {{StateTableKind::HoldingRegisters, 0, 100, 60}};
  StateFile file(path, changed, SyncPolicy::None, /*reset=*/true, [](StateFile& f) { f.registers(0)[59] = 5; });
  CHECK(file.created());
  CHECK(file.registers(0)[0] == 0);
  CHECK(file.registers(0)[59] == 5);
}

TEST_CASE("state file: a truncated file is refused, never read as zeros") {
  TempDir dir;
  const std::string path = makeFile(dir);
  std::vector<char> bytes = readAll(path);
  StateFileError::Reason reason{};

  writeAll(path, std::vector<char>(bytes.begin(), bytes.end() - 100));
  std::string what = errorOf(path, kLayout, &reason);
  CHECK(reason == StateFileError::Reason::Damaged);
  CHECK(what.find("damaged state file: truncated") != std::string::npos);

  writeAll(path, std::vector<char>(bytes.begin(), bytes.begin() + 100));
  CHECK(errorOf(path, kLayout).find("truncated: 100 bytes, the header alone has") != std::string::npos);

  writeAll(path, std::vector<char>(bytes.begin(), bytes.begin() + 10));
  CHECK(errorOf(path, kLayout).find("truncated: 10 bytes, shorter than the header") != std::string::npos);

  writeAll(path, {});
  CHECK(errorOf(path, kLayout).find("truncated: 0 bytes") != std::string::npos);
}

TEST_CASE("state file: a bad magic, another version or a damaged header is refused") {
  TempDir dir;
  const std::string path = makeFile(dir);
  const std::vector<char> good = readAll(path);

  std::vector<char> bytes = good;
  bytes[0] = 'X';
  writeAll(path, bytes);
  CHECK(errorOf(path, kLayout).find("bad magic: not a uvmodbus state file") != std::string::npos);

  bytes = good;
  bytes[8] = 9;  // format version 9
  writeAll(path, bytes);
  CHECK(errorOf(path, kLayout).find("format version 9, this build reads version 1") != std::string::npos);

  bytes = good;
  bytes[40 + 24 + 8] ^= 0x01;  // the holding registers' count
  writeAll(path, bytes);
  CHECK(errorOf(path, kLayout).find("header checksum mismatch") != std::string::npos);

  bytes = good;
  bytes[bytes.size() - 1] ^= 0x7F;  // data is not checksummed: a value changed between writes is normal
  writeAll(path, bytes);
  CHECK(errorOf(path, kLayout) == "no error");
}

TEST_CASE("state file: check reports a first start, a match, or the refusal an open would give, changing nothing") {
  TempDir dir;
  CHECK_FALSE(StateFile::check(dir.file("unit-1.state"), kLayout));
  const std::string path = makeFile(dir);
  StateFile running(path, kLayout, SyncPolicy::None);  // a running server's file is checked too
  CHECK(StateFile::check(path, kLayout));
  StateLayout changed = {{StateTableKind::Coils, 0, 0, 21}};
  try {
    StateFile::check(path, changed);
    FAIL("a changed layout passed the check");
  } catch (const StateFileError& e) {
    CHECK(e.reason() == StateFileError::Reason::LayoutChanged);
  }
  CHECK(running.registers(1)[0] == 0xBEEF);
}

TEST_CASE("state file: a second open of a file in use is refused") {
  TempDir dir;
  const std::string path = makeFile(dir);
  StateFile first(path, kLayout, SyncPolicy::None);
  StateFileError::Reason reason{};
  CHECK(errorOf(path, kLayout, &reason).find("is in use by another process") != std::string::npos);
  CHECK(reason == StateFileError::Reason::InUse);
}

TEST_CASE("state file: a seed that throws leaves no state file behind") {
  TempDir dir;
  const std::string path = dir.file("unit-1.state");
  CHECK_THROWS_AS(StateFile(path, kLayout, SyncPolicy::None, false, [](StateFile&) { throw std::runtime_error("x"); }),
                  std::runtime_error);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".new"));
}

TEST_CASE("state file: flush and an always-synced write succeed on a mapped range") {
  TempDir dir;
  StateFile file(dir.file("s.state"), kLayout, SyncPolicy::Always);
  file.registers(1)[3] = 1;
  CHECK(file.written(file.registers(1) + 3, 2));
  CHECK(file.written(file.bits(0), 20));
  CHECK(file.flush());
}

TEST_CASE("state file: a directory that cannot be written is an I/O error naming the path") {
  StateFileError::Reason reason{};
  std::string what = errorOf("/proc/uvmodbus-no-such-dir/unit-1.state", kLayout, &reason);
  CHECK(reason == StateFileError::Reason::Io);
  CHECK(what.find("/proc/uvmodbus-no-such-dir/unit-1.state.new: cannot create") != std::string::npos);
}

}  // namespace
}  // namespace modbus
