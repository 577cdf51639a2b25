// Tests for protocols/console/console.h: every command against a datastore, through a session that
// records what it is sent (no socket). The line protocol is console_protocol_test.cc's.
#include "protocols/console/console.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "datastore/simulator/cell_types.h"
#include "protocols/console/console_trace.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "protocols/serving/response_hook.h"
#include "reactor/reactor.h"

namespace {

using modbus::Console;
using modbus::ConsoleSession;
using modbus::ConsoleTarget;
using modbus::DeviceContext;
using modbus::SequentialDataBlock;
using modbus::ServerContext;

class RecordingSession : public ConsoleSession {
 public:
  std::vector<std::string> lines;
  bool closed = false;
  void sendLine(std::string_view line) override { lines.emplace_back(line); }
  void close() override { closed = true; }
  /// The lines, and forgets them.
  std::vector<std::string> take() { return std::exchange(lines, {}); }
};

struct Fixture {
  std::shared_ptr<DeviceContext> unit1 = std::make_shared<DeviceContext>(modbus::DeviceTables{
      .coils = SequentialDataBlock<bool>::create(0, 100),
      .discreteInputs = SequentialDataBlock<bool>::create(0, 100, true),
      .holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 100),
      .inputRegisters = SequentialDataBlock<std::uint16_t>::create(0, 100, 7)});
  std::shared_ptr<DeviceContext> unit2 =
      std::make_shared<DeviceContext>(modbus::DeviceTables{.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 10)});
  std::shared_ptr<ServerContext> context = ServerContext::multiple({{1, unit1}, {2, unit2}});
  int shutdowns = 0;
  Console console{ConsoleTarget{.context = context.get(), .shutdown = [this] { ++shutdowns; }}};
  RecordingSession session;

  std::vector<std::string> run(std::string_view line) {
    console.execute(line, session);
    return session.take();
  }
};

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("console: help lists every command, each answer ends with ok") {
  Fixture f;
  Lines out = f.run("help");
  REQUIRE(out.size() == 14);
  CHECK(out.back() == "ok");
  std::string all;
  for (const auto& l : out) all += l + "\n";
  for (const char* name : {"help", "units", "read UNIT TABLE", "write UNIT TABLE", "counters", "diagnostics",
                           "listen-only", "connections", "trace", "stats", "reload", "shutdown", "quit"}) {
    CHECK_MESSAGE(all.find(name) != std::string::npos, name);
  }
}

TEST_CASE("console: an unknown command gets a clear message, an empty line nothing") {
  Fixture f;
  CHECK(f.run("frobnicate 1 2") == Lines{"error: unknown command 'frobnicate' (type help)"});
  CHECK(f.run("   ").empty());
}

TEST_CASE("console: units lists each unit with its tables and its state") {
  Fixture f;
  f.unit2->control().setListenOnly(true);
  CHECK(f.run("units") == Lines{"unit 1: coils, discrete_inputs, holding_registers, input_registers",
                                "unit 2: holding_registers; listen-only", "ok"});
}

TEST_CASE("console: read gives one ADDRESS VALUE line each, in every table by name or short name") {
  Fixture f;
  f.unit1->holdingRegisters()->setValues(10, {11, 12, 13});
  f.unit1->coils()->setValues(3, std::vector<bool>{true, false, true});
  CHECK(f.run("read 1 hr 10 3") == Lines{"10 11", "11 12", "12 13", "ok"});
  CHECK(f.run("read 1 holding_registers 10") == Lines{"10 11", "ok"});
  CHECK(f.run("read 1 co 3 3") == Lines{"3 1", "4 0", "5 1", "ok"});
  CHECK(f.run("read 1 coils 3") == Lines{"3 1", "ok"});
  CHECK(f.run("read 1 di 0 2") == Lines{"0 1", "1 1", "ok"});
  CHECK(f.run("read 1 discrete_inputs 99") == Lines{"99 1", "ok"});
  CHECK(f.run("read 1 ir 5 1") == Lines{"5 7", "ok"});
  CHECK(f.run("read 1 input_registers 0x05") == Lines{"5 7", "ok"});
}

