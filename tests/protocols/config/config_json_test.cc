// Tests for protocols/config/detail/config_json: the bounded reading of a configuration file and
// the nesting limit of the parser (issue 13: /dev/zero, FIFOs, directories and deep nesting).
#include "protocols/config/detail/config_json.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/support/certs.h"
#include "tests/support/subprocess.h"

using modbus::config::kMaxConfigFileBytes;
using modbus::config::kMaxJsonDepth;
using modbus::config::parseJson;
using modbus::config::readConfigFile;

namespace {

std::string readError(const std::string& path) {
  try {
    readConfigFile(path);
  } catch (const modbus::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string parseError(const std::string& text) {
  try {
    parseJson(text);
  } catch (const modbus::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

/// A scratch directory under the build directory, removed with everything in it.
struct ScratchDir {
  std::string path = testsupport::buildDir() + "/config_json_test_" + std::to_string(::getpid());
  ScratchDir() { std::filesystem::create_directories(path); }
  ~ScratchDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("config file: a regular file is read whole") {
  ScratchDir dir;
  const std::string text = R"({"servers": [], "units": {}})";
  testsupport::writeTextFile(dir.path + "/ok.json", text);
  CHECK(readConfigFile(dir.path + "/ok.json") == text);
}

TEST_CASE("config file: a directory, a FIFO and a device are refused without reading them") {
  ScratchDir dir;
  CHECK(readError(dir.path) == dir.path + ": is a directory, not a configuration file");
  const std::string fifo = dir.path + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // No writer ever opens it: a blocking open or read would hang here.
  CHECK(readError(fifo) == fifo + ": is not a regular file (a FIFO, a device or a socket); give a JSON file");
  CHECK(readError("/dev/zero") == "/dev/zero: is not a regular file (a FIFO, a device or a socket); give a JSON file");
  CHECK(readError("/dev/urandom") ==
        "/dev/urandom: is not a regular file (a FIFO, a device or a socket); give a JSON file");
  CHECK(readError(dir.path + "/missing.json") == dir.path + "/missing.json: cannot read: No such file or directory");
}

TEST_CASE("config file: 16 MiB is read, one byte more is refused") {
  ScratchDir dir;
  const std::string atLimit = dir.path + "/at-limit.json";
  const std::string over = dir.path + "/over.json";
  std::filesystem::resize_file((testsupport::writeTextFile(atLimit, " "), atLimit), kMaxConfigFileBytes);
  std::filesystem::resize_file((testsupport::writeTextFile(over, " "), over), kMaxConfigFileBytes + 1);
  CHECK(readConfigFile(atLimit).size() == kMaxConfigFileBytes);
  CHECK(readError(over) == over + ": is longer than 16 MiB, the most a configuration file may be");
}

TEST_CASE("config parser: 64 levels of nesting parse, the 65th is refused with its path") {
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  CHECK(parseError(ok) == "no error");
  // Levels 1 and 2 are the objects; the 63rd array is the 65th level, at units.1 + 62 × "[0]".
  std::string path = "units.1";
  for (std::size_t i = 0; i < kMaxJsonDepth - 2; ++i) path += "[0]";
  CHECK(parseError(R"({"units": {"1": )" + std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']') +
                   "}}") == path + ": nested deeper than 64 levels");
  CHECK(parseError(R"({"units": {"1": )" + std::string(kMaxJsonDepth - 2, '[') + std::string(kMaxJsonDepth - 2, ']') +
                   "}}") == "no error");
}

TEST_CASE("config parser: 100 000 levels of nesting stop at the 65th without parsing the rest") {
  const std::string deep(100000, '[');
  std::string message = parseError(deep);
  CHECK(message.ends_with(": nested deeper than 64 levels"));
  CHECK(message.starts_with("[0][0]"));
}
