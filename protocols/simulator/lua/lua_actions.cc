// loadLuaActions: a Lua 5.4 state per script, its returned table's functions wrapped as
// CustomActions. Every call runs under lua_pcall with an instruction-count hook and a capped
// allocator, so a script can fail, loop or grow without taking the server down.
#include "protocols/simulator/lua/lua_actions.h"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <utility>

#include <lua5.4/lua.hpp>

#include "protocols/config/config_error.h"
#include "reactor/log.h"

namespace modbus::simulator {
namespace {

/// The Lua state and what its hooks need; shared by the actions of one script.
class LuaScript {
 public:
  LuaScript(std::string file, LuaLimits limits) : file_(std::move(file)), limits_(limits) {
    state_ = lua_newstate(&LuaScript::allocate, this);
    if (state_ == nullptr) throw ConfigError(file_ + ": cannot create a Lua state");
    luaL_openlibs(state_);
    // No files, processes or loading of more code from a simulator action.
    for (const char* name : {"io", "os", "package", "debug"}) {
      lua_pushnil(state_);
      lua_setglobal(state_, name);
    }
    for (const char* name : {"dofile", "loadfile", "require", "load"}) {
      lua_pushnil(state_);
      lua_setglobal(state_, name);
    }
  }
  ~LuaScript() {
    if (state_ != nullptr) lua_close(state_);
  }
  LuaScript(const LuaScript&) = delete;
  LuaScript& operator=(const LuaScript&) = delete;

  lua_State* state() const { return state_; }
  const std::string& file() const { return file_; }

  /// lua_pcall under the instruction limit; the error message (left on the stack) on failure.
  int protectedCall(int arguments, int results) {
    lua_sethook(state_, &LuaScript::countHook, LUA_MASKCOUNT, static_cast<int>(limits_.instructions));
    const int rc = lua_pcall(state_, arguments, results, 0);
    lua_sethook(state_, nullptr, 0, 0);
    return rc;
  }

  /// The error on top of the stack as text, popped.
  std::string popError() {
    const char* text = lua_tostring(state_, -1);
    std::string out = text != nullptr ? text : "(an error that is not a string)";
    lua_pop(state_, 1);
    return out;
  }

 private:
  static void* allocate(void* self, void* block, std::size_t oldSize, std::size_t newSize) {
    auto* script = static_cast<LuaScript*>(self);
    const std::size_t old = block != nullptr ? oldSize : 0;
    if (newSize == 0) {
      std::free(block);
      script->used_ -= old;
      return nullptr;
    }
    if (newSize > old && script->used_ - old + newSize > script->limits_.memoryBytes) return nullptr;
    void* grown = std::realloc(block, newSize);
    if (grown != nullptr) script->used_ = script->used_ - old + newSize;
    return grown;
  }
  static void countHook(lua_State* state, lua_Debug*) { luaL_error(state, "instruction limit reached (a runaway loop?)"); }

