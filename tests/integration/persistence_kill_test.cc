// The persistent store's promise, tested as an adversary (issue 11 §1): a libmodbus client writes
// random values with FC 5, 6, 15, 16 and 23 and logs each acknowledgment, while the test kills the
// real uvmodbus-server with SIGKILL at random moments (20 rounds, each sync policy in turn), restarts
// it on the same state directory and checks that every register and coil holds its last
// acknowledged value, or the value of the one write in flight at the kill. Also the state file's
// refusals as the command reports them: changed tables, a truncated file, a bad magic.
#include <modbus/modbus.h>
#include <signal.h>

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

using testsupport::Subprocess;
using testsupport::TempDir;

namespace {

constexpr double kStartTimeout = 10.0;
constexpr double kExitTimeout = 5.0;
constexpr int kTable = 100;  // holding registers 0..99 and coils 0..99
constexpr const char* kListening = R"(listening on tcp 127\.0\.0\.1:(\d+))";

std::string serverPath() { return testsupport::buildDir() + "/uvmodbus-server"; }

/// A configuration whose unit 1 persists in `dir` with `sync`, written to `dir`/server.json.
std::string writeConfig(const TempDir& dir, const std::string& sync, int registers = kTable) {
  const std::string path = dir.file("server.json");
  std::ofstream out(path, std::ios::trunc);
  out << R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}], "store": "persistent",
             "persistence": {"dir": ")"
      << dir.path() << R"(", "sync": ")" << sync << R"("},
             "units": {"1": {"holding_registers": {"count": )"
      << registers << R"(, "values": [7, 8, 9]}, "coils": {"count": 100}}}})";
  return path;
}

int listeningPort(Subprocess& p) {
  auto m = p.waitForLine(kListening, kStartTimeout);
  REQUIRE_MESSAGE(m.has_value(), "no listening line; output:\n" << p.output());
  return std::stoi((*m)[1]);
}

/// A libmodbus TCP client, freed on every path.
class Client {
 public:
  explicit Client(int port) : ctx_(modbus_new_tcp("127.0.0.1", port)) {
    REQUIRE(ctx_ != nullptr);
    modbus_set_slave(ctx_, 1);
    modbus_set_response_timeout(ctx_, 2, 0);
    REQUIRE(modbus_connect(ctx_) == 0);
  }
  ~Client() {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  modbus_t* get() { return ctx_; }

 private:
  modbus_t* ctx_;
};

/// One write: its function code, first address and values (bits as 0/1).
struct Write {
  int function = 0;
  int address = 0;
  std::vector<std::uint16_t> values;
};

/// What the server must hold: per address the last acknowledged value, and the write in flight
/// (sent, not acknowledged) when the connection died.
struct Model {
  std::array<std::uint16_t, kTable> registers{};
  std::array<std::uint16_t, kTable> coils{};
  std::optional<Write> inFlight;
  std::size_t acknowledged = 0;

  void apply(const Write& w) {
    auto& table = (w.function == 5 || w.function == 15) ? coils : registers;
    for (std::size_t i = 0; i < w.values.size(); ++i) table[w.address + i] = w.values[i];
  }
  /// True when `value` at `address` of the coils or registers is what the promise allows.
  bool allows(bool coil, int address, std::uint16_t value) const {
    if ((coil ? coils : registers)[address] == value) return true;
    if (!inFlight) return false;
    const bool inFlightCoil = inFlight->function == 5 || inFlight->function == 15;
    const int offset = address - inFlight->address;
    return inFlightCoil == coil && offset >= 0 && offset < static_cast<int>(inFlight->values.size()) &&
           inFlight->values[offset] == value;
  }
};

Write randomWrite(std::mt19937& rng) {
  static constexpr int kFunctions[] = {5, 6, 15, 16, 23};
  Write w;
  w.function = kFunctions[rng() % 5];
  int count = (w.function == 5 || w.function == 6) ? 1 : 1 + static_cast<int>(rng() % 20);
  w.address = static_cast<int>(rng() % (kTable - count + 1));
  for (int i = 0; i < count; ++i) {
    w.values.push_back(static_cast<std::uint16_t>((w.function == 5 || w.function == 15) ? rng() % 2 : rng() % 65536));
  }
  return w;
}

/// Sends `w`; true when the server acknowledged it.
bool send(modbus_t* ctx, const Write& w) {
  const int n = static_cast<int>(w.values.size());
  switch (w.function) {
    case 5: return modbus_write_bit(ctx, w.address, w.values[0]) == 1;
    case 6: return modbus_write_register(ctx, w.address, w.values[0]) == 1;
    case 15: {
      std::vector<std::uint8_t> bits(w.values.begin(), w.values.end());
      return modbus_write_bits(ctx, w.address, n, bits.data()) == n;
    }
    case 16: return modbus_write_registers(ctx, w.address, n, w.values.data()) == n;
    default: {
      std::uint16_t readBack[1] = {};
      return modbus_write_and_read_registers(ctx, w.address, n, w.values.data(), 0, 1, readBack) == 1;
    }
  }
}

/// Reads every register and coil and checks each against the model; returns how many mismatched.
int checkServer(int port, const Model& model, int round) {
  Client client(port);
  std::array<std::uint16_t, kTable> registers{};
  std::array<std::uint8_t, kTable> coils{};
  REQUIRE(modbus_read_registers(client.get(), 0, kTable, registers.data()) == kTable);
  REQUIRE(modbus_read_bits(client.get(), 0, kTable, coils.data()) == kTable);
  int mismatches = 0;
  for (int a = 0; a < kTable; ++a) {
    if (!model.allows(false, a, registers[a])) {
      ++mismatches;
      FAIL_CHECK("round " << round << ": holding register " << a << " = " << registers[a] << ", last acknowledged "
                          << model.registers[a]);
    }
    if (!model.allows(true, a, coils[a])) {
      ++mismatches;
      FAIL_CHECK("round " << round << ": coil " << a << " = " << int{coils[a]} << ", last acknowledged "
                          << model.coils[a]);
    }
  }
  return mismatches;
}

}  // namespace

TEST_CASE("persistent store: every acknowledged write survives kill -9 of the server, 20 rounds, every sync policy") {
  TempDir dir("uvmodbus-kill");
  const std::uint32_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  Model model;
  model.registers[0] = 7;  // the configured first values
  model.registers[1] = 8;
  model.registers[2] = 9;
  const char* policies[] = {"none", "periodic", "always"};
  const auto testDeadline = std::chrono::steady_clock::now() + std::chrono::seconds(50);

  for (int round = 0; round < 20; ++round) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < testDeadline, "20 rounds did not finish in 50 s");
    const std::string sync = policies[round % 3];
    Subprocess server({serverPath(), "--config", writeConfig(dir, sync)});
    const int port = listeningPort(server);
    CHECK(server.output().find(round == 0 ? "units.1: first start: created" : "units.1: restored the stored values") !=
          std::string::npos);
    // Every value the previous kill left must be one the promise allows.
    REQUIRE(checkServer(port, model, round) == 0);
    // Reads may settle an in-flight write either way; from now on the server's value is the truth.
    if (model.inFlight) {
      Client probe(port);
      std::array<std::uint16_t, kTable> registers{};
      std::array<std::uint8_t, kTable> coils{};
      REQUIRE(modbus_read_registers(probe.get(), 0, kTable, registers.data()) == kTable);
      REQUIRE(modbus_read_bits(probe.get(), 0, kTable, coils.data()) == kTable);
      for (int a = 0; a < kTable; ++a) {
        model.registers[a] = registers[a];
        model.coils[a] = coils[a];
      }
      model.inFlight.reset();
    }

    // The writer: one write at a time, each logged as in flight before it is sent and as
    // acknowledged when its answer arrives; it stops at the first failure (the kill).
    std::mutex mutex;
    std::condition_variable acked;
    std::atomic<bool> stop{false};
    const std::size_t target = model.acknowledged + 20 + rng() % 300;
    std::mt19937 writerRng(rng());
    Client client(port);  // connected here: the writer thread makes no doctest assertions
    std::thread writer([&] {
      for (int i = 0; i < 100000 && !stop; ++i) {
        Write w = randomWrite(writerRng);
        {
          std::lock_guard<std::mutex> lock(mutex);
          model.inFlight = w;
        }
        bool ok = send(client.get(), w);
        std::lock_guard<std::mutex> lock(mutex);
        if (!ok) break;  // the in-flight write stays logged as such
        model.apply(w);
        model.inFlight.reset();
        ++model.acknowledged;
        acked.notify_all();
      }
      acked.notify_all();
    });
    {
      std::unique_lock<std::mutex> lock(mutex);
      bool reached = acked.wait_for(lock, std::chrono::seconds(10), [&] { return model.acknowledged >= target; });
      CHECK_MESSAGE(reached, "round " << round << " (" << sync << "): only " << model.acknowledged << " of " << target
                                      << " writes acknowledged in 10 s");
    }
    server.signal(SIGKILL);  // while the writer keeps writing: a random moment in its stream
    CHECK(server.wait(kExitTimeout) == std::optional<int>(128 + SIGKILL));
    stop = true;
    writer.join();
  }
  Subprocess last({serverPath(), "--config", writeConfig(dir, "none")});
  CHECK(checkServer(listeningPort(last), model, 20) == 0);
}