TEST_CASE("console: read refuses bad arguments with the reason and the usage") {
  Fixture f;
  auto error = [&f](std::string_view line) {
    Lines out = f.run(line);
    REQUIRE(out.size() == 1);
    return out[0];
  };
  CHECK(error("read 1 hr 98 5").find("holding_registers 98..102 is not in the unit's block") != std::string::npos);
  CHECK(error("read 3 hr 0").find("no unit 3") != std::string::npos);
  CHECK(error("read 1 xx 0").find("'xx' is not a table") != std::string::npos);
  CHECK(error("read 1 hr -1").find("'-1' is not an address") != std::string::npos);
  CHECK(error("read 1 hr 0 0").find("'0' is not a count") != std::string::npos);
  CHECK(error("read 1 hr 0 2000").find("is not a count") != std::string::npos);
  CHECK(error("read 2 co 0").find("the unit has no coils") != std::string::npos);
  CHECK(error("read 1 co 0 float32").find("a type applies to registers") != std::string::npos);
  CHECK(error("read 1").find("usage: read UNIT TABLE ADDRESS") != std::string::npos);
  CHECK(error("read 256 hr 0").find("not a unit id") != std::string::npos);
}

TEST_CASE("console: write sets registers and coils, and what clients read changes") {
  Fixture f;
  CHECK(f.run("write 1 hr 0 1 2 65535") == Lines{"wrote 3 value(s) from 0", "ok"});
  CHECK(f.unit1->holdingRegisters()->getValues(0, 3) == std::vector<std::uint16_t>{1, 2, 65535});
  CHECK(f.run("write 1 co 5 1 on true 0") == Lines{"wrote 4 value(s) from 5", "ok"});
  CHECK(f.unit1->coils()->getValues(5, 4) == std::vector<bool>{true, true, true, false});
  CHECK(f.run("write 1 hr 0 65536").at(0).find("not a register value") != std::string::npos);
  CHECK(f.run("write 1 co 0 2").at(0).find("not a bit") != std::string::npos);
  CHECK(f.run("write 1 hr 99 1 2").at(0).find("is not in the unit's block") != std::string::npos);
  CHECK(f.unit1->holdingRegisters()->getValues(99, 1) == std::vector<std::uint16_t>{0});  // nothing half-written
}

TEST_CASE("console: typed read and write use the simulator's encoding (big-endian words)") {
  Fixture f;
  CHECK(f.run("write 1 hr 10 float32 3.5 -1.25") == Lines{"wrote 2 value(s) from 10", "ok"});
  std::vector<std::uint16_t> regs = f.unit1->holdingRegisters()->getValues(10, 4);
  std::uint16_t expected[2];
  modbus::simulator::encodeNumber(modbus::simulator::CellType::Float32, {}, 3.5L, expected);
  CHECK(regs[0] == expected[0]);
  CHECK(regs[1] == expected[1]);
  CHECK(regs[0] == 0x4060);  // 3.5f, high word first
  CHECK(f.run("read 1 hr 10 float32") == Lines{"10 3.5", "ok"});
  CHECK(f.run("read 1 hr 10 2 float32") == Lines{"10 3.5", "12 -1.25", "ok"});
  CHECK(f.run("write 1 hr 20 int32 -2") == Lines{"wrote 1 value(s) from 20", "ok"});
  CHECK(f.run("read 1 hr 20 int32") == Lines{"20 -2", "ok"});
  CHECK(f.run("read 1 hr 20 2") == Lines{"20 65535", "21 65534", "ok"});
  CHECK(f.run("write 1 hr 30 uint64 18446744073709551615") == Lines{"wrote 1 value(s) from 30", "ok"});
  CHECK(f.run("read 1 hr 30 uint64") == Lines{"30 18446744073709551615", "ok"});
  CHECK(f.run("write 1 hr 40 int16 -300") == Lines{"wrote 1 value(s) from 40", "ok"});
  CHECK(f.run("read 1 hr 40 int16") == Lines{"40 -300", "ok"});
  CHECK(f.run("read 1 hr 40 uint16") == Lines{"40 65236", "ok"});
  CHECK(f.run("write 1 hr 0 int16 40000").at(0).find("is not a int16 value") != std::string::npos);
  CHECK(f.run("write 1 hr 0 uint32 1.5").at(0).find("is not a uint32 value") != std::string::npos);
  CHECK(f.run("write 1 hr 98 float64 1").at(0).find("is not in the unit's block") != std::string::npos);
}

