// SimulatorStore: the typed register memory of one simulated device (pymodbus's
// ModbusSimulatorContext, datastore/simulator.py), as pure state: cells with a type, an access, an
// action with parameters and a fault, and the read/write paths the Modbus tables call.
// Rules:
// - Pure: no reactor, no I/O. Time and chance come from the injected SimulatorClock/RandomSource.
// - The request path (read*/write*/validate) never allocates: actions decode, compute and encode in
//   place; an action's parameters were fixed when the value was defined.
// - Access rules, checked over the whole range before anything runs or changes (all or nothing):
//   an undefined or "invalid" cell → 02; a cell with a fault → that exception code; a write to a
//   cell not writable → 02; with typeException, a register request must start on the first
//   register of a value and cover every 2- or 4-register value it starts whole (a string may be
//   read partly, from its start) → 02. Bit requests check invalid/fault/writable only.
// - Actions run on read, once per value whose registers the request touches, before the values
//   are copied out; writes never run actions (pymodbus's rule).
// Tests: tests/datastore/simulator/simulator_store_test.cc, simulator_actions_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datastore/exception_code.h"
#include "datastore/simulator/cell_types.h"
#include "datastore/simulator/simulator_clock.h"

namespace modbus::simulator {

enum class Access : std::uint8_t {
  Invalid,   ///< undefined or listed in "invalid": every access answers 02
  ReadOnly,  ///< the default of a defined cell
  Writable,  ///< listed in "write"
};

/// What runs when a client reads a value.
enum class ActionKind : std::uint8_t {
  None,
  Increment,   ///< +1; past maxval (or the type's max) back to minval (or the type's min)
  Random,      ///< uniform in [minval, maxval] (defaults 1 and 65536, clamped to the type)
  Timestamp,   ///< 7 registers from the cell: year, month-1, day, weekday+1 (Monday 1), h, min, s (UTC)
  Uptime,      ///< whole seconds since the store was created, + 1
  Reset,       ///< every cell back to its configured value (pymodbus answers 04 instead)
  Sine,        ///< offset + amplitude·sin(2π·t/period)
  Ramp,        ///< sawtooth from offset-amplitude up to offset+amplitude over each period
  Square,      ///< offset+amplitude for the first half period, offset-amplitude for the second
  RandomWalk,  ///< previous value + uniform(-amplitude, +amplitude), kept in [minval, maxval]
  Custom,      ///< a function given by the program (addCustomAction)
};

/// "increment", "random", ..., "random_walk"; "" for None and Custom.
std::string_view actionName(ActionKind kind) noexcept;
/// The built-in action of a name, or nullopt.
std::optional<ActionKind> actionFromName(std::string_view name) noexcept;

/// An action's parameters ("parameters" in setup.json). Generators: t is the time since the store
/// was created; their result is clamped to [minval, maxval] when given, then to the type's range,
/// and rounded to the nearest integer for integer types.
struct ActionParameters {
  std::optional<long double> minval;
  std::optional<long double> maxval;
  double period = 60;     ///< seconds, > 0
  double amplitude = 1;
  double offset = 0;
};

class SimulatorStore;
/// A program's action: called with the store and the first cell of the value being read; it may
/// change any cell's value (setNumber, setRegister). A thrown exception answers 04 for the request.
using CustomAction = std::function<void(SimulatorStore& store, std::uint32_t firstCell, const ActionParameters&)>;

/// One register of the device. 12 bytes; the store holds one per register of the four tables.
struct Cell {
  std::uint16_t value = 0;  ///< the register as it goes on the wire (orders already applied)
  CellType type = CellType::Invalid;
  Access access = Access::Invalid;
  bool first = false;                        ///< the first register of its value
  ExceptionCode fault = ExceptionCode::None;  ///< answered for any access when not None
  bool wordLittle = false;
  bool byteLittle = false;
  std::uint32_t action = 0;  ///< 0: none; else the id addAction/addCustomAction returned
};

class SimulatorStore {
 public:
  /// `cellCount` undefined cells. Throws std::invalid_argument for a null clock or random source.
  explicit SimulatorStore(std::uint32_t cellCount, std::shared_ptr<SimulatorClock> clock = systemSimulatorClock(),
                          std::shared_ptr<RandomSource> random = defaultRandomSource());

  std::uint32_t size() const { return static_cast<std::uint32_t>(cells_.size()); }
  const Cell& cell(std::uint32_t index) const { return cells_.at(index); }
  /// The kind of the action cell `index` runs (None when it runs none).
  ActionKind actionKind(std::uint32_t index) const {
    const std::uint32_t id = cells_.at(index).action;
    return id == 0 || id > actions_.size() ? ActionKind::None : actions_[id - 1].kind;
  }