TEST_CASE("persistent store: uvmodbus-server refuses changed tables (exit 2) until --reset-state") {
  TempDir dir("uvmodbus-layout");
  {
    Subprocess first({serverPath(), "--config", writeConfig(dir, "none")});
    listeningPort(first);
  }
  const std::string changedConfig = writeConfig(dir, "none", 120);
  Subprocess check({serverPath(), "--config", changedConfig, "--check"});  // --check says so too
  CHECK(check.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(check.output().find("holding_registers: stored 100 from 0, configured 120 from 0") != std::string::npos);
  Subprocess checkReset({serverPath(), "--config", changedConfig, "--check", "--reset-state"});
  CHECK(checkReset.wait(kExitTimeout) == std::optional<int>(0));

  Subprocess changed({serverPath(), "--config", changedConfig});
  CHECK(changed.wait(kExitTimeout) == std::optional<int>(2));
  CHECK(changed.output().find("units.1: " + dir.file("unit-1.state") +
                              ": the stored state was written for other tables: holding_registers: stored 100 from 0, "
                              "configured 120 from 0") != std::string::npos);
  CHECK(changed.output().find("--reset-state") != std::string::npos);

  Subprocess reset({serverPath(), "--config", dir.file("server.json"), "--reset-state"});
  const int port = listeningPort(reset);
  CHECK(reset.output().find("units.1: --reset-state: created") != std::string::npos);
  Client client(port);
  std::uint16_t registers[3] = {};
  REQUIRE(modbus_read_registers(client.get(), 117, 3, registers) == 3);  // the new table's end exists
}

TEST_CASE("persistent store: uvmodbus-server refuses a truncated state file or one with a bad magic") {
  TempDir dir("uvmodbus-damaged");
  {
    Subprocess first({serverPath(), "--config", writeConfig(dir, "always")});
    listeningPort(first);
  }
  const std::string state = dir.file("unit-1.state");
  std::string bytes;
  {
    std::ifstream in(state, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(bytes.size() > 4096);
  {
    std::ofstream out(state, std::ios::binary | std::ios::trunc);
    out << bytes.substr(0, bytes.size() - 1);
  }
  Subprocess truncated({serverPath(), "--config", dir.file("server.json")});
  CHECK(truncated.wait(kExitTimeout) == std::optional<int>(1));
  CHECK(truncated.output().find(state + ": damaged state file: truncated") != std::string::npos);
  Subprocess check({serverPath(), "--config", dir.file("server.json"), "--check"});
  CHECK(check.wait(kExitTimeout) == std::optional<int>(1));
  CHECK(check.output().find(state + ": damaged state file: truncated") != std::string::npos);
  CHECK(truncated.output().find("listening") == std::string::npos);

  bytes[0] = 'u';
  {
    std::ofstream out(state, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  Subprocess badMagic({serverPath(), "--config", dir.file("server.json")});
  CHECK(badMagic.wait(kExitTimeout) == std::optional<int>(1));
  CHECK(badMagic.output().find(state + ": damaged state file: bad magic") != std::string::npos);
}
