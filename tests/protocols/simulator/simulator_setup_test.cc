// setup.json features beyond the pymodbus files: separate blocks, more types, orders, defaults,
// generators, faults, through real PDUs.
#include "protocols/simulator/simulator_setup.h"

#include <doctest/doctest.h>

#include <string>

#include "tests/protocols/simulator/simulator_test_support.h"
#include "tests/support/scoped_time_zone.h"

namespace modbus::simulator {
namespace {

using namespace testing;

std::string setup(const std::string& setupKeys, const std::string& sections) {
  return R"({"server_list": {}, "device_list": {"device": {"setup": {)" + setupKeys + "}, " + sections + "}}}";
}

TEST_CASE("simulator: shared blocks false: co 0-9, di 10-19, ir 20-29, hr 30-39, each table from address 0") {
  ServedDevice d(setup(R"("co size": 10, "di size": 10, "hr size": 10, "ir size": 10, "shared blocks": false)",
                       R"("bits": [{"addr": 0, "value": 5}, {"addr": 10, "value": 2}],
                          "uint16": [{"addr": 20, "value": 200}, {"addr": 30, "value": 300}, {"addr": 39, "value": 309}],
                          "write": [0, 30])"),
                 "device");
  CHECK(d.run(pdu(1, {0, 3})) == Bytes{1, 1, 0x05});
  CHECK(d.run(pdu(2, {0, 3})) == Bytes{2, 1, 0x02});
  CHECK(d.run(pdu(4, {0, 1})) == registersReply(4, {200}));
  CHECK(d.run(pdu(3, {0, 1})) == registersReply(3, {300}));
  CHECK(d.run(pdu(3, {9, 1})) == registersReply(3, {309}));
  CHECK(d.run(pdu(3, {10, 1})) == exceptionReply(3, 2));  // past hr size
  CHECK(d.run(pdu(5, {1, 0xFF00})) == pdu(5, {1, 0xFF00}));
  CHECK(d.run(pdu(1, {0, 3})) == Bytes{1, 1, 0x07});
  CHECK(d.run(pdu(6, {0, 7})) == pdu(6, {0, 7}));
  CHECK(d.device.store->registerValue(30) == 7);
}

TEST_CASE("simulator: int16, int32, int64, uint64 and float64 values") {
  ServedDevice d(setup(R"("co size": 0, "di size": 0, "hr size": 20, "ir size": 0, "type exception": true)",
                       R"("int16": [{"addr": 0, "value": -2}], "int32": [{"addr": [1, 2], "value": -1}],
                          "int64": [{"addr": [3, 6], "value": -2}],
                          "uint64": [{"addr": [7, 10], "value": 18446744073709551615}],
                          "float64": [{"addr": [11, 14], "value": -505.78}])"),
                 "device");
  CHECK(d.run(pdu(3, {0, 3})) == registersReply(3, {0xFFFE, 0xFFFF, 0xFFFF}));
  CHECK(d.run(pdu(3, {3, 4})) == registersReply(3, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE}));
  CHECK(d.run(pdu(3, {7, 4})) == registersReply(3, {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}));
  CHECK(d.run(pdu(3, {11, 4})) == registersReply(3, {0xC07F, 0x9C7A, 0xE147, 0xAE14}));
  CHECK(d.run(pdu(3, {11, 3})) == exceptionReply(3, 2));
}

TEST_CASE("simulator: one address defines one value of the type's width") {
  ServedDevice d(setup(R"("co size": 0, "di size": 0, "hr size": 8, "ir size": 0, "type exception": true)",
                       R"("uint32": [0], "float64": [{"addr": 2, "value": 1.0}], "string": [{"addr": 6, "value": "ok"}])"),
                 "device");
  CHECK(d.run(pdu(3, {0, 7})) == registersReply(3, {0, 0, 0x3FF0, 0, 0, 0, 0x6F6B}));
  CHECK(d.run(pdu(3, {1, 1})) == exceptionReply(3, 2));
  CHECK_THROWS_WITH_AS(loadSimulatorDevice(setup(R"("co size": 0, "di size": 0, "hr size": 8, "ir size": 0)",
                                                 R"("int64": [6])"),
                                           "device"),
                       "device_list.device.int64[0]: int64 at 6 needs registers [6, 9], past the end of the device "
                       "(last register 7)",
                       ConfigError);
}

TEST_CASE("simulator: word_order and byte_order per device and per entry") {
  ServedDevice d(setup(R"("co size": 0, "di size": 0, "hr size": 8, "ir size": 0, "word_order": "little")",
                       R"("uint32": [{"addr": [0, 1], "value": 617001},
                                     {"addr": [2, 3], "value": 617001, "word_order": "big"},
                                     {"addr": [4, 5], "value": 617001, "word_order": "big", "byte_order": "little"}],
                          "uint16": [{"addr": 6, "value": 4660, "byte_order": "little"}])"),
                 "device");
  CHECK(d.run(pdu(3, {0, 7})) == registersReply(3, {0x6A29, 0x0009, 0x0009, 0x6A29, 0x0900, 0x296A, 0x3412}));
}

TEST_CASE("simulator: defaults give every entry of a type its value and action") {
  ServedDevice d(setup(R"("co size": 0, "di size": 0, "hr size": 8, "ir size": 0,
                          "defaults": {"value": {"uint16": 7, "string": "ab"}, "action": {"uint16": "increment"}})",
                       R"("uint16": [0, {"addr": 1, "action": null}, {"addr": 2, "value": 1}], "string": [[3, 4]])"),
                 "device");
  CHECK(d.run(pdu(3, {0, 5})) == registersReply(3, {8, 7, 2, 0x6162, 0x2020}));
}

