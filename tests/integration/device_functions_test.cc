// Integration tests of the device-level function codes (FC 7, 8, 11, 12, 17, 20, 21, 24, 43) on
// our Modbus/TCP server: the pymodbus 3.0 client (tests/integration/py/device_functions_client.py),
// libmodbus (modbus_report_slave_id, modbus_send_raw_request where libmodbus can read the answer),
// and raw MBAP frames for the rest.
#include <doctest/doctest.h>
#include <modbus/modbus.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "reactor/log.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/server_thread.h"
#include "tests/support/subprocess.h"

namespace {

using Bytes = std::vector<std::uint8_t>;
using Json = nlohmann::json;
using reactor::testing::BlockingClient;
using testsupport::ServerThread;

const bool kQuiet = [] {
  reactor::log::setLevel(reactor::log::Level::Warning);
  return true;
}();

std::string hex(const std::string& text) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : text) {
    out.push_back(digits[ch >> 4]);
    out.push_back(digits[ch & 0xF]);
  }
  return out;
}

/// Units 1 and 2. Unit 1: exception status 6D, server id 42 43, the spec's file records (file 4
/// records 1-2 = 0DFE 0020, file 3 records 9-10 = 33CD 0040), a FIFO at 0x04DE holding 01B8 1284,
/// and identification objects that need three PDUs in extended stream access. Unit 2: vendor
/// "Other", server id 02 with the run indicator off.
struct Fixture {
  std::shared_ptr<modbus::DeviceContext> d1 = device();
  std::shared_ptr<modbus::DeviceContext> d2 = device();
  ServerThread server{modbus::ServerContext::multiple({{1, d1}, {2, d2}})};

  static std::shared_ptr<modbus::DeviceContext> device() {
    return std::make_shared<modbus::DeviceContext>(
        modbus::DeviceTables{.holdingRegisters = modbus::SequentialRegisterBlock::create(0, 10)});
  }

  Fixture() {
    server.call([this] {
      auto& c = d1->control();
      c.setExceptionStatus(0x6D);
      c.setServerId({0x42, 0x43});
      d1->files().addFile(4, std::vector<std::uint16_t>{0, 0x0DFE, 0x0020, 0, 0, 0, 0, 0, 0, 0});
      d1->files().addFile(3, 12);
      d1->files().setRecords(3, 9, std::vector<std::uint16_t>{0x33CD, 0x0040});
      d1->fifos().addQueue(0x04DE, {0x01B8, 0x1284});
      auto& id = d1->identity();
      id.setVendorName("Acme");
      id.setProductCode("P1");
      id.setMajorMinorRevision("1.0");
      id.setProductName("Pump");
      id.set(0x80, std::string(200, 'a'));
      id.set(0x81, std::string(200, 'b'));
      id.set(0x82, std::string(200, 'c'));
      d2->identity().setVendorName("Other");
      d2->control().setServerId({0x02});
      d2->control().setRunIndicator(false);
    });
  }
};

/// What device_functions_client.py printed, by step.
struct PyRun {
  std::map<std::string, Json> steps;
  std::string output;
  int exitCode = -1;
  Json value(const std::string& op) const {
    auto it = steps.find(op);
    return it == steps.end() || !it->second.contains("value") ? Json() : it->second["value"];
  }
  int exception(const std::string& op) const {
    auto it = steps.find(op);
    return it == steps.end() || !it->second.contains("exception") ? -1 : it->second["exception"].get<int>();
  }
};

PyRun runPymodbus(std::uint16_t port) {
  testsupport::Subprocess script({"/usr/bin/python3",
                                  testsupport::sourceDir() + "/tests/integration/py/device_functions_client.py",
                                  std::to_string(port)});
  PyRun run;
  script.waitForLine(R"("op": "done")", 60);
  run.exitCode = script.wait(10).value_or(-1);
  run.output = script.output();
  std::size_t start = 0;
  while (start < run.output.size()) {
    std::size_t end = run.output.find('\n', start);
    if (end == std::string::npos) end = run.output.size();
    const std::string line = run.output.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] != '{') continue;
    Json step = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (step.is_object() && step.contains("op")) run.steps[step["op"].get<std::string>()] = step;
  }
  return run;
}