TEST_CASE("console: counters show the FC 8 counters of a unit, or of every unit") {
  Fixture f;
  f.unit1->control().countBusMessage();
  f.unit1->control().count(modbus::DiagnosticCounter::ServerMessage);
  f.unit1->control().countEvent();
  Lines out = f.run("counters 1");
  REQUIRE(out.size() == 2);
  CHECK(out[0] ==
        "unit 1: bus_message=1 bus_communication_error=0 bus_exception_error=0 server_message=1 "
        "server_no_response=0 server_nak=0 server_busy=0 bus_character_overrun=0 event_counter=1");
  Lines all = f.run("counters");
  REQUIRE(all.size() == 3);
  CHECK(all[1].rfind("unit 2: bus_message=0", 0) == 0);
  CHECK(f.run("counters 9").at(0).find("no unit 9") != std::string::npos);
}

TEST_CASE("console: diagnostics show the register, listen-only and the event log") {
  Fixture f;
  f.unit1->control().setDiagnosticRegister(0x0102);
  f.unit1->control().addEvent(0x80);
  Lines out = f.run("diagnostics 1");
  REQUIRE(out.size() == 7);
  CHECK(out[0] == "diagnostic_register 0x0102");
  CHECK(out[1] == "listen_only off");
  CHECK(out[5] == "event_log 1 event(s): 80");
  CHECK(out[6] == "ok");
}

TEST_CASE("console: listen-only on and off change the unit's mode, on logging FC 8/04's event") {
  Fixture f;
  CHECK(f.run("listen-only 2 on") == Lines{"unit 2 listen-only on", "ok"});
  CHECK(f.unit2->control().listenOnly());
  CHECK(f.unit2->control().eventCount() == 1);
  CHECK(f.run("listen-only 2 off") == Lines{"unit 2 listen-only off", "ok"});
  CHECK_FALSE(f.unit2->control().listenOnly());
  CHECK(f.run("listen-only 2 maybe").at(0).find("not on or off") != std::string::npos);
}

TEST_CASE("console: without servers, connections, stats, reload and trace say there is nothing") {
  Fixture f;
  CHECK(f.run("connections") == Lines{"0 connection(s)", "ok"});
  CHECK(f.run("connections close 5").at(0).find("no open connection 5") != std::string::npos);
  CHECK(f.run("connections close x").at(0).find("not a connection id") != std::string::npos);
  CHECK(f.run("stats") == Lines{"0 server(s), 0 console session(s) tracing", "ok"});
  CHECK(f.run("reload") == Lines{"no TLS server: nothing to reload", "ok"});
  CHECK(f.run("trace on") == Lines{"tracing 0 server(s)", "ok"});
  CHECK(f.console.tracingSessions() == 1);
  f.console.sessionClosed(f.session);
  CHECK(f.console.tracingSessions() == 0);
}

TEST_CASE("console: shutdown runs the target's shutdown once and quit closes the session") {
  Fixture f;
  CHECK(f.run("shutdown") == Lines{"shutting down", "ok"});
  CHECK(f.shutdowns == 1);
  CHECK(f.run("shutdown") == Lines{"already shutting down", "ok"});
  CHECK(f.shutdowns == 1);
  CHECK(f.run("quit") == Lines{"bye", "ok"});
  CHECK(f.session.closed);
}