TEST_CASE("simulator: generators from the file follow the clock") {
  ServedDevice d(setup(R"("co size": 0, "di size": 0, "hr size": 4, "ir size": 0)",
                       R"("int16": [{"addr": 0, "action": "sine", "parameters": {"period": 4, "amplitude": 10, "offset": 100}},
                                    {"addr": 1, "action": "square", "parameters": {"period": 4, "amplitude": 10}},
                                    {"addr": 2, "action": "ramp", "parameters": {"period": 10, "amplitude": 5, "offset": 5}},
                                    {"addr": 3, "value": 50, "action": "random_walk", "parameters": {"amplitude": 2, "minval": 0, "maxval": 100}}])"),
                 "device", {0.75});
  d.clock->setMonotonic(1);
  CHECK(d.run(pdu(3, {0, 4})) == registersReply(3, {110, 10, 1, 51}));
  d.clock->setMonotonic(3);
  CHECK(d.run(pdu(3, {0, 4})) == registersReply(3, {90, 0xFFF6, 3, 52}));
}

TEST_CASE("simulator: timestamp and reset from the file") {
  ServedDevice d(setup(R"("co size": 0, "di size": 0, "hr size": 9, "ir size": 0)",
                       R"("uint16": [{"addr": 0, "action": "timestamp"}, [1, 6], {"addr": 7, "value": 5}, {"addr": 8, "action": "reset"}],
                          "write": [7])"),
                 "device");
  const testsupport::ScopedTimeZone utc("UTC0");  // the action writes local time
  d.clock->setUnix(1700000000);
  CHECK(d.run(pdu(3, {0, 7})) == registersReply(3, {2023, 10, 14, 2, 22, 13, 20}));
  CHECK(d.run(pdu(6, {7, 9})) == pdu(6, {7, 9}));
  CHECK(d.run(pdu(3, {7, 1})) == registersReply(3, {9}));
  CHECK(d.run(pdu(3, {7, 2})) == registersReply(3, {5, 0}));
}

TEST_CASE("simulator: a cell fault from the file answers its exception") {
  ServedDevice d(setup(R"("co size": 0, "di size": 0, "hr size": 9, "ir size": 0)",
                       R"("uint16": [{"addr": 7, "value": 3, "exception": 4}, 6])"),
                 "device");
  CHECK(d.run(pdu(3, {6, 1})) == registersReply(3, {0}));
  CHECK(d.run(pdu(3, {6, 2})) == exceptionReply(3, 4));
}

TEST_CASE("simulator: a custom action from the program, by name") {
  std::map<std::string, CustomAction> actions = {
      {"double", [](SimulatorStore& s, std::uint32_t first, const ActionParameters&) {
         s.setNumber(first, s.number(first) * 2);
       }}};
  ServedDevice d(setup(R"("co size": 0, "di size": 0, "hr size": 1, "ir size": 0)",
                       R"("uint16": [{"addr": 0, "value": 3, "action": "double", "parameters": {"anything": 1}}])"),
                 "device", {0.5}, actions);
  CHECK(d.run(pdu(3, {0, 1})) == registersReply(3, {6}));
  CHECK(d.run(pdu(3, {0, 1})) == registersReply(3, {12}));
}

}  // namespace
}  // namespace modbus::simulator

namespace modbus::simulator {
namespace {

TEST_CASE("simulator: registerAction: by name, chained, built-in, empty and repeated names are refused") {
  SimulatorSetupOptions options;
  auto manual = std::make_shared<ManualSimulatorClock>();
  options.clock = manual;
  options.registerAction("triple", [](SimulatorStore& s, std::uint32_t first, const ActionParameters&) {
           s.setNumber(first, s.number(first) * 3);
         })
      .registerAction("hold", [](SimulatorStore& s, std::uint32_t first, const ActionParameters& p) {
        s.setNumber(first, p.maxval.value_or(0));
      });
  CHECK_THROWS_WITH_AS(options.registerAction("increment", [](SimulatorStore&, std::uint32_t, const ActionParameters&) {}),
                       "registerAction: \"increment\" is a built-in action", std::invalid_argument);
  CHECK_THROWS_WITH_AS(options.registerAction("triple", [](SimulatorStore&, std::uint32_t, const ActionParameters&) {}),
                       "registerAction: \"triple\" is registered already", std::invalid_argument);
  CHECK_THROWS_AS(options.registerAction("", [](SimulatorStore&, std::uint32_t, const ActionParameters&) {}),
                  std::invalid_argument);
  CHECK_THROWS_AS(options.registerAction("none", nullptr), std::invalid_argument);
  const SimulatorDevice device = loadSimulatorDevice(
      R"({"device_list": {"d": {"setup": {"co size": 0, "di size": 0, "hr size": 3, "ir size": 0},
          "uint16": [{"addr": 0, "value": 2, "action": "triple"}, {"addr": 1, "action": "hold", "parameters": {"maxval": 9}}],
          "string": [{"addr": 2, "value": "ab", "action": "triple"}]}}})",
      "d", options);
  RequestProcessor processor(ServerContext::single(device.makeContext()));
  std::array<std::uint8_t, kMaxPduSize> response{};
  const Bytes request = pdu(3, {0, 3});
  const std::size_t n = processor.process(1, request, response);
  CHECK(Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n)) == registersReply(3, {6, 9, 0x6162}));
  CHECK(device.store->text(2) == "ab");  // the action ran on a string and left it (setNumber ignores strings)
}

}  // namespace
}  // namespace modbus::simulator
