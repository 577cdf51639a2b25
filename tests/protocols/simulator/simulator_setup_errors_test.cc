// Every setup.json mistake is a ConfigError naming its JSON path and the problem, word for word.
#include <doctest/doctest.h>

#include <string>

#include "protocols/simulator/simulator_setup.h"

namespace modbus {
namespace {

/// A setup with one device "device" of 100 registers (shared) whose other sections are `sections`.
std::string device(const std::string& sections, const std::string& setupExtra = "") {
  return R"({"server_list": {}, "device_list": {"device": {"setup": {"co size": 100, "di size": 100,
            "hr size": 100, "ir size": 100, "shared blocks": true)" +
         setupExtra + "}" + (sections.empty() ? "" : ", " + sections) + "}}}";
}

std::string loadError(const std::string& json, const std::string& name = "device") {
  try {
    loadSimulatorDevice(json, name);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded)";
}

std::string serverError(const std::string& server) {
  try {
    parseSimulatorServer(R"({"server_list": {"server": )" + server + R"(}, "device_list": {}})", "server");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST_CASE("simulator: a range that is not a whole number of values names the entry's addr") {
  CHECK(loadError(device(R"("uint32": [[20, 21], {"addr": [22, 24]}])")) ==
        "device_list.device.uint32[1].addr: [22, 24] is not a whole number of 2-register values");
  CHECK(loadError(device(R"("float64": [[0, 5]])")) ==
        "device_list.device.float64[0]: [0, 5] is not a whole number of 4-register values");
}

TEST_CASE("simulator: unknown keys are errors at every level") {
  CHECK(loadError(device("", R"(, "co_size": 3)")) ==
        "device_list.device.setup.co_size: unknown key (expected one of: co size, di size, hr size, ir size, "
        "shared blocks, type exception, offline, defaults, word_order, byte_order)");
  CHECK(loadError(device(R"("uint16": [{"addr": 1, "vlaue": 3}])")) ==
        "device_list.device.uint16[0].vlaue: unknown key (expected one of: addr, value, action, parameters, args, "
        "word_order, byte_order, exception)");
  CHECK(loadError(device(R"("float": [1])")) ==
        "device_list.device.float: unknown key (expected one of: setup, invalid, write, repeat, bits, uint16, int16, "
        "uint32, int32, float32, uint64, int64, float64, string)");
  CHECK(loadError(device(R"("uint16": [{"addr": 1, "action": "increment", "parameters": {"min": 3}}])")) ==
        "device_list.device.uint16[0].parameters.min: unknown key (expected one of: minval, maxval, period, "
        "amplitude, offset)");
}

TEST_CASE("simulator: overlapping definitions name both entries") {
  CHECK(loadError(device(R"("bits": [7], "uint16": [[5, 9]])")) ==
        "device_list.device.uint16[0]: register 7 is already defined by device_list.device.bits[0]");
  CHECK(loadError(device(R"("invalid": [[0, 3]], "uint32": [{"addr": [2, 3], "value": 1}])")) ==
        "device_list.device.uint32[0].addr: register 2 is already defined by \"invalid\"");
}

TEST_CASE("simulator: write needs defined cells") {
  CHECK(loadError(device(R"("uint16": [7], "write": [7, 8])")) ==
        "device_list.device.write[1]: register 8 is not defined (\"write\" needs a defined cell)");
  CHECK(loadError(device(R"("invalid": [3], "write": [3])")) ==
        "device_list.device.write[0]: register 3 is listed in \"invalid\" (\"write\" needs a defined cell)");
}

TEST_CASE("simulator: values outside their type are errors") {
  CHECK(loadError(device(R"("uint16": [{"addr": 0, "value": 70000}])")) ==
        "device_list.device.uint16[0].value: 70000 is not a uint16 value (0..65535)");
  CHECK(loadError(device(R"("int16": [{"addr": 0, "value": -40000}])")) ==
        "device_list.device.int16[0].value: -40000 is not an int16 value (-32768..32767)");
  CHECK(loadError(device(R"("uint32": [{"addr": [0, 1], "value": -1}])")) ==
        "device_list.device.uint32[0].value: -1 is not a uint32 value (0..4294967295)");
  CHECK(loadError(device(R"("uint16": [{"addr": 0, "value": 1.5}])")) ==
        "device_list.device.uint16[0].value: 1.5 is not a whole number");
  CHECK(loadError(device(R"("float32": [{"addr": [0, 1], "value": "x"}])")) ==
        "device_list.device.float32[0].value: expected a float32 value (a number), got a string");
}

TEST_CASE("simulator: a string longer than its registers is an error") {
  CHECK(loadError(device(R"("string": [{"addr": [0, 1], "value": "ABCDE"}])")) ==
        "device_list.device.string[0].value: \"ABCDE\" (5 characters) does not fit in 2 registers (4 characters)");
}

TEST_CASE("simulator: a cell past the block size is an error") {
  CHECK(loadError(device(R"("uint16": [100])")) ==
        "device_list.device.uint16[0]: register 100 is past the end of the device (last register 99)");
  CHECK(loadError(device(R"("uint16": [{"addr": [98, 120]}])")) ==
        "device_list.device.uint16[0].addr: register 120 is past the end of the device (last register 99)");
  CHECK(loadError(device(R"("uint16": [[9, 3]])")) == "device_list.device.uint16[0]: [9, 3] ends before it starts");
}

TEST_CASE("simulator: unknown actions and misplaced actions are errors") {
  CHECK(loadError(device(R"("uint16": [{"addr": 0, "action": "register"}])")) ==
        "device_list.device.uint16[0].action: unknown action \"register\" (expected one of: increment, random, "
        "timestamp, uptime, reset, sine, ramp, square, random_walk)");
  CHECK(loadError(device(R"("string": [{"addr": 0, "action": "increment"}])")) ==
        "device_list.device.string[0].action: action \"increment\" does not apply to string values");
  CHECK(loadError(device(R"("uint16": [{"addr": 0, "action": "sine", "parameters": {"period": 0}}])")) ==
        "device_list.device.uint16[0].parameters.period: 0 is not a period (seconds, above 0)");
  CHECK(loadError(device(R"("uint16": [{"addr": 0, "action": "random", "args": {"minval": 5, "maxval": 1}}])")) ==
        "device_list.device.uint16[0].args: minval is above maxval");
}

TEST_CASE("simulator: setup, device names and JSON itself") {
  CHECK(loadError(device(""), "other") == "device_list: no device \"other\" (devices: device)");
  CHECK(loadError(R"({"device_list": {"d": {}}})", "d") ==
        "device_list.d: missing \"setup\" (co size, di size, hr size, ir size)");
  CHECK(loadError(R"({"device_list": {"d": {"setup": {"co size": 1}}}})", "d") ==
        "device_list.d.setup: missing \"di size\"");
  CHECK(loadError(R"({"device_list": {"d": {"setup": {"co size": 70000}}}})", "d").rfind(
            "device_list.d.setup.co size: ", 0) == 0);
  CHECK(loadError(R"({"device_list": {}, "device_list": {}})").find("device_list") != std::string::npos);
  CHECK(loadError(device("", R"(, "word_order": "middle")")) ==
        "device_list.device.setup.word_order: \"middle\" is not an order (big or little)");
}

TEST_CASE("simulator: repeat must not overwrite or cut values") {
  CHECK(loadError(device(R"("uint16": [1, 5], "repeat": [{"addr": [0, 1], "to": [4, 7]}])")) ==
        "device_list.device.repeat[0].to: register 5 is already defined by device_list.device.uint16[1]");
  CHECK(loadError(device(R"("uint32": [[0, 1]], "repeat": [{"addr": [0, 1], "to": [10, 12]}])")) ==
        "device_list.device.repeat[0].to: [10, 12] ends inside a value copied from register 0");
}

TEST_CASE("simulator: server entries: comm, framer, keys of another kind, identity") {
  CHECK(serverError(R"({"comm": "http"})") == "server_list.server.comm: \"http\" is not a comm (tcp, udp, tls or serial)");
  CHECK(serverError(R"({"comm": "serial", "port": "/dev/ttyS0", "framer": "socket"})") ==
        "server_list.server.framer: a serial line takes framer rtu or ascii, not socket");
  CHECK(serverError(R"({"comm": "tcp", "baudrate": 9600})") ==
        "server_list.server.baudrate: only a serial server (\"comm\": \"serial\") takes this key");
  CHECK(serverError(R"({"comm": "tcp", "port": 70000})").rfind("server_list.server.port: ", 0) == 0);
  CHECK(serverError(R"({"comm": "tls", "port": 802})") == "server_list.server: a tls server needs \"certfile\" and \"keyfile\"");
  CHECK(serverError(R"({"comm": "tcp", "identity": {"VendorNmae": "x"}})").rfind("server_list.server.identity.VendorNmae: ", 0) == 0);
  CHECK(serverError(R"({"comm": "tcp", "ignore_missing_devices": true, "ignore_missing_slaves": true})") ==
        "server_list.server: give \"ignore_missing_devices\" or its older name \"ignore_missing_slaves\", not both");
  CHECK(serverError(R"({"comm": "tcp", "hots": "x"})").rfind("server_list.server.hots: unknown key", 0) == 0);
}

}  // namespace
}  // namespace modbus