TEST_CASE("console trace hook: a line per answer, after the hook it stands in front of") {
  class SilenceHook : public modbus::ResponseHook {
   public:
    modbus::ResponsePlan onResponse(std::uint8_t, std::span<const std::uint8_t>, std::span<std::uint8_t>,
                                    std::size_t&) override {
      ++calls;
      return {.kind = modbus::ResponsePlan::Kind::Silence};
    }
    void fillJunk(std::span<std::uint8_t> bytes) override { junk += bytes.size(); }
    int calls = 0;
    std::size_t junk = 0;
  };
  std::vector<std::string> lines;
  const std::uint8_t request[] = {0x03, 0x00, 0x0a, 0x00, 0x01};
  std::uint8_t response[8] = {0x03, 0x02, 0x12, 0x34};
  std::size_t length = 4;

  modbus::ConsoleTraceHook alone("tcp 127.0.0.1:502", nullptr, [&](std::string_view l) { lines.emplace_back(l); });
  CHECK(alone.onResponse(1, request, response, length).kind == modbus::ResponsePlan::Kind::Send);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "trace tcp 127.0.0.1:502 unit 1 request 03 00 0a 00 01 answer 03 02 12 34");

  auto next = std::make_shared<SilenceHook>();
  modbus::ConsoleTraceHook chained("tcp x", next, [&](std::string_view l) { lines.emplace_back(l); });
  CHECK(chained.onResponse(7, request, response, length).kind == modbus::ResponsePlan::Kind::Silence);
  CHECK(next->calls == 1);
  CHECK(lines.back() == "trace tcp x unit 7 request 03 00 0a 00 01 answer none (silenced)");
  std::uint8_t junk[3];
  chained.fillJunk(junk);
  CHECK(next->junk == 3);
}

TEST_CASE("console: trace on stands in front of a UDP or serial server's own hook and trace off puts it back") {
  class SendHook : public modbus::ResponseHook {
   public:
    modbus::ResponsePlan onResponse(std::uint8_t, std::span<const std::uint8_t>, std::span<std::uint8_t>,
                                    std::size_t&) override {
      ++calls;
      return {};
    }
    void fillJunk(std::span<std::uint8_t>) override {}
    int calls = 0;
  };
  reactor::Reactor reactor;  // never run: the servers are only built
  auto context = ServerContext::single(std::make_shared<DeviceContext>(
      modbus::DeviceTables{.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 10)}));
  modbus::ServerOptions udpOptions;
  auto theirs = std::make_shared<SendHook>();
  udpOptions.responseHook = theirs;
  modbus::ModbusUdpServer udp(reactor, context, udpOptions);
  modbus::ModbusSerialServer serial(reactor, context);
  Console console{ConsoleTarget{.context = context.get(),
                                .servers = [&] { return std::vector<modbus::ModbusServer*>{&udp, &serial}; }}};
  RecordingSession session;
  console.execute("trace on", session);
  CHECK(session.take() == Lines{"tracing 2 server(s)", "ok"});
  auto udpTrace = std::dynamic_pointer_cast<modbus::ConsoleTraceHook>(udp.options().responseHook);
  auto serialTrace = std::dynamic_pointer_cast<modbus::ConsoleTraceHook>(serial.options().responseHook);
  REQUIRE(udpTrace != nullptr);
  REQUIRE(serialTrace != nullptr);
  CHECK(udpTrace->next() == theirs);
  CHECK(serialTrace->next() == nullptr);

  // A request passing the UDP server's hook: one trace line, then their hook decides.
  const std::uint8_t request[] = {0x03, 0x00, 0x00, 0x00, 0x01};
  std::uint8_t response[8] = {0x03, 0x02, 0x00, 0x2a};
  std::size_t length = 4;
  CHECK(udpTrace->onResponse(1, request, response, length).kind == modbus::ResponsePlan::Kind::Send);
  CHECK(theirs->calls == 1);
  Lines traced = session.take();
  REQUIRE(traced.size() == 1);
  CHECK(traced[0].rfind("trace udp", 0) == 0);
  CHECK(traced[0].find("request 03 00 00 00 01 answer 03 02 00 2a") != std::string::npos);

  // A second "trace on" installs nothing more.
  console.execute("trace on", session);
  CHECK(session.take() == Lines{"tracing 2 server(s)", "ok"});
  CHECK(udp.options().responseHook == udpTrace);

  console.execute("trace off", session);
  CHECK(session.take() == Lines{"trace off", "ok"});
  CHECK(udp.options().responseHook == theirs);
  CHECK(serial.options().responseHook == nullptr);
}
