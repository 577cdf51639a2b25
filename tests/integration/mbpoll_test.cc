// Integration tests: Debian's mbpoll (a Modbus master we did not write) run as a subprocess against
// our Modbus/TCP server, in-process (ServerThread) and as the uvmodbus-server binary.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/server_context.h"
#include "reactor/log.h"
#include "tests/support/server_thread.h"
#include "tests/support/subprocess.h"

namespace {

using testsupport::ServerThread;

const bool kQuiet = [] {
  reactor::log::setLevel(reactor::log::Level::Warning);
  return true;
}();

struct MbpollRun {
  int exitCode = -1;
  std::string output;
  /// "[REF]: VALUE" lines: reference → value.
  std::map<int, long> values;
};

/// `mbpoll -m tcp -p PORT -o 2 ARGS... 127.0.0.1 [WRITE VALUES...]` (bounded: 20 s).
MbpollRun mbpoll(std::uint16_t port, const std::vector<std::string>& args,
                 const std::vector<std::string>& writes = {}) {
  std::vector<std::string> argv{"/usr/bin/mbpoll", "-m", "tcp", "-p", std::to_string(port), "-o", "2"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("127.0.0.1");
  argv.insert(argv.end(), writes.begin(), writes.end());
  testsupport::Subprocess process(argv);
  MbpollRun run;
  run.exitCode = process.wait(20).value_or(-1);
  run.output = process.output();
  static const std::regex line(R"(\[(\d+)\]:\s+(-?\d+))");
  for (auto it = std::sregex_iterator(run.output.begin(), run.output.end(), line); it != std::sregex_iterator(); ++it) {
    run.values[std::stoi((*it)[1])] = std::stol((*it)[2]);
  }
  return run;
}

std::map<int, long> refs(int first, const std::vector<long>& values) {
  std::map<int, long> out;
  for (std::size_t i = 0; i < values.size(); ++i) out[first + static_cast<int>(i)] = values[i];
  return out;
}

/// Unit 1, 1000 addresses per table: holding registers 100..109, input registers 200..209,
/// coils 1,0,1,1,0 and discrete inputs 0,1,0,0,1 at 0..4.
struct Fixture {
  std::shared_ptr<modbus::ServerContext> context = testsupport::makeUnitContext(1, 1000);
  ServerThread server{context};

  Fixture() {
    server.call([this] {
      auto* d = device();
      d->coils()->setValues(0, std::vector<bool>{true, false, true, true, false});
      d->discreteInputs()->setValues(0, std::vector<bool>{false, true, false, false, true});
      for (std::uint16_t i = 0; i < 10; ++i) {
        d->holdingRegisters()->setValues(i, {static_cast<std::uint16_t>(100 + i)});
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

TEST_CASE_FIXTURE(Fixture, "mbpoll reads holding registers: its reference 1 is wire and block address 0") {
  MbpollRun run = mbpoll(server.port(), {"-a", "1", "-r", "1", "-c", "10", "-t", "4", "-1"});
  INFO(run.output);
  CHECK(run.exitCode == 0);
  CHECK(run.values == refs(1, {100, 101, 102, 103, 104, 105, 106, 107, 108, 109}));
  // With -0 mbpoll numbers references from 0, as the wire does.
  run = mbpoll(server.port(), {"-a", "1", "-0", "-r", "4", "-c", "2", "-t", "4", "-1"});
  CHECK(run.exitCode == 0);
  CHECK(run.values == refs(4, {104, 105}));
}

TEST_CASE_FIXTURE(Fixture, "mbpoll reads coils, discrete inputs and input registers") {
  MbpollRun run = mbpoll(server.port(), {"-a", "1", "-r", "1", "-c", "5", "-t", "0", "-1"});
  CHECK(run.exitCode == 0);
  CHECK(run.values == refs(1, {1, 0, 1, 1, 0}));
  run = mbpoll(server.port(), {"-a", "1", "-r", "1", "-c", "5", "-t", "1", "-1"});
  CHECK(run.exitCode == 0);
  CHECK(run.values == refs(1, {0, 1, 0, 0, 1}));
  run = mbpoll(server.port(), {"-a", "1", "-r", "8", "-c", "3", "-t", "3", "-1"});
  CHECK(run.exitCode == 0);
  CHECK(run.values == refs(8, {207, 208, 209}));
}

TEST_CASE_FIXTURE(Fixture, "mbpoll writes holding registers and coils into the datastore") {
  MbpollRun run = mbpoll(server.port(), {"-a", "1", "-r", "21", "-t", "4"}, {"10", "20", "30"});
  INFO(run.output);
  CHECK(run.exitCode == 0);
  CHECK(run.output.find("Written 3 references") != std::string::npos);
  CHECK(holding(19, 5) == std::vector<std::uint16_t>{0, 10, 20, 30, 0});

  run = mbpoll(server.port(), {"-a", "1", "-r", "3", "-t", "4"}, {"65535"});
  CHECK(run.exitCode == 0);
  CHECK(holding(1, 3) == std::vector<std::uint16_t>{101, 65535, 103});

  run = mbpoll(server.port(), {"-a", "1", "-r", "6", "-t", "0"}, {"1", "0", "1"});
  CHECK(run.exitCode == 0);
  CHECK(coils(4, 5) == std::vector<bool>{false, true, false, true, false});

  // And reads back what it wrote.
  run = mbpoll(server.port(), {"-a", "1", "-r", "21", "-c", "3", "-t", "4", "-1"});
  CHECK(run.values == refs(21, {10, 20, 30}));
}

TEST_CASE_FIXTURE(Fixture, "mbpoll reports exception 02 past a table's end and 0x0B for a unit with no device") {
  MbpollRun run = mbpoll(server.port(), {"-a", "1", "-r", "1000", "-c", "2", "-t", "4", "-1"});
  INFO(run.output);
  CHECK(run.exitCode != 0);
  CHECK(run.output.find("Illegal data address") != std::string::npos);
  CHECK(run.values.empty());

  run = mbpoll(server.port(), {"-a", "1", "-r", "1001", "-t", "4"}, {"7"});
  CHECK(run.exitCode != 0);
  CHECK(run.output.find("Illegal data address") != std::string::npos);

  run = mbpoll(server.port(), {"-a", "2", "-r", "1", "-c", "1", "-t", "3", "-1"});
  CHECK(run.exitCode != 0);
  CHECK(run.output.find("Target device failed to respond") != std::string::npos);

  // The last address is served, and nothing was written.
  run = mbpoll(server.port(), {"-a", "1", "-r", "1000", "-c", "1", "-t", "4", "-1"});
  CHECK(run.exitCode == 0);
  CHECK(run.values == refs(1000, {0}));
  CHECK(holding(999, 1) == std::vector<std::uint16_t>{0});
}

TEST_CASE("mbpoll reads and writes the uvmodbus-server binary") {
  testsupport::ServerProcess binary({11, 22, 33}, 1000);
  MbpollRun run = mbpoll(binary.port(), {"-a", "1", "-r", "1", "-c", "10", "-t", "4", "-1"});
  INFO(run.output);
  CHECK(run.exitCode == 0);
  CHECK(run.values == refs(1, {11, 22, 33, 0, 0, 0, 0, 0, 0, 0}));
  run = mbpoll(binary.port(), {"-a", "1", "-r", "5", "-t", "4"}, {"500", "501"});
  CHECK(run.exitCode == 0);
  run = mbpoll(binary.port(), {"-a", "1", "-r", "4", "-c", "3", "-t", "4", "-1"});
  CHECK(run.values == refs(4, {0, 500, 501}));
  run = mbpoll(binary.port(), {"-a", "1", "-r", "2", "-t", "0"}, {"1"});
  CHECK(run.exitCode == 0);
  run = mbpoll(binary.port(), {"-a", "1", "-r", "1", "-c", "3", "-t", "0", "-1"});
  CHECK(run.values == refs(1, {0, 1, 0}));
  CHECK(binary.terminate() == 0);
}
