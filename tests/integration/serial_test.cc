// Integration tests for the serial server (protocols/servers/modbus_serial_server.cc) on pseudo-terminals:
// libmodbus's RTU client (linked in) and the pymodbus 3.0 serial client (a subprocess, RTU and
// ASCII) for every implemented function code, raw frames for the line's hard cases, timing with
// controlled gaps at a low baud rate, and a port that disappears and comes back.
#include <doctest/doctest.h>
#include <modbus/modbus.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_serial_server.h"
#include "reactor/log.h"
#include "reactor/reactor.h"
#include "tests/support/pty_pair.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/subprocess.h"

namespace {

using testsupport::Bytes;
using testsupport::hexBytes;
using testsupport::Pty;
using testsupport::PtyLink;
using testsupport::withCrc;

/// Unit `unit`: discrete inputs 0..3 = 1,0,1,1; input registers 0..2 = 300..302; holding registers
/// 0..9 = 100..109 and 30 = 0x0012; every table 1000 long (what py/serial_checks.py expects).
std::shared_ptr<modbus::DeviceContext> makeDevice() {
  auto d = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 1000),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 1000),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 1000),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 1000),
  });
  d->discreteInputs()->setValues(0, std::vector<bool>{true, false, true, true});
  d->inputRegisters()->setValues(0, {300, 301, 302});
  for (std::uint16_t i = 0; i < 10; ++i) d->holdingRegisters()->setValues(i, {static_cast<std::uint16_t>(100 + i)});
  d->holdingRegisters()->setValues(30, {0x0012});
  return d;
}

/// A ModbusSerialServer on a reactor of its own, in a background thread. The constructor returns
/// once the port is open (or throws what open() threw); the destructor shuts it down and joins.
class SerialServerThread {
 public:
  SerialServerThread(std::string endpoint, modbus::SerialServerOptions options = {},
                     std::shared_ptr<modbus::ServerContext> context = nullptr)
      : context_(context ? std::move(context) : modbus::ServerContext::multiple({{1, makeDevice()}})) {
    std::promise<void> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, endpoint, options, &ready] {
      reactor::Reactor reactor;
      std::unique_ptr<modbus::ModbusSerialServer> server;
      try {
        server = std::make_unique<modbus::ModbusSerialServer>(reactor, context_, options);
        server->open(endpoint);
      } catch (...) {
        ready.set_exception(std::current_exception());
        return;
      }
      reactor_ = &reactor;
      server_ = server.get();
      ready.set_value();
      reactor.run(false);
      server.reset();
    });
    // Opening a port never blocks (non-blocking open, no I/O), so this wait is short.
    try {
      started.get();
    } catch (...) {
      thread_.join();
      throw;
    }
  }
  ~SerialServerThread() {
    stop();
    thread_.join();
  }

  /// Runs f on the reactor thread and returns its result (10 s at most).
  template <class F>
  auto call(F f) -> std::invoke_result_t<F> {
    using R = std::invoke_result_t<F>;
    auto done = std::make_shared<std::promise<R>>();
    auto result = done->get_future();
    reactor_->callFromThread([done, f = std::move(f)]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          f();
          done->set_value();
        } else {
          done->set_value(f());
        }
      } catch (...) {
        done->set_exception(std::current_exception());
      }
    });
    if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      throw std::runtime_error("the reactor thread did not answer within 10 s");
    }
    return result.get();
  }

  void stop() {
    if (stopped_ || reactor_ == nullptr) return;
    stopped_ = true;
    reactor::Reactor* r = reactor_;
    modbus::ModbusSerialServer* s = server_;
    r->callFromThread([r, s] {
      s->shutdown();
      reactor::testing::stopIfRunning(*r);
    });
  }

  modbus::ModbusSerialServer& server() { return *server_; }  // from inside call() only
  std::uint16_t holding(std::uint8_t unit, std::uint16_t address) {
    return call([this, unit, address] {
      return context_->find(unit)->holdingRegisters()->getValues(address, 1).at(0);
    });
  }
  modbus::SerialLineCounters counters() {
    return call([this] {
      auto* p = server_->protocol();
      return p ? p->counters() : modbus::SerialLineCounters{};
    });
  }

 private:
  std::shared_ptr<modbus::ServerContext> context_;
  reactor::Reactor* reactor_ = nullptr;
  modbus::ModbusSerialServer* server_ = nullptr;
  bool stopped_ = false;
  std::thread thread_;
};