/// A raw Modbus/TCP client: MBAP frames over a blocking socket (every read bounded by `timeout`).
class RawClient {
 public:
  explicit RawClient(std::uint16_t port, double timeout = 5.0) : socket_("127.0.0.1", port, timeout) {
    REQUIRE(socket_.connected());
  }
  /// Sends `pdu` to `unit` with transaction id `tid` (no wait).
  void send(std::uint16_t tid, std::uint8_t unit, const Bytes& pdu) {
    const auto length = static_cast<std::uint16_t>(pdu.size() + 1);
    std::string frame{static_cast<char>(tid >> 8), static_cast<char>(tid & 0xFF), 0, 0,
                      static_cast<char>(length >> 8), static_cast<char>(length & 0xFF), static_cast<char>(unit)};
    frame.append(pdu.begin(), pdu.end());
    REQUIRE(socket_.sendAll(frame));
  }
  /// The next answer: its transaction id and PDU (tid -1 when none came in time).
  std::pair<int, Bytes> receive() {
    const std::string header = socket_.readExactly(7);
    if (header.size() != 7) return {-1, {}};
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(header[i]); };
    const int tid = (byte(0) << 8) | byte(1);
    const std::size_t length = static_cast<std::size_t>((byte(4) << 8) | byte(5));
    if (length < 1) return {-1, {}};
    const std::string pdu = socket_.readExactly(length - 1);
    return {tid, Bytes(pdu.begin(), pdu.end())};
  }
  /// One request, one answer (checked to carry the same transaction id).
  Bytes exchange(std::uint8_t unit, const Bytes& pdu) {
    const std::uint16_t tid = ++tid_;
    send(tid, unit, pdu);
    auto [got, answer] = receive();
    REQUIRE(got == tid);
    return answer;
  }

 private:
  BlockingClient socket_;
  std::uint16_t tid_ = 0;
};