  std::string file_;
  LuaLimits limits_;
  std::size_t used_ = 0;
  lua_State* state_ = nullptr;
};

/// Registers of the value starting at `first` (1 for a lone cell).
std::uint32_t registersOf(const SimulatorStore& store, std::uint32_t first) {
  std::uint32_t n = 1;
  while (first + n < store.size() && !store.cell(first + n).first && store.cell(first + n).type == store.cell(first).type) {
    ++n;
  }
  return n;
}

void setField(lua_State* L, const char* key, const std::optional<long double>& value) {
  if (!value) return;
  lua_pushnumber(L, static_cast<lua_Number>(*value));
  lua_setfield(L, -2, key);
}

/// Calls the script's function `name` for the value at `first` and stores what it returns.
void callAction(LuaScript& script, const std::string& name, SimulatorStore& store, std::uint32_t first,
                const ActionParameters& parameters) {
  lua_State* L = script.state();
  const int top = lua_gettop(L);
  auto fail = [&](const std::string& problem) {
    lua_settop(L, top);
    reactor::log::warning(script.file(), ": action \"", name, "\" at register ", first, ": ", problem,
                          " (answered 04)");
    throw std::runtime_error(problem);
  };
  const Cell& cell = store.cell(first);
  const bool isString = cell.type == CellType::String;
  const std::uint32_t registers = registersOf(store, first);
  lua_getfield(L, LUA_REGISTRYINDEX, "uvmodbus.actions");
  lua_getfield(L, -1, name.c_str());
  lua_remove(L, -2);
  if (isString) {
    const std::string text = store.text(first);
    lua_pushlstring(L, text.data(), text.size());
  } else {
    lua_pushnumber(L, static_cast<lua_Number>(store.number(first)));
  }
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, first);
  lua_setfield(L, -2, "address");
  const std::string_view type = cellTypeName(cell.type);
  lua_pushlstring(L, type.data(), type.size());
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, registers);
  lua_setfield(L, -2, "registers");
  lua_createtable(L, 0, 5);
  setField(L, "minval", parameters.minval);
  setField(L, "maxval", parameters.maxval);
  setField(L, "period", parameters.period);
  setField(L, "amplitude", parameters.amplitude);
  setField(L, "offset", parameters.offset);
  lua_setfield(L, -2, "parameters");
  if (script.protectedCall(2, 1) != LUA_OK) fail(script.popError());
  if (lua_isnil(L, -1)) {
    lua_settop(L, top);
    return;
  }
  if (isString) {
    if (lua_type(L, -1) != LUA_TSTRING) fail("returned a " + std::string(luaL_typename(L, -1)) + ", not a string");
    std::size_t length = 0;
    const char* text = lua_tolstring(L, -1, &length);
    if (length > 2u * registers) fail("returned " + std::to_string(length) + " characters for " + std::to_string(registers) + " registers");
    for (std::uint32_t r = 0; r < registers; ++r) {
      auto at = [&](std::size_t i) { return i < length ? static_cast<std::uint8_t>(text[i]) : std::uint8_t{' '}; };
      store.setRegister(first + r, static_cast<std::uint16_t>(at(2u * r) << 8 | at(2u * r + 1)));
    }
  } else {
    if (lua_type(L, -1) != LUA_TNUMBER) fail("returned a " + std::string(luaL_typename(L, -1)) + ", not a number");
    const lua_Number value = lua_tonumber(L, -1);
    if (!std::isfinite(value)) fail("returned a number that is not finite");
    store.setNumber(first, static_cast<long double>(value));
  }
  lua_settop(L, top);
}

}  // namespace

std::map<std::string, CustomAction> loadLuaActions(const std::string& file, LuaLimits limits) {
  auto script = std::make_shared<LuaScript>(file, limits);
  lua_State* L = script->state();
  if (luaL_loadfilex(L, file.c_str(), "t") != LUA_OK) throw ConfigError(script->popError());
  if (script->protectedCall(0, 1) != LUA_OK) throw ConfigError(script->popError());
  if (!lua_istable(L, -1)) {
    throw ConfigError(file + ": the script must return a table of actions ({name = function(value, cell) … end}), not a " +
                      luaL_typename(L, -1));
  }
  std::map<std::string, CustomAction> actions;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) throw ConfigError(file + ": an action's name is not a string");
    const std::string name = lua_tostring(L, -2);
    if (!lua_isfunction(L, -1)) throw ConfigError(file + ": action \"" + name + "\" is not a function");
    if (actionFromName(name)) throw ConfigError(file + ": action \"" + name + "\" has the name of a built-in action");
    actions.emplace(name, [script, name](SimulatorStore& store, std::uint32_t first, const ActionParameters& p) {
      callAction(*script, name, store, first, p);
    });
    lua_pop(L, 1);
  }
  if (actions.empty()) throw ConfigError(file + ": the script returns no actions");
  lua_setfield(L, LUA_REGISTRYINDEX, "uvmodbus.actions");
  return actions;
}

}  // namespace modbus::simulator
