// Smoke tests of samples 15-17 (as samples_test.cc does for the others; a file of its own so that
// samples added elsewhere at the same time do not collide): the LineReceiver chat with two Python
// socket clients, the coroutine chain's output, and the write observer under libmodbus writes.
#include <modbus/modbus.h>
#include <signal.h>

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "tests/support/subprocess.h"

using testsupport::Subprocess;

namespace {

constexpr double kStartTimeout = 10.0;
constexpr double kExitTimeout = 5.0;

bool samplesConfigured() { return std::filesystem::is_directory(testsupport::buildDir() + "/samples"); }

std::string samplePath(const std::string& name) {
  std::string path = testsupport::buildDir() + "/samples/" + name;
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing " << path << ": build the `samples` target");
  return path;
}

int portFrom(Subprocess& p, const std::string& regex) {
  auto m = p.waitForLine(regex, kStartTimeout);
  REQUIRE_MESSAGE(m.has_value(), "no listening line; output:\n" << p.output());
  return std::stoi((*m)[1]);
}

// Two clients: alice joins, bob joins, bob tries alice's name, then each says something. Every
// read has a 10 s timeout; prints what each client received.
constexpr const char* kChatClients = R"(
import socket, sys
port = int(sys.argv[1])
def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return [s, b""]
def line(c):
    while b"\r\n" not in c[1] and b"\n" not in c[1]:
        chunk = c[0].recv(4096)
        if not chunk:
            return None
        c[1] += chunk
    l, _, c[1] = c[1].partition(b"\n")
    return l.rstrip(b"\r").decode()
a = connect(); print("a:", line(a))
a[0].sendall(b"alice\r\n"); print("a:", line(a))
b = connect(); print("b:", line(b))
b[0].sendall(b"alice\r\n"); print("b:", line(b))
b[0].sendall(b"bob\r\n"); print("b:", line(b))
a[0].sendall(b"hello bob\r\n"); print("b:", line(b))
b[0].sendall(b"hi alice\n"); print("a:", line(a))
)";

}  // namespace

TEST_CASE("sample 15_line_chat relays each line to the other users under the sender's name" *
          doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("15_line_chat"), "0", "127.0.0.1"});
  int port = portFrom(p, R"(chat listening on 127\.0\.0\.1:(\d+))");
  Subprocess clients({"/usr/bin/python3", "-c", kChatClients, std::to_string(port)});
  CHECK(clients.wait(20) == std::optional<int>(0));
  CHECK(clients.output() ==
        "a: What's your name?\n"
        "a: Welcome, alice!\n"
        "b: What's your name?\n"
        "b: Name taken, please choose another.\n"
        "b: Welcome, bob!\n"
        "b: <alice> hello bob\n"
        "a: <bob> hi alice\n");
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
}

TEST_CASE("sample 16_coroutine_chain: the coroutine's result, and a pool thread's exception as an errback" *
          doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("16_coroutine_chain"), "0.01"});
  CHECK(p.wait(kStartTimeout) == std::optional<int>(0));
  std::string out = p.output();
  CHECK(out.find("average: 20.0\n") != std::string::npos);
  CHECK(out.find("errback: UserError: sensor 2 did not answer\n") != std::string::npos);
  CHECK(out.find("unexpected") == std::string::npos);
}

TEST_CASE("sample 17_write_observer prints what a libmodbus client writes" * doctest::skip(!samplesConfigured())) {
  Subprocess p({samplePath("17_write_observer"), "tcp:0:interface=127.0.0.1"});
  int port = portFrom(p, R"(listening on tcp 127\.0\.0\.1:(\d+))");
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
  REQUIRE(ctx != nullptr);
  modbus_set_response_timeout(ctx, 5, 0);
  modbus_set_slave(ctx, 1);
  REQUIRE(modbus_connect(ctx) == 0);
  const std::uint16_t values[] = {7, 8, 9};
  CHECK(modbus_write_registers(ctx, 10, 3, values) == 3);
  CHECK(modbus_write_bit(ctx, 4, 1) == 1);
  std::uint16_t back[3] = {};
  CHECK(modbus_read_registers(ctx, 10, 3, back) == 3);  // a read prints nothing
  modbus_close(ctx);
  modbus_free(ctx);
  CHECK(p.waitForLine(R"(client wrote unit 1 holding_registers 10 = 7 8 9)", kStartTimeout).has_value());
  CHECK(p.waitForLine(R"(client wrote unit 1 coils 4 = 1)", kStartTimeout).has_value());
  p.signal(SIGTERM);
  CHECK(p.wait(kExitTimeout) == std::optional<int>(0));
  CHECK(p.output().find("client wrote unit 1 holding_registers 10 = 7 8 9\nclient wrote unit 1 coils 4 = 1\n") !=
        std::string::npos);
}