std::string endpointFor(const std::string& path, int baud, const std::string& extra = "") {
  return "serial:" + path + ":baudrate=" + std::to_string(baud) + extra;
}

/// A libmodbus RTU context on `path`, connected; freed on scope exit.
class RtuClient {
 public:
  RtuClient(const std::string& path, int baud, int unit) : ctx_(modbus_new_rtu(path.c_str(), baud, 'N', 8, 1)) {
    if (ctx_ == nullptr) throw std::runtime_error("modbus_new_rtu failed");
    modbus_set_slave(ctx_, unit);
    modbus_set_response_timeout(ctx_, 1, 0);
    if (modbus_connect(ctx_) != 0) {
      std::string why = modbus_strerror(errno);
      modbus_free(ctx_);
      throw std::runtime_error("modbus_connect: " + why);
    }
  }
  ~RtuClient() {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
  RtuClient(const RtuClient&) = delete;
  RtuClient& operator=(const RtuClient&) = delete;
  modbus_t* get() const { return ctx_; }

 private:
  modbus_t* ctx_;
};

const Bytes kReadUnit1 = withCrc(hexBytes("01 03 00 00 00 02"));
const Bytes kAnswerUnit1 = withCrc(hexBytes("01 03 04 00 64 00 65"));

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// Runs py/serial_client.py against `path`; returns its exit code (its output goes to the log).
int runPymodbusSerial(const std::string& path, const std::string& framer, int baud) {
  testsupport::Subprocess script({"/usr/bin/python3", testsupport::sourceDir() + "/tests/integration/py/serial_client.py",
                                  "--port", path, "--framer", framer, "--baudrate", std::to_string(baud),
                                  "--unit", "1", "--missing-unit", "9"});
  auto done = script.waitForLine("^(OK|FAILED|FAIL cannot)", 60);
  int code = script.wait(10).value_or(-1);
  INFO("pymodbus output:\n" << script.output());
  CHECK(done.has_value());
  CHECK(code == 0);
  return code;
}

const bool kQuiet = [] {
  reactor::log::setLevel(reactor::log::Level::Warning);
  return true;
}();

}  // namespace

