// Integration tests: the pymodbus 3.0 client (Debian's python3-pymodbus, run by /usr/bin/python3
// as a subprocess: tests/integration/py/pymodbus_client.py) against our Modbus/TCP server.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/server_context.h"
#include "reactor/log.h"
#include "tests/support/server_thread.h"
#include "tests/support/subprocess.h"

namespace {

using testsupport::ServerThread;
using Json = nlohmann::json;

constexpr std::uint16_t kTableSize = 4000;

const bool kQuiet = [] {
  reactor::log::setLevel(reactor::log::Level::Warning);
  return true;
}();

/// What the script printed: one JSON object per step, by its "op".
struct PyRun {
  std::map<std::string, Json> steps;
  std::string output;
  int exitCode = -1;

  /// The step's "value" (register or bit list, or a write's echo).
  std::vector<int> value(const std::string& op) const {
    auto it = steps.find(op);
    if (it == steps.end() || !it->second.contains("value")) return {};
    return it->second["value"].get<std::vector<int>>();
  }
  /// The step's exception code, or -1 when it got none.
  int exception(const std::string& op) const {
    auto it = steps.find(op);
    if (it == steps.end() || !it->second.contains("exception")) return -1;
    return it->second["exception"].get<int>();
  }
};

/// Runs one scenario of pymodbus_client.py against 127.0.0.1:port (bounded: 60 s).
PyRun runPymodbus(std::uint16_t port, const std::string& scenario, std::uint16_t tableSize = kTableSize) {
  testsupport::Subprocess script({"/usr/bin/python3",
                                  testsupport::sourceDir() + "/tests/integration/py/pymodbus_client.py",
                                  std::to_string(port), scenario, std::to_string(tableSize)});
  PyRun run;
  script.waitForLine(R"("op": "done")", 60);
  run.exitCode = script.wait(10).value_or(-1);
  run.output = script.output();
  std::size_t start = 0;
  while (start < run.output.size()) {
    std::size_t end = run.output.find('\n', start);
    if (end == std::string::npos) end = run.output.size();
    std::string line = run.output.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] != '{') continue;  // pymodbus's own log lines
    Json step = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (step.is_object() && step.contains("op")) run.steps[step["op"].get<std::string>()] = step;
  }
  return run;
}

std::vector<int> range(int from, int count) {
  std::vector<int> out;
  for (int i = 0; i < count; ++i) out.push_back(from + i);
  return out;
}

/// Unit 1 with every table kTableSize long and known values in the first ten addresses: coils
/// 1,0,1,1,0,0,1,0,1,1 ; discrete inputs the opposite ; holding registers 100..109 but 0x12 at 7 ;
/// input registers 200..209.
struct Fixture {
  std::shared_ptr<modbus::ServerContext> context = testsupport::makeUnitContext(1, kTableSize);
  ServerThread server{context};

