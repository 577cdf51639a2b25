// Tests for protocols/console/console_token.h and checkConsoleEndpoint (console_server.h): token
// files only their owner can read, generated token files, loopback-only endpoints.
#include "protocols/console/console_token.h"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "protocols/console/console_server.h"
#include "reactor/endpoints.h"
#include "tests/support/temp_dir.h"

namespace {

std::string writeFile(const testsupport::TempDir& dir, const std::string& name, const std::string& text, mode_t mode) {
  std::string path = dir.file(name);
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

std::string errorOf(const std::string& path) {
  try {
    modbus::readConsoleToken(path);
  } catch (const modbus::ConsoleError& e) {
    return e.what();
  }
  return "no error";
}

mode_t modeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("console token: the first line of a 0600 file, without its line end") {
  testsupport::TempDir dir;
  CHECK(modbus::readConsoleToken(writeFile(dir, "t", "abc123\r\nsecond line\n", 0600)) == "abc123");
  CHECK(modbus::readConsoleToken(writeFile(dir, "u", "no-newline", 0400)) == "no-newline");
}

TEST_CASE("console token: a file readable by group or others is refused, naming the file and its mode") {
  testsupport::TempDir dir;
  std::string open = writeFile(dir, "open", "abc\n", 0644);
  std::string error = errorOf(open);
  CHECK(error.find(open) != std::string::npos);
  CHECK(error.find("0644") != std::string::npos);
  CHECK(error.find("chmod 600") != std::string::npos);
  CHECK(errorOf(writeFile(dir, "g", "abc\n", 0640)).find("0640") != std::string::npos);
  CHECK(errorOf(writeFile(dir, "w", "abc\n", 0602)).find("0602") != std::string::npos);
}

TEST_CASE("console token: a missing, empty or non-regular token file is refused") {
  testsupport::TempDir dir;
  CHECK(errorOf(dir.file("absent")).find("No such file") != std::string::npos);
  CHECK(errorOf(writeFile(dir, "empty", "\nlater\n", 0600)).find("holds no token") != std::string::npos);
  CHECK(errorOf(dir.path()).find("not a regular file") != std::string::npos);
}

TEST_CASE("console token: a generated token file is 0600 in a new 0700 directory under XDG_RUNTIME_DIR") {
  testsupport::TempDir dir;
  const char* old = std::getenv("XDG_RUNTIME_DIR");
  std::string saved = old != nullptr ? old : "";
  ::setenv("XDG_RUNTIME_DIR", dir.path().c_str(), 1);
  std::string token;
  std::string path = modbus::createConsoleTokenFile(token);
  std::string token2;
  std::string path2 = modbus::createConsoleTokenFile(token2);
  if (old != nullptr) {
    ::setenv("XDG_RUNTIME_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("XDG_RUNTIME_DIR");
  }
  CHECK(path.rfind(dir.path() + "/uvmodbus-console-", 0) == 0);
  CHECK(token.size() == 64);
  CHECK(token != token2);
  CHECK(path != path2);
  CHECK(modeOf(path) == 0600);
  CHECK(modeOf(std::filesystem::path(path).parent_path().string()) == 0700);
  CHECK(modbus::readConsoleToken(path) == token);
}

TEST_CASE("console token: matching is exact") {
  CHECK(modbus::consoleTokenMatches("abc", "abc"));
  CHECK_FALSE(modbus::consoleTokenMatches("abc", "abd"));
  CHECK_FALSE(modbus::consoleTokenMatches("abc", "ab"));
  CHECK_FALSE(modbus::consoleTokenMatches("abc", "abcd"));
  CHECK_FALSE(modbus::consoleTokenMatches("abc", ""));
  CHECK_FALSE(modbus::consoleTokenMatches("", ""));
}

TEST_CASE("console endpoint: loopback tcp and unix sockets pass, anything reachable from elsewhere is refused") {
  CHECK_NOTHROW(modbus::checkConsoleEndpoint("tcp:0:interface=127.0.0.1"));
  CHECK_NOTHROW(modbus::checkConsoleEndpoint("tcp:9020:127.0.0.2"));
  CHECK_NOTHROW(modbus::checkConsoleEndpoint("tcp6:0:interface=\\:\\:1"));
  CHECK_NOTHROW(modbus::checkConsoleEndpoint("unix:/run/uvmodbus/console.sock"));
  auto error = [](const char* endpoint) {
    try {
      modbus::checkConsoleEndpoint(endpoint);
    } catch (const reactor::EndpointError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("tcp:9020").find("every address") != std::string::npos);
  CHECK(error("tcp:9020:interface=0.0.0.0").find("not on 0.0.0.0") != std::string::npos);
  CHECK(error("tcp:9020:interface=10.1.2.3").find("not on 10.1.2.3") != std::string::npos);
  CHECK(error("tcp6:9020:interface=\\:\\:").find("not on ::") != std::string::npos);
  CHECK(error("tcp:9020:interface=localhost").find("not on localhost") != std::string::npos);
  CHECK(error("udp:9020:interface=127.0.0.1").find("not 'udp:'") != std::string::npos);
  CHECK(error("tls:9020:interface=127.0.0.1").find("not 'tls:'") != std::string::npos);
}
