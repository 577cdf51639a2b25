// Custom simulator actions written in Lua 5.4: the one small interface between the simulator and
// Lua (--custom_actions_module FILE.lua, in place of pymodbus's Python module). Nothing else in
// uvmodbus includes Lua; this folder builds into its own library, linked by uvmodbus-simulator only.
// The script returns a table of functions, one per action name:
//   return { double_it = function(value, cell) return value * 2 end }
// `value` is the value being read (a number, or a string for string cells); `cell` is
// {address = first register, type = "uint16"|…, registers = n, parameters = {minval=…, maxval=…,
// period=…, amplitude=…, offset=…}}. The function returns the new value (nil: unchanged).
// Rules:
// - Loading fails with a ConfigError that names the file and line (Lua's "FILE:LINE: message"),
//   also when the script does not return a table of functions or names a built-in action.
// - At run time a script error, a bad return value or a script running past the instruction limit
//   (lua_sethook count) is logged and throws, so the request answers 04; the server carries on.
// - One Lua state per load, shared by its actions; reactor thread only, like the store.
// Tests: tests/protocols/simulator/simulator_lua_actions_test.cc
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "datastore/simulator/simulator_store.h"

namespace modbus::simulator {

struct LuaLimits {
  /// Lua VM instructions one call (or the loading of the script) may run before it is stopped.
  std::uint32_t instructions = 1'000'000;  // about 10-50 ms of a busy CPU
  /// Bytes the Lua state may allocate in total.
  std::size_t memoryBytes = 64u << 20;
};

/// Loads `file` and returns its actions by name (for SimulatorSetupOptions::registerAction).
/// Throws ConfigError.
std::map<std::string, CustomAction> loadLuaActions(const std::string& file, LuaLimits limits = {});

}  // namespace modbus::simulator