  Fixture() {
    server.call([this] {
      auto* d = device();
      std::vector<bool> bits{true, false, true, true, false, false, true, false, true, true};
      d->coils()->setValues(0, bits);
      bits.flip();
      d->discreteInputs()->setValues(0, bits);
      for (std::uint16_t i = 0; i < 10; ++i) {
        d->holdingRegisters()->setValues(i, {static_cast<std::uint16_t>(i == 7 ? 0x12 : 100 + i)});
        d->inputRegisters()->setValues(i, {static_cast<std::uint16_t>(200 + i)});
      }
    });
  }
  modbus::DeviceContext* device() const { return context->find(1); }
  std::vector<std::uint16_t> holding(std::uint16_t address, std::uint16_t count) {
    return server.call([=, this] { return device()->holdingRegisters()->getValues(address, count); });
  }
  std::vector<bool> coils(std::uint16_t address, std::uint16_t count) {
    return server.call([=, this] { return device()->coils()->getValues(address, count); });
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "pymodbus reads and writes with every function code (1-6, 15, 16, 22, 23)") {
  PyRun run = runPymodbus(server.port(), "functions");
  INFO(run.output.substr(0, 4000));
  REQUIRE(run.exitCode == 0);
  CHECK(run.value("read_coils") == std::vector<int>{1, 0, 1, 1, 0, 0, 1, 0, 1, 1});
  CHECK(run.value("read_discrete_inputs") == std::vector<int>{0, 1, 0, 0, 1, 1, 0, 1, 0, 0});
  CHECK(run.value("read_holding_registers") == std::vector<int>{100, 101, 102, 103, 104, 105, 106, 0x12, 108, 109});
  CHECK(run.value("read_input_registers") == std::vector<int>{203, 204, 205, 206});
  // The writes are echoed as the specification says.
  CHECK(run.value("write_coil") == std::vector<int>{1, 1});
  CHECK(run.value("write_register") == std::vector<int>{5, 0xBEEF});
  CHECK(run.value("write_coils") == std::vector<int>{20, 11});
  CHECK(run.value("write_registers") == std::vector<int>{100, 3});
  CHECK(run.value("mask_write_register") == std::vector<int>{7, 0xF2, 0x25});
  // FC 23 writes before it reads.
  CHECK(run.value("readwrite_registers") == std::vector<int>{101, 7000, 7001, 104});
  CHECK(run.value("read_coils_after") == std::vector<int>{1, 1, 1});
  CHECK(run.value("read_coils_written") == std::vector<int>{1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0});
  // 0x12 AND 0xF2 OR (0x25 AND NOT 0xF2) = 0x17.
  CHECK(run.value("read_holding_after") == std::vector<int>{100, 101, 7000, 7001, 104, 0xBEEF, 106, 0x17, 108, 109});

  // The largest quantities.
  CHECK(run.value("read_coils_2000").size() == 2000);
  CHECK(run.value("read_discrete_inputs_2000").size() == 2000);
  CHECK(run.value("read_discrete_inputs_2000")[1] == 1);
  CHECK(run.value("read_holding_registers_125").size() == 125);
  CHECK(run.value("read_input_registers_125") == std::vector<int>(125, 0));
  CHECK(run.value("write_coils_1968") == std::vector<int>{2000, 1968});
  CHECK(run.value("write_registers_123") == std::vector<int>{1000, 123});
  std::vector<int> read125 = range(1000, 123);
  read125.push_back(0);
  read125.push_back(0);
  CHECK(run.value("readwrite_registers_125_121") == read125);

  // And the datastore holds what pymodbus wrote.
  CHECK(holding(0, 10) == std::vector<std::uint16_t>{100, 101, 7000, 7001, 104, 0xBEEF, 106, 0x17, 108, 109});
  CHECK(holding(100, 3) == std::vector<std::uint16_t>{1, 0x8000, 0xFFFF});
  CHECK(holding(3120, 2) == std::vector<std::uint16_t>{120, 0});
  auto written = coils(1999, 1970);
  CHECK(std::count(written.begin(), written.end(), true) == 1968);
  CHECK_FALSE(written.front());
  CHECK_FALSE(written.back());
}

TEST_CASE_FIXTURE(
    Fixture,
    "pymodbus gets exception 03 past each quantity limit and 02 past each table's end, and nothing is written") {
  PyRun run = runPymodbus(server.port(), "exceptions");
  INFO(run.output);
  REQUIRE(run.exitCode == 0);
  for (const char* op : {"read_coils_2001", "read_discrete_inputs_0", "read_holding_registers_126",
                         "read_input_registers_126", "write_coils_1969", "readwrite_read_126"}) {
    CAPTURE(op);
    CHECK(run.exception(op) == 3);
  }
  for (const char* op :
       {"read_coils_past_end", "read_discrete_inputs_past_end", "read_holding_registers_past_end",
        "read_input_registers_past_end", "write_coil_past_end", "write_register_past_end", "write_coils_past_end",
        "write_registers_past_end", "mask_write_register_past_end", "readwrite_read_past_end"}) {
    CAPTURE(op);
    CHECK(run.exception(op) == 2);
  }
  // The FC 23 requests that were rejected did not apply their write of 9 at address 0.
  CHECK(run.value("read_holding_after") == std::vector<int>{100, 101});
  CHECK(holding(kTableSize - 1, 1) == std::vector<std::uint16_t>{0});
  CHECK(coils(0, 4) == std::vector<bool>{true, false, true, true});  // the rejected 1969-coil write
  CHECK(coils(kTableSize - 1, 1) == std::vector<bool>{false});
}

TEST_CASE_FIXTURE(Fixture, "pymodbus gets exception 01 for an unknown function code, with its own transaction id") {
  // pymodbus matches a response to its request by transaction id: a reply with any other id would
  // surface as "no response" instead of the exception.
  PyRun run = runPymodbus(server.port(), "unknown_function");
  INFO(run.output);
  REQUIRE(run.exitCode == 0);
  CHECK(run.exception("unknown_function") == 1);
  CHECK(run.exception("unknown_function_again") == 1);
  CHECK(run.value("read_after") == std::vector<int>{100});
}

TEST_CASE_FIXTURE(Fixture, "pymodbus gets exception 0x0B for a unit id with no device, its default unit 0 included") {
  PyRun run = runPymodbus(server.port(), "missing_unit");
  INFO(run.output);
  REQUIRE(run.exitCode == 0);
  CHECK(run.exception("read_unit_2") == 0x0B);
  CHECK(run.exception("write_unit_2") == 0x0B);
  CHECK(run.exception("read_unit_0") == 0x0B);
  CHECK(run.value("read_unit_1") == std::vector<int>{100});
  CHECK(holding(0, 1) == std::vector<std::uint16_t>{100});
}

TEST_CASE("pymodbus reads and writes the uvmodbus-server binary") {
  testsupport::ServerProcess binary({11, 22, 33}, 1000);
  PyRun run = runPymodbus(binary.port(), "roundtrip", 1000);
  INFO(run.output);
  REQUIRE(run.exitCode == 0);
  CHECK(run.value("read_holding_registers") == std::vector<int>{11, 22, 33, 0});
  CHECK(run.value("write_registers") == std::vector<int>{10, 3});
  CHECK(run.value("write_coils") == std::vector<int>{3, 3});
  CHECK(run.value("read_holding_back") == std::vector<int>{10, 20, 30});
  CHECK(run.value("read_coils_back") == std::vector<int>{1, 0, 1});
  CHECK(run.value("read_input_registers") == std::vector<int>{0, 0});
  CHECK(run.exception("read_past_end") == 2);
  CHECK(binary.terminate() == 0);
}
