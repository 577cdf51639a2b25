// Tests for protocols/simulator/lua/lua_actions.h: Lua 5.4 custom actions changing values read
// over Modbus, load errors naming the file and line, and run-time errors and runaway loops
// answering 04 without taking the server down. Requests run as PDUs through a RequestProcessor;
// the command-line test runs build/uvmodbus-simulator.
#include "protocols/simulator/lua/lua_actions.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "protocols/config/config_error.h"
#include "tests/protocols/simulator/simulator_test_support.h"
#include "tests/support/subprocess.h"

namespace modbus::simulator {
namespace {

using testing::Bytes;
using testing::exceptionReply;
using testing::pdu;
using testing::registersReply;
using testing::ServedDevice;

/// A script in a temporary file, removed at the end of the test.
struct Script {
  std::string path;
  explicit Script(const std::string& text) {
    char name[] = "/tmp/uvmodbus-lua-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = std::string(name) + ".lua";
    std::rename(name, path.c_str());
    std::ofstream(path) << text;
  }
  ~Script() { std::remove(path.c_str()); }
};

const std::string kSetup = R"({"server_list": {}, "device_list": {"device": {
  "setup": {"co size": 0, "di size": 0, "hr size": 12, "ir size": 0, "shared blocks": true},
  "uint16": [{"addr": 0, "value": 10, "action": "double_it"},
             {"addr": 1, "value": 3, "action": "add_param", "parameters": {"offset": 100}},
             {"addr": 2, "value": 5, "action": "fails"},
             {"addr": 3, "value": 6, "action": "spins"},
             {"addr": 4, "value": 1, "action": "bad_return"}],
  "float32": [{"addr": [6, 7], "value": 1.5, "action": "double_it"}],
  "string": [{"addr": [8, 9], "value": "ab", "action": "shout"}],
  "write": [0]}}})";

const std::string kScript = R"(-- test actions
local actions = {}
function actions.double_it(value, cell) return value * 2 end
function actions.add_param(value, cell)
  assert(cell.type == "uint16" and cell.address == 1 and cell.registers == 1)
  return value + cell.parameters.offset
end
function actions.fails(value, cell) error("sensor unplugged") end
function actions.spins(value, cell) while true do end end
function actions.bad_return(value, cell) return {} end
function actions.shout(value, cell) return string.upper((value:gsub("%s+$", ""))) .. "!" end
return actions
)";

ServedDevice served(const Script& script) { return ServedDevice(kSetup, "device", {0.5}, loadLuaActions(script.path, {100000})); }

TEST_CASE("simulator lua: an action's return value is what the client reads") {
  Script script(kScript);
  ServedDevice d = served(script);
  CHECK(d.run(pdu(3, {0, 1})) == registersReply(3, {20}));
  CHECK(d.run(pdu(3, {0, 1})) == registersReply(3, {40}));
  CHECK(d.run(pdu(3, {1, 1})) == registersReply(3, {103}));     // the cell's parameters reach the script
  CHECK(d.run(pdu(3, {6, 2})) == registersReply(3, {0x4040, 0}));  // float32 1.5 * 2 = 3.0
  CHECK(d.run(pdu(3, {8, 2})) == registersReply(3, {0x4142, 0x2120}));  // "ab  " → "AB!", space-padded
  CHECK(d.run(pdu(6, {0, 1000})) == pdu(6, {0, 1000}));  // writes run no action
  CHECK(d.run(pdu(3, {0, 1})) == registersReply(3, {2000}));
}

TEST_CASE("simulator lua: a script error, a bad return value and a runaway loop answer 04, the next request is served") {
  Script script(kScript);
  ServedDevice d = served(script);
  CHECK(d.run(pdu(3, {2, 1})) == exceptionReply(3, 4));
  CHECK(d.run(pdu(3, {3, 1})) == exceptionReply(3, 4));  // stopped by the instruction limit
  CHECK(d.run(pdu(3, {4, 1})) == exceptionReply(3, 4));
  CHECK(d.run(pdu(3, {0, 1})) == registersReply(3, {20}));
  CHECK(d.run(pdu(3, {3, 1})) == exceptionReply(3, 4));  // again: the state is still usable
  CHECK(d.run(pdu(3, {1, 1})) == registersReply(3, {103}));
  CHECK(d.device.store->registerValue(2) == 5);
}

TEST_CASE("simulator lua: load errors name the file and line") {
  Script syntax("local actions = {}\nfunction actions.x(value) return value +\nend\nreturn actions\n");
  CHECK_THROWS_WITH_AS(loadLuaActions(syntax.path), doctest::Contains((syntax.path + ":3: unexpected symbol near 'end'").c_str()),
                       ConfigError);
  Script runtime("local t = nil\nreturn t.x\n");
  CHECK_THROWS_WITH_AS(loadLuaActions(runtime.path), doctest::Contains((runtime.path + ":2: attempt to index a nil value").c_str()),
                       ConfigError);
  Script notTable("return 4\n");
  CHECK_THROWS_WITH_AS(loadLuaActions(notTable.path),
                       (notTable.path + ": the script must return a table of actions ({name = function(value, cell) … end}), not a number").c_str(),
                       ConfigError);
  Script builtin("return {increment = function(v) return v end}\n");
  CHECK_THROWS_WITH_AS(loadLuaActions(builtin.path),
                       (builtin.path + ": action \"increment\" has the name of a built-in action").c_str(), ConfigError);
  Script loops("while true do end\n");
  CHECK_THROWS_WITH_AS(loadLuaActions(loops.path, {1000}), doctest::Contains("instruction limit reached"), ConfigError);
  CHECK_THROWS_WITH_AS(loadLuaActions("/nonexistent/actions.lua"), doctest::Contains("/nonexistent/actions.lua"),
                       ConfigError);
}

TEST_CASE("simulator lua: a script cannot open files or run programs") {
  Script script("return {x = function(v) return io.open('/etc/passwd') and 1 or 0 end}\n");
  ServedDevice d(R"({"server_list": {}, "device_list": {"device": {
    "setup": {"co size": 0, "di size": 0, "hr size": 1, "ir size": 0, "shared blocks": true},
    "uint16": [{"addr": 0, "value": 9, "action": "x"}]}}})",
                 "device", {0.5}, loadLuaActions(script.path));
  CHECK(d.run(pdu(3, {0, 1})) == exceptionReply(3, 4));  // io is nil
}

TEST_CASE("simulator lua: uvmodbus-simulator exits 2 naming the file and line of a syntax error") {
  Script syntax("return {\n  x = function(v) return v +\nend}\n");
  testsupport::Subprocess simulator({testsupport::buildDir() + "/uvmodbus-simulator", "--custom_actions_module", syntax.path});
  CHECK(simulator.wait(10) == 2);
  CHECK(simulator.output().find("--custom_actions_module: " + syntax.path + ":3: unexpected symbol near 'end'") !=
        std::string::npos);
}

}  // namespace
}  // namespace modbus::simulator