TEST_CASE("libmodbus's RTU client gets every implemented function code from the serial server") {
  PtyLink link;
  SerialServerThread server(endpointFor(link.pathA(), 115200));
  RtuClient client(link.pathB(), 115200, 1);
  modbus_t* c = client.get();

  std::uint8_t bits[16] = {0};
  REQUIRE(modbus_read_input_bits(c, 0, 4, bits) == 4);  // FC 2
  CHECK(bits[0] == 1);
  CHECK(bits[1] == 0);
  CHECK(bits[2] == 1);
  CHECK(bits[3] == 1);
  std::uint16_t regs[16] = {0};
  REQUIRE(modbus_read_input_registers(c, 0, 3, regs) == 3);  // FC 4
  CHECK(regs[2] == 302);
  REQUIRE(modbus_read_registers(c, 0, 3, regs) == 3);  // FC 3
  CHECK(regs[0] == 100);
  CHECK(regs[2] == 102);
  const std::uint8_t pattern[9] = {1, 0, 1, 1, 0, 1, 0, 0, 1};
  REQUIRE(modbus_write_bits(c, 0, 9, pattern) == 9);  // FC 15
  REQUIRE(modbus_read_bits(c, 0, 9, bits) == 9);      // FC 1
  for (int i = 0; i < 9; ++i) CHECK(bits[i] == pattern[i]);
  REQUIRE(modbus_write_bit(c, 20, 1) == 1);  // FC 5
  REQUIRE(modbus_read_bits(c, 20, 1, bits) == 1);
  CHECK(bits[0] == 1);
  REQUIRE(modbus_write_register(c, 10, 1234) == 1);  // FC 6
  const std::uint16_t values[3] = {1, 2, 3};
  REQUIRE(modbus_write_registers(c, 20, 3, values) == 3);  // FC 16
  REQUIRE(modbus_mask_write_register(c, 30, 0x00F2, 0x0025) == 1);  // FC 22
  const std::uint16_t rw[2] = {7, 8};
  REQUIRE(modbus_write_and_read_registers(c, 40, 2, rw, 0, 2, regs) == 2);  // FC 23
  CHECK(regs[0] == 100);
  CHECK(server.holding(1, 10) == 1234);
  CHECK(server.holding(1, 22) == 3);
  CHECK(server.holding(1, 30) == 0x0017);
  CHECK(server.holding(1, 41) == 8);
  // An exception answer, and the line stays in step after it.
  CHECK(modbus_read_registers(c, 5000, 1, regs) == -1);
  CHECK(errno == EMBXILADD);
  REQUIRE(modbus_read_registers(c, 1, 1, regs) == 1);
  CHECK(regs[0] == 101);
  // A missing unit is silence on a serial line: libmodbus times out.
  modbus_set_slave(c, 9);
  modbus_set_response_timeout(c, 0, 300000);
  CHECK(modbus_read_registers(c, 0, 1, regs) == -1);
  CHECK(errno == ETIMEDOUT);
  modbus_set_slave(c, 1);
  REQUIRE(modbus_read_registers(c, 2, 1, regs) == 1);
  CHECK(regs[0] == 102);
  auto counters = server.counters();
  CHECK(counters.foreignRequests == 1);
  CHECK(counters.exceptionResponses == 1);
  CHECK(counters.busCommunicationErrors == 0);
}

TEST_CASE("the pymodbus serial client gets every implemented function code over RTU") {
  PtyLink link;
  SerialServerThread server(endpointFor(link.pathA(), 19200));
  runPymodbusSerial(link.pathB(), "rtu", 19200);
  CHECK(server.holding(1, 30) == 0x0017);
  CHECK(server.holding(1, 42) == 9);
}

TEST_CASE("the pymodbus serial client gets every implemented function code over ASCII") {
  PtyLink link;
  SerialServerThread server(endpointFor(link.pathA(), 19200, ":framer=ascii"));
  runPymodbusSerial(link.pathB(), "ascii", 19200);
  CHECK(server.holding(1, 10) == 1234);
  auto counters = server.counters();
  CHECK(counters.busCommunicationErrors == 0);
  CHECK(counters.foreignRequests == 1);
}

TEST_CASE("serial RTU server on a pty: a frame, back-to-back frames, noise and bad CRC") {
  Pty pty;
  SerialServerThread server(endpointFor(pty.slavePath(), 9600));
  // One frame. (A frame split across deliveries less than t1.5 apart is checked on the ManualClock,
  // tests/protocols/serving/modbus_serial_protocol_test.cc: two writes here would depend on the
  // machine not pausing the test between them.)
  pty.write(kReadUnit1);
  CHECK(pty.read(kAnswerUnit1.size(), 2.0) == kAnswerUnit1);
  // Two frames in one write: both answered, in order.
  Bytes second = withCrc(hexBytes("01 03 00 05 00 01"));
  pty.write(concat({kReadUnit1, second}));
  Bytes both = concat({kAnswerUnit1, withCrc(hexBytes("01 03 02 00 69"))});
  CHECK(pty.read(both.size(), 2.0) == both);
  // A corrupted frame, then a good one: the good one is answered.
  Bytes bad = kReadUnit1;
  bad[4] ^= 0x40;
  pty.write(concat({bad, kReadUnit1}));
  CHECK(pty.read(kAnswerUnit1.size(), 2.0) == kAnswerUnit1);
  // Noise, then (after a gap) a frame.
  pty.write(hexBytes("FF 00 55 AA"));
  testsupport::sleepSeconds(0.05);
  pty.write(kReadUnit1);
  CHECK(pty.read(kAnswerUnit1.size(), 2.0) == kAnswerUnit1);
  CHECK(pty.readFor(0.1).empty());  // nothing more than the answers
  auto counters = server.counters();
  CHECK(counters.busCommunicationErrors == 2);
  CHECK(counters.slaveMessages == 5);
}