  /// pymodbus's "type exception" (see the rules above). Off by default.
  bool typeException() const { return typeException_; }
  void setTypeException(bool on) { typeException_ = on; }

  // --- definition (configuration time; may allocate) ---

  /// Registers a built-in action with its parameters; returns its id for defineValue().
  std::uint32_t addAction(ActionKind kind, const ActionParameters& parameters = {});
  /// Registers a program's action; returns its id for defineValue().
  std::uint32_t addCustomAction(CustomAction action, const ActionParameters& parameters = {});

  /// Defines the value at [first, first + registers.size()): the registers as they go on the wire,
  /// read-only, with action `actionId` (0: none). Throws std::out_of_range past size(), and
  /// std::logic_error when a cell is already defined or listed invalid.
  void defineValue(std::uint32_t first, CellType type, ValueOrder order, const std::vector<std::uint16_t>& registers,
                   std::uint32_t actionId = 0);
  /// Copies the definition of cell `from` (type, value, access, action, fault) onto the undefined
  /// cell `to` (setup.json's "repeat"). Throws std::logic_error when `to` is already defined.
  void copyDefinition(std::uint32_t from, std::uint32_t to);
  /// Marks a cell invalid (answers 02 even if defined later: the caller checks overlaps).
  void markInvalid(std::uint32_t index);
  /// Makes a defined cell writable (true) or read-only. Throws std::logic_error for an undefined cell.
  void setWritable(std::uint32_t index, bool writable);
  /// Sets the exception every access to the cell answers (None clears it).
  void setFault(std::uint32_t index, ExceptionCode fault);
  /// Records the current values as the configured ones, for the reset action and resetValues().
  void commitConfiguredValues();
  /// Every cell back to its configured value.
  void resetValues();

  // --- typed access (application side) ---

  /// The number held by the value starting at `first` (a defined numeric first cell).
  long double number(std::uint32_t first) const;
  /// Stores `value` (clamped to the type's range) in the value starting at `first`.
  void setNumber(std::uint32_t first, long double value);
  /// The characters of the string starting at `first`, trailing spaces kept.
  std::string text(std::uint32_t first) const;
  /// Sets one register, whatever its type.
  void setRegister(std::uint32_t index, std::uint16_t value) { cells_.at(index).value = value; }
  std::uint16_t registerValue(std::uint32_t index) const { return cells_.at(index).value; }

  // --- the request path (no allocation) ---

  /// IllegalDataAddress past size(), else the access rules above for registers [start, start+count).
  ExceptionCode checkRegisters(std::uint32_t start, std::uint32_t count, bool write) const noexcept;
  /// Runs the actions of the values in range, then writes the registers big-endian into `out`.
  ExceptionCode readRegisters(std::uint32_t start, std::uint16_t count, std::uint8_t* out);
  ExceptionCode writeRegisters(std::uint32_t start, std::uint16_t count, const std::uint8_t* in);

  /// Bits: bit `bit` counted from cell `baseCell` lives in cell baseCell + bit/16, bit bit%16.
  ExceptionCode checkBits(std::uint32_t baseCell, std::uint32_t bit, std::uint32_t count, bool write) const noexcept;
  ExceptionCode readBits(std::uint32_t baseCell, std::uint32_t bit, std::uint16_t count, std::uint8_t* outPacked);
  ExceptionCode writeBits(std::uint32_t baseCell, std::uint32_t bit, std::uint16_t count, const std::uint8_t* inPacked);

 private:
  struct ActionSpec {
    ActionKind kind;
    ActionParameters parameters;
    CustomAction custom;
  };

  ExceptionCode checkCells(std::uint32_t start, std::uint32_t end, bool write, bool typed) const noexcept;
  /// Runs the actions of every value touching cells [start, end). 04 when a custom action throws.
  ExceptionCode runActions(std::uint32_t start, std::uint32_t end) noexcept;
  void runAction(std::uint32_t first);
  long double generated(const ActionSpec& spec, CellType type) noexcept;
  void store(std::uint32_t first, long double value) noexcept;

  std::vector<Cell> cells_;
  std::vector<std::uint16_t> configured_;
  std::vector<ActionSpec> actions_;
  std::shared_ptr<SimulatorClock> clock_;
  std::shared_ptr<RandomSource> random_;
  double startSeconds_;
  bool typeException_ = false;
};

}  // namespace modbus::simulator