/// libmodbus, for the requests whose answers it knows how to read.
class Libmodbus {
 public:
  explicit Libmodbus(std::uint16_t port, int unit = 1) : ctx_(modbus_new_tcp("127.0.0.1", port)) {
    REQUIRE(ctx_ != nullptr);
    modbus_set_response_timeout(ctx_, 3, 0);
    modbus_set_slave(ctx_, unit);
    REQUIRE_MESSAGE(modbus_connect(ctx_) == 0, modbus_strerror(errno));
  }
  ~Libmodbus() {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
  Libmodbus(const Libmodbus&) = delete;
  Libmodbus& operator=(const Libmodbus&) = delete;
  modbus_t* get() const { return ctx_; }
  /// unit + PDU as is; the answer's PDU (empty on failure). Only for answers libmodbus can size:
  /// FC 7, and exception answers of any function code.
  Bytes raw(const Bytes& request) {
    if (modbus_send_raw_request(ctx_, request.data(), static_cast<int>(request.size())) < 0) return {};
    std::uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
    const int n = modbus_receive_confirmation(ctx_, rsp);
    return n < 8 ? Bytes{} : Bytes(rsp + 7, rsp + n);
  }

 private:
  modbus_t* ctx_;
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "pymodbus reads exception status, diagnostics, counters, event log, server id, files "
                           "and device identification") {
  PyRun run = runPymodbus(server.port());
  INFO(run.output.substr(0, 6000));
  REQUIRE(run.exitCode == 0);
  CHECK(run.value("read_exception_status") == 0x6D);
  CHECK(run.value("diag_query_data") == Json::array({0xA537}));
  CHECK(run.value("report_server_id") == Json({{"identifier", "4243ff"}, {"status", true}}));
  CHECK(run.value("read_file_record") == Json::array({"0dfe0020", "33cd0040"}));
  CHECK(run.value("write_file_record") == Json::array({Json::array({4, 7, "06af04be100d"})}));
  CHECK(run.value("read_file_record_after") == Json::array({"06af04be100d"}));

  const Json basic = run.value("device_info_basic");
  CHECK(basic["conformity"] == 0x83);
  CHECK(basic["more_follows"] == 0);
  CHECK(basic["objects"] == Json({{"0", hex("Acme")}, {"1", hex("P1")}, {"2", hex("1.0")}}));
  const Json first = run.value("device_info_extended_1");
  CHECK(first["more_follows"] == 0xFF);
  CHECK(first["next_object_id"] == 0x81);
  CHECK(first["objects"] == Json({{"0", hex("Acme")},
                                  {"1", hex("P1")},
                                  {"2", hex("1.0")},
                                  {"4", hex("Pump")},
                                  {"128", hex(std::string(200, 'a'))}}));
  const Json second = run.value("device_info_extended_2");
  CHECK(second["more_follows"] == 0xFF);
  CHECK(second["next_object_id"] == 0x82);
  CHECK(second["objects"] == Json({{"129", hex(std::string(200, 'b'))}}));
  const Json third = run.value("device_info_extended_3");
  CHECK(third["more_follows"] == 0);
  CHECK(third["objects"] == Json({{"130", hex(std::string(200, 'c'))}}));
  CHECK(run.exception("device_info_missing") == 2);

  // Messages 1..11 above (the 11th an exception); message 12 reads the bus message count.
  CHECK(run.value("bus_message_count") == Json::array({12}));
  CHECK(run.value("bus_exception_count") == Json::array({1}));
  CHECK(run.value("server_message_count") == Json::array({13}));  // processed before message 14
  // Events: every normal answer but FC 11's: messages 1-10 and 12-14.
  CHECK(run.value("comm_event_counter") == Json({{"status", true}, {"count", 13}}));
  const Json log = run.value("comm_event_log");
  CHECK(log["event_count"] == 13);
  CHECK(log["message_count"] == 16);
  // Newest first: message 16's receive event, then a send and a receive event per earlier message;
  // message 11's send event says "exception 01-03".
  Json events = Json::array({0x80});
  for (int k = 15; k >= 1; --k) {
    events.push_back(k == 11 ? 0x41 : 0x40);
    events.push_back(0x80);
  }
  CHECK(log["events"] == events);
  CHECK(run.value("clear_counters") == Json::array({0}));
  CHECK(run.value("bus_message_count_after_clear") == Json::array({1}));
  CHECK(run.value("restart") == Json::array({0}));
  const Json restarted = run.value("comm_event_log_after_restart");
  CHECK(restarted["event_count"] == 0);
  CHECK(restarted["message_count"] == 1);
  REQUIRE(restarted["events"].size() >= 4);
  CHECK(Json(std::vector<Json>(restarted["events"].begin(), restarted["events"].begin() + 4)) ==
        Json::array({0x80, 0x00, 0x40, 0x80}));

  // Unit 2 is a device of its own.
  const Json other = run.value("device_info_basic_unit2");
  CHECK(other["conformity"] == 0x81);
  CHECK(other["objects"] == Json({{"0", hex("Other")}, {"1", ""}, {"2", ""}}));
  CHECK(run.value("report_server_id_unit2") == Json({{"identifier", "0200"}, {"status", false}}));

  // The write landed in the device.
  CHECK(server.call([this] { return d1->files().getRecords(4, 7, 3); }) ==
        std::vector<std::uint16_t>{0x06AF, 0x04BE, 0x100D});
}

TEST_CASE_FIXTURE(Fixture, "libmodbus reports the server id of each unit (FC 17)") {
  Libmodbus one(server.port(), 1);
  std::uint8_t id[MODBUS_MAX_PDU_LENGTH] = {};
  REQUIRE(modbus_report_slave_id(one.get(), sizeof id, id) == 3);
  CHECK(Bytes(id, id + 3) == Bytes{0x42, 0x43, 0xFF});
  Libmodbus two(server.port(), 2);
  REQUIRE(modbus_report_slave_id(two.get(), sizeof id, id) == 2);
  CHECK(Bytes(id, id + 2) == Bytes{0x02, 0x00});
}

TEST_CASE_FIXTURE(Fixture, "libmodbus raw requests get FC 7's status and the spec's exception answers") {
  Libmodbus client(server.port());
  CHECK(client.raw({1, 0x07}) == Bytes{0x07, 0x6D});
  CHECK(client.raw({2, 0x07}) == Bytes{0x07, 0x00});
  CHECK(client.raw({1, 0x08, 0x00, 0x05, 0x00, 0x00}) == Bytes{0x88, 0x01});        // undefined sub-function
  CHECK(client.raw({1, 0x14, 0x07, 6, 0, 9, 0, 0, 0, 1}) == Bytes{0x94, 0x02});      // absent file
  CHECK(client.raw({1, 0x14, 0x06, 6, 0, 4, 0, 0, 0}) == Bytes{0x94, 0x03});         // byte count 6
  CHECK(client.raw({1, 0x18, 0x00, 0x01}) == Bytes{0x98, 0x02});                     // no FIFO there
  CHECK(client.raw({1, 0x2B, 0x0E, 0x04, 0x05}) == Bytes{0xAB, 0x02});               // absent object
  CHECK(client.raw({1, 0x2B, 0x0E, 0x07, 0x00}) == Bytes{0xAB, 0x03});               // bad read code
  CHECK(client.raw({1, 0x2B, 0x0D, 0x00}) == Bytes{0xAB, 0x01});                     // CANopen
}

TEST_CASE_FIXTURE(Fixture, "raw FC 24 reads the FIFO without consuming it, follows the application's pushes, "
                           "and answers 03 past 31 values") {
  RawClient client(server.port());
  const Bytes spec{0x18, 0x00, 0x06, 0x00, 0x02, 0x01, 0xB8, 0x12, 0x84};
  CHECK(client.exchange(1, {0x18, 0x04, 0xDE}) == spec);
  CHECK(client.exchange(1, {0x18, 0x04, 0xDE}) == spec);
  server.call([this] {
    d1->fifos().pop(0x04DE);
    for (std::uint16_t v = 0; v < 30; ++v) d1->fifos().push(0x04DE, v);
  });
  const Bytes full = client.exchange(1, {0x18, 0x04, 0xDE});
  REQUIRE(full.size() == 5 + 62);
  CHECK(Bytes(full.begin(), full.begin() + 7) == Bytes{0x18, 0x00, 0x40, 0x00, 0x1F, 0x12, 0x84});
  server.call([this] { d1->fifos().push(0x04DE, 30); });
  Libmodbus lib(server.port());
  CHECK(lib.raw({1, 0x18, 0x04, 0xDE}) == Bytes{0x98, 0x03});
  CHECK(server.call([this] { return d1->fifos().size(0x04DE); }) == 32);
}

TEST_CASE_FIXTURE(Fixture, "raw FC 43/14 extended stream access pages through every object with more-follows") {
  RawClient client(server.port());
  std::map<int, std::string> objects;
  std::uint8_t next = 0;
  int pdus = 0;
  for (bool more = true; more && pdus < 10; ++pdus) {
    const Bytes answer = client.exchange(1, {0x2B, 0x0E, 0x03, next});
    REQUIRE(answer.size() >= 7);
    REQUIRE(answer[0] == 0x2B);
    CHECK(answer[3] == 0x83);
    more = answer[4] == 0xFF;
    next = answer[5];
    std::size_t at = 7;
    for (int i = 0; i < answer[6]; ++i) {
      REQUIRE(at + 2 <= answer.size());
      const std::size_t length = answer[at + 1];
      REQUIRE(at + 2 + length <= answer.size());
      objects[answer[at]] = std::string(answer.begin() + static_cast<std::ptrdiff_t>(at + 2),
                                        answer.begin() + static_cast<std::ptrdiff_t>(at + 2 + length));
      at += 2 + length;
    }
    CHECK(at == answer.size());
  }
  CHECK(pdus == 3);
  CHECK(objects == std::map<int, std::string>{{0, "Acme"},
                                              {1, "P1"},
                                              {2, "1.0"},
                                              {4, "Pump"},
                                              {0x80, std::string(200, 'a')},
                                              {0x81, std::string(200, 'b')},
                                              {0x82, std::string(200, 'c')}});
}

TEST_CASE_FIXTURE(Fixture, "file records written on one connection are read on the next (FC 21, FC 20)") {
  {
    RawClient writer(server.port());
    const Bytes write{0x15, 0x0D, 0x06, 0x00, 0x04, 0x00, 0x07, 0x00, 0x03, 0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D};
    CHECK(writer.exchange(1, write) == write);
  }
  RawClient reader(server.port());
  CHECK(reader.exchange(1, {0x14, 0x07, 0x06, 0x00, 0x04, 0x00, 0x07, 0x00, 0x03}) ==
        Bytes{0x14, 0x08, 0x07, 0x06, 0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D});
}

TEST_CASE_FIXTURE(Fixture, "raw FC 8/04 silences a unit until FC 8/01, which is not answered either") {
  RawClient client(server.port());
  // Pipelined: only the last request may be answered, so the first answer to arrive tells.
  client.send(1, 1, {0x08, 0x00, 0x04, 0x00, 0x00});  // force listen-only: no answer
  client.send(2, 1, {0x06, 0x00, 0x01, 0x12, 0x34});  // ignored
  client.send(3, 2, {0x03, 0x00, 0x01, 0x00, 0x01});  // unit 2 still answers
  client.send(4, 1, {0x08, 0x00, 0x01, 0x00, 0x00});  // restart: leaves listen-only, no answer
  client.send(5, 1, {0x03, 0x00, 0x01, 0x00, 0x01});  // answered again
  auto [tid3, answer3] = client.receive();
  CHECK(tid3 == 3);
  CHECK(answer3 == Bytes{0x03, 0x02, 0x00, 0x00});
  auto [tid5, answer5] = client.receive();
  CHECK(tid5 == 5);
  CHECK(answer5 == Bytes{0x03, 0x02, 0x00, 0x00});  // the write in listen-only mode did nothing
  // The event log tells the story, newest first: receive of 5... then the restart event.
  const Bytes log = client.exchange(1, {0x0C});
  REQUIRE(log.size() >= 8 + 8);
  CHECK(Bytes(log.begin() + 8, log.begin() + 16) == Bytes{0x80, 0x40, 0x80, 0x00, 0x60, 0xA0, 0x60, 0xA0});
}

TEST_CASE_FIXTURE(Fixture, "raw FC 8 counters count exactly what this connection sent") {
  RawClient client(server.port());
  CHECK(client.exchange(1, {0x08, 0x00, 0x0A, 0x00, 0x00}) == Bytes{0x08, 0x00, 0x0A, 0x00, 0x00});
  CHECK(client.exchange(1, {0x03, 0x00, 0x00, 0x00, 0x00}) == Bytes{0x83, 0x03});
  CHECK(client.exchange(1, {0x03, 0x00, 0x00, 0x00, 0x01}) == Bytes{0x03, 0x02, 0x00, 0x00});
  CHECK(client.exchange(1, {0x08, 0x00, 0x0B, 0x00, 0x00}) == Bytes{0x08, 0x00, 0x0B, 0x00, 0x03});
  CHECK(client.exchange(1, {0x08, 0x00, 0x0D, 0x00, 0x00}) == Bytes{0x08, 0x00, 0x0D, 0x00, 0x01});
  CHECK(client.exchange(1, {0x08, 0x00, 0x0E, 0x00, 0x00}) == Bytes{0x08, 0x00, 0x0E, 0x00, 0x04});
  CHECK(client.exchange(1, {0x08, 0x00, 0x0F, 0x00, 0x00}) == Bytes{0x08, 0x00, 0x0F, 0x00, 0x00});
  CHECK(client.exchange(1, {0x0B}) == Bytes{0x0B, 0x00, 0x00, 0x00, 0x05});  // 0A was cleared after it
  CHECK(client.exchange(2, {0x08, 0x00, 0x0B, 0x00, 0x00}) == Bytes{0x08, 0x00, 0x0B, 0x00, 0x01});
}