TEST_CASE("serial RTU server on a pty stays out of a conversation between two other devices") {
  Pty pty;
  SerialServerThread server(endpointFor(pty.slavePath(), 9600));
  Bytes foreignRequest = withCrc(hexBytes("07 03 00 00 00 04"));
  Bytes hidden = withCrc(hexBytes("01 06 00 01 00 03"));  // a valid request for us, inside the answer's data
  Bytes foreignResponse = withCrc(concat({hexBytes("07 03 08"), hidden}));
  pty.write(foreignRequest);
  testsupport::sleepSeconds(0.01);
  pty.write(foreignResponse);
  testsupport::sleepSeconds(0.01);
  pty.write(kReadUnit1);
  CHECK(pty.read(kAnswerUnit1.size(), 2.0) == kAnswerUnit1);
  CHECK(pty.readFor(0.1).empty());
  CHECK(server.holding(1, 1) == 101);
  auto counters = server.counters();
  CHECK(counters.foreignRequests == 1);
  CHECK(counters.foreignResponses == 1);
}

TEST_CASE("serial RTU server on a pty applies broadcasts without answering them") {
  Pty pty;
  SerialServerThread server(endpointFor(pty.slavePath(), 9600));
  pty.write(withCrc(hexBytes("00 06 00 05 BE EF")));
  testsupport::sleepSeconds(0.01);
  pty.write(withCrc(hexBytes("01 03 00 05 00 01")));
  CHECK(pty.read(7, 2.0) == withCrc(hexBytes("01 03 02 BE EF")));
  CHECK(pty.readFor(0.1).empty());
}

TEST_CASE("serial RTU timing on a pty: the port's baud rate sets t1.5 and t3.5") {
  // The t1.5 / t3.5 rules themselves (a gap above t1.5 discards a frame, one above t3.5 splits it)
  // are checked on the ManualClock in tests/protocols/serving/modbus_serial_protocol_test.cc at the
  // same 600 baud: on a pty the silence the server sees depends on when its thread runs, not on
  // what the test sleeps, so a loaded machine could join or split anything written here.
  Pty pty;
  SerialServerThread server(endpointFor(pty.slavePath(), 600));
  const modbus::RtuTiming timing = server.call([&server] { return server.server().protocol()->timing(); });
  CHECK(timing.t15 == doctest::Approx(1.5 * 11.0 / 600));
  CHECK(timing.t35 == doctest::Approx(3.5 * 11.0 / 600));
  pty.write(kReadUnit1);
  CHECK(pty.read(kAnswerUnit1.size(), 2.0) == kAnswerUnit1);
}

TEST_CASE("serial RTU on a pty ends a frame of unknown length at the t3.5 gap") {
  Pty pty;
  SerialServerThread server(endpointFor(pty.slavePath(), 1200));
  pty.write(withCrc(hexBytes("01 41 00 01")));  // function 0x41: no length rule, only the gap ends it
  CHECK(pty.read(5, 2.0) == withCrc(hexBytes("01 C1 01")));
}

TEST_CASE("serial ASCII server on a pty: bad LRC and bad hex are dropped, the next frame is served") {
  Pty pty;
  SerialServerThread server(endpointFor(pty.slavePath(), 9600, ":framer=ascii"));
  pty.write(std::string_view(":010300000002FB\r\n:0103000000ZZFA\r\n:01030000"));
  pty.write(std::string_view("0002FA\r\n"));
  auto got = pty.read(19, 2.0);
  CHECK(std::string(got.begin(), got.end()) == ":010304006400652F\r\n");
  CHECK(pty.readFor(0.1).empty());
  CHECK(server.counters().busCommunicationErrors == 2);
}

