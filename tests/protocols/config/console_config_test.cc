// "console" in the JSON configuration (console_config.h): the endpoint checked for loopback, the
// token file read and its mode checked, every refusal naming its JSON path.
#include "protocols/config/console_config.h"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "tests/protocols/config/config_test_support.h"
#include "tests/support/temp_dir.h"

using modbus::testing::errorOf;
using modbus::testing::withUnits;

namespace {

const std::string kUnits = R"({"1": {"holding_registers": {"count": 10}}})";

std::string console(const std::string& endpoint, const std::string& tokenFile) {
  return R"("console": {"endpoint": ")" + endpoint + R"(", "token_file": ")" + tokenFile + R"("})";
}

std::string tokenFile(const testsupport::TempDir& dir, mode_t mode) {
  std::string path = dir.file("token");
  std::ofstream(path) << "t0ken\n";
  ::chmod(path.c_str(), mode);
  return path;
}

}  // namespace

TEST_CASE("console config: endpoint and token file, the token read") {
  testsupport::TempDir dir;
  auto c = modbus::parseServerConfig(withUnits(kUnits, console("tcp:9020:interface=127.0.0.1", tokenFile(dir, 0600))));
  REQUIRE(c.console.has_value());
  CHECK(c.console->endpoint == "tcp:9020:interface=127.0.0.1");
  CHECK(c.console->token == "t0ken");
  CHECK_FALSE(modbus::parseServerConfig(withUnits(kUnits)).console.has_value());
}

TEST_CASE("console config: an endpoint other than loopback or unix: is refused at configuration time") {
  testsupport::TempDir dir;
  std::string file = tokenFile(dir, 0600);
  CHECK(errorOf(withUnits(kUnits, console("tcp:9020", file))).rfind("console.endpoint: ", 0) == 0);
  CHECK(errorOf(withUnits(kUnits, console("tcp:9020:interface=192.168.1.10", file)))
            .find("console.endpoint: the console listens on loopback only") == 0);
  CHECK(errorOf(withUnits(kUnits, console("udp:9020:interface=127.0.0.1", file))).rfind("console.endpoint: ", 0) == 0);
}

TEST_CASE("console config: a token file others can read, or none, is refused naming the key and the file") {
  testsupport::TempDir dir;
  std::string file = tokenFile(dir, 0644);
  std::string error = errorOf(withUnits(kUnits, console("tcp:9020:interface=127.0.0.1", file)));
  CHECK(error.rfind("console.token_file: ", 0) == 0);
  CHECK(error.find(file) != std::string::npos);
  CHECK(error.find("0644") != std::string::npos);
  CHECK(errorOf(withUnits(kUnits, console("tcp:9020:interface=127.0.0.1", dir.file("absent"))))
            .rfind("console.token_file: ", 0) == 0);
  CHECK(errorOf(withUnits(kUnits, R"("console": {"endpoint": "tcp:9020:interface=127.0.0.1"})"))
            .find("missing \"token_file\"") != std::string::npos);
  CHECK(errorOf(withUnits(kUnits, R"("console": {"token_file": "x"})")).find("missing \"endpoint\"") !=
        std::string::npos);
  CHECK(errorOf(withUnits(kUnits, R"("console": {"endpoint": "unix:/x", "token_file": "x", "port": 1})"))
            .find("console") != std::string::npos);
}
