// Smoke tests of samples 12_custom_transport (Modbus over stdin/stdout through a transport written
// in the sample) and 13_reconnecting_client (a ReconnectingClientFactory poller that survives its
// server's restart; the server is sample 02 on a unix: endpoint, so the restart reuses the same path
// without a port race). Bounded waits on the processes' output; nothing sleeps.
#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>
#include <optional>
#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

using testsupport::Subprocess;

namespace {

constexpr double kTimeout = 10.0;

bool samplesConfigured() { return std::filesystem::is_directory(testsupport::buildDir() + "/samples"); }

std::string samplePath(const std::string& name) {
  std::string path = testsupport::buildDir() + "/samples/" + name;
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing " << path << ": build the `samples` target");
  return path;
}

std::unique_ptr<Subprocess> startServer(const std::string& socket) {
  auto server = std::make_unique<Subprocess>(
      std::vector<std::string>{samplePath("02_modbus_tcp_server"), "unix:" + socket + ":mode=0600"});
  REQUIRE_MESSAGE(server->waitForLine("listening on unix:", kTimeout).has_value(),
                  "sample 02 did not listen on unix:" << socket << "; output:\n" << server->output());
  return server;
}

}  // namespace

TEST_CASE("sample 12_custom_transport answers MBAP written to its stdin on its stdout" *
          doctest::skip(!samplesConfigured())) {
  // FC 3, 2 registers at 0, unit 1, transaction 0x0001; od prints what came back on stdout. The
  // sample's log goes to stderr, kept apart.
  const std::string command = "printf '\\000\\001\\000\\000\\000\\006\\001\\003\\000\\000\\000\\002' | '" +
                              samplePath("12_custom_transport") + "' 2>/dev/null | od -An -tx1 -v; echo \"exit=$?\"";
  Subprocess p({"/bin/sh", "-c", command});
  // Transaction 1, length 7, unit 1, FC 3, 4 bytes: 17 and 17 (sample 02's device).
  CHECK_MESSAGE(p.waitForLine("00 01 00 00 00 07 01 03 04 00 11 00 11", kTimeout).has_value(),
                "no answer on stdout; output:\n" << p.output());
  CHECK(p.waitForLine("exit=0", kTimeout).has_value());
  CHECK(p.wait(kTimeout) == std::optional<int>(0));
}

TEST_CASE("sample 13_reconnecting_client keeps polling across a restart of its server" *
          doctest::skip(!samplesConfigured())) {
  testsupport::TempDir dir("uvm-s13");
  const std::string socket = dir.file("m.sock");
  auto server = startServer(socket);
  Subprocess client({samplePath("13_reconnecting_client"), "unix:" + socket, "0.05"});
  REQUIRE_MESSAGE(client.waitForLine("read unit 1 hr 0\\.\\.1: 17 17", kTimeout).has_value(),
                  "no answer; output:\n" << client.output());

  server->signal(SIGTERM);
  CHECK(server->wait(kTimeout) == std::optional<int>(0));
  server.reset();
  CHECK_MESSAGE(client.waitForLine("connection lost", kTimeout).has_value(), client.output());
  // Connection refused while the server is away, and the factory retries with back-off.
  CHECK_MESSAGE(client.waitForLine("retrying in", kTimeout).has_value(), client.output());

  server = startServer(socket);
  CHECK_MESSAGE(client.waitForLine("connected to unix:", kTimeout).has_value(), client.output());
  CHECK_MESSAGE(client.waitForLine("read unit 1 hr 0\\.\\.1: 17 17", kTimeout).has_value(), client.output());
  client.signal(SIGTERM);
  CHECK(client.wait(kTimeout) == std::optional<int>(0));
  server->signal(SIGTERM);
  CHECK(server->wait(kTimeout) == std::optional<int>(0));
}