TEST_CASE("serial server drops the local echo of its answers when told to") {
  Pty pty;
  SerialServerThread server(endpointFor(pty.slavePath(), 9600, ":echo=1"));
  pty.write(kReadUnit1);
  Bytes answer = pty.read(kAnswerUnit1.size(), 2.0);
  REQUIRE(answer == kAnswerUnit1);
  // An RS-485 dongle hears our answer back; then the next request comes.
  pty.write(concat({answer, withCrc(hexBytes("01 03 00 02 00 01"))}));
  CHECK(pty.read(7, 2.0) == withCrc(hexBytes("01 03 02 00 66")));
  auto counters = server.counters();
  CHECK(counters.echoBytesDropped == answer.size());
  CHECK(counters.busCommunicationErrors == 0);
}

TEST_CASE("a serial server whose port disappears reopens it with back-off and logs it") {
  reactor::testing::LogCapture logs;
  reactor::log::setLevel(reactor::log::Level::Info);
  auto dir = std::filesystem::temp_directory_path() / ("uvmodbus-serial-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto link = dir / "ttyMODBUS";
  auto first = std::make_unique<Pty>();
  std::filesystem::create_symlink(first->slavePath(), link);
  modbus::SerialServerOptions options;
  options.reopenMaxDelay = 0.2;
  std::string endpoint = endpointFor(link.string(), 9600);
  SUBCASE("the delay set in the options") { options.reopenDelay = 0.05; }
  SUBCASE("the delay set by the endpoint's reopen_delay (the simulator's reconnect_delay)") {
    endpoint += ":reopen_delay=0.05";
  }
  {
    std::unique_ptr<Pty> second;  // outlives the server: its end is not a second loss
    SerialServerThread server(endpoint, options);
    first->write(kReadUnit1);
    CHECK(first->read(kAnswerUnit1.size(), 2.0) == kAnswerUnit1);

    first.reset();  // the adapter is pulled: the server's reads fail
    auto wait = [&](auto done, double seconds) {
      for (int i = 0; i < static_cast<int>(seconds / 0.02) && !done(); ++i) testsupport::sleepSeconds(0.02);
      return done();
    };
    CHECK(wait([&] { return !server.call([&] { return server.server().isOpen(); }); }, 5.0));

    second = std::make_unique<Pty>();  // ... and plugged in again, under the same name
    auto fresh = dir / "ttyMODBUS.new";
    std::filesystem::create_symlink(second->slavePath(), fresh);
    std::filesystem::rename(fresh, link);
    CHECK(wait([&] { return server.call([&] { return server.server().reopenCount() == 1; }); }, 5.0));
    second->write(kReadUnit1);
    CHECK(second->read(kAnswerUnit1.size(), 2.0) == kAnswerUnit1);
  }
  std::filesystem::remove_all(dir);
  reactor::log::setLevel(reactor::log::Level::Warning);
  std::string logged;
  for (const auto& line : logs.lines) logged += line + "\n";
  INFO("log:\n", logged);
  CHECK(logs.count("lost") >= 1);
  CHECK(logs.count("reopening in 0.05 s") == 1);
  CHECK(logs.count("reopened") == 1);
}

TEST_CASE("a serial server refuses the socket framer and a missing device clearly") {
  reactor::Reactor reactor;
  auto context = modbus::ServerContext::multiple({{1, makeDevice()}});
  modbus::SerialServerOptions options;
  options.line.framer = modbus::FramerType::Socket;
  try {
    modbus::ModbusSerialServer server(reactor, context, options);
    FAIL("the socket framer should have been refused");
  } catch (const reactor::EndpointError& e) {
    CHECK(std::string(e.what()).find("cannot run on a serial line") != std::string::npos);
  }
  modbus::ModbusSerialServer server(reactor, context);
  CHECK_THROWS_AS(server.open("serial:/dev/ttyUSB0:framer=socket"), reactor::EndpointError);
  try {
    server.open("serial:/dev/uvmodbus-missing-tty");
    FAIL("open should have thrown");
  } catch (const reactor::SerialPortError& e) {
    CHECK(std::string(e.what()).find("/dev/uvmodbus-missing-tty") != std::string::npos);
  }
  CHECK_FALSE(server.isOpen());
  CHECK(modbus::defaultFramerForEndpoint("serial:/dev/ttyS0") == modbus::FramerType::Rtu);
  CHECK(modbus::defaultFramerForEndpoint("udp:502") == modbus::FramerType::Socket);
  CHECK_THROWS_AS(modbus::makeServerForEndpoint(reactor, "serial:/dev/ttyS0", modbus::FramerType::Socket, context),
                  reactor::EndpointError);
}

TEST_CASE("serial server endpoint keys: framer, units, echo, t15, latency, turnaround, reopen_delay") {
  auto e = modbus::parseSerialServerEndpoint(
      "serial:/dev/ttyUSB1:baudrate=9600:parity=E:framer=ascii:units=1,7,247:echo=1:t15=0:latency=16:turnaround=1:"
      "reopen_delay=2.5");
  CHECK(e.serial.device == "/dev/ttyUSB1");
  CHECK(e.serial.baudrate == 9600);
  CHECK(e.serial.parity == reactor::Parity::Even);
  CHECK(e.line.framer == modbus::FramerType::Ascii);
  CHECK(e.line.unitIds == std::vector<std::uint8_t>{1, 7, 247});
  CHECK(e.line.dropLocalEcho);
  CHECK_FALSE(e.line.enforceT15);
  CHECK(e.line.latency == doctest::Approx(0.016));
  CHECK(e.line.waitT35BeforeReply);
  CHECK(e.reopenDelay == doctest::Approx(2.5));
  auto d = modbus::parseSerialServerEndpoint("serial:/dev/ttyUSB1");
  CHECK_FALSE(d.reopenDelay.has_value());
  CHECK(d.line.framer == modbus::FramerType::Rtu);
  CHECK(d.line.unitIds.empty());
  CHECK(d.line.enforceT15);
  CHECK_THROWS_AS(modbus::parseSerialServerEndpoint("serial:/dev/x:units=0"), reactor::EndpointError);
  CHECK_THROWS_AS(modbus::parseSerialServerEndpoint("serial:/dev/x:units=1,,2"), reactor::EndpointError);
  CHECK_THROWS_AS(modbus::parseSerialServerEndpoint("serial:/dev/x:framer=binary"), reactor::EndpointError);
  CHECK_THROWS_AS(modbus::parseSerialServerEndpoint("serial:/dev/x:echo=2"), reactor::EndpointError);
  CHECK_THROWS_AS(modbus::parseSerialServerEndpoint("serial:/dev/x:bogus=1"), reactor::EndpointError);
  for (const char* bad : {"0", "-1", "3601", "soon", "1s", ""}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(modbus::parseSerialServerEndpoint(std::string("serial:/dev/x:reopen_delay=") + bad),
                         doctest::Contains("'reopen_delay' must be seconds from 0.01 to 3600"), reactor::EndpointError);
  }
}

TEST_CASE("ServerStop stops a running StartSerialServer") {
  Pty pty;
  auto context = modbus::ServerContext::multiple({{1, makeDevice()}});
  std::size_t before = modbus::runningServerCount();
  std::promise<void> finished;
  auto done = finished.get_future();
  std::thread serving([&] {
    try {
      modbus::StartSerialServer(context, endpointFor(pty.slavePath(), 9600));
    } catch (...) {
    }
    finished.set_value();
  });
  // Wait (bounded) until the server answers: then it is registered for ServerStop.
  Bytes answer;
  for (int i = 0; i < 50 && answer.empty(); ++i) {
    pty.write(kReadUnit1);
    answer = pty.read(kAnswerUnit1.size(), 0.1);
  }
  CHECK(answer == kAnswerUnit1);
  CHECK(modbus::runningServerCount() == before + 1);
  modbus::ServerStop();
  CHECK(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  serving.join();
  CHECK(modbus::runningServerCount() == before);
}
