// SimulatorCalls: what pymodbus's Calls and Server pages promise, as the ResponseHook of the
// simulator's stream servers: counters per function code and per exception code, reads and writes
// per register, the call monitor (requests and responses for a register range and function codes)
// and the response simulations (Normal, Error, Empty, Junk, with Split, Delayed, a change rate and
// "clear after N requests"). Connections and their peers come from the servers' trace_connect.
// Rules:
// - With the monitor off and no simulation, an answer costs a few counter increments: nothing is
//   allocated (the monitor's records are the only allocation, and only for matching calls).
// - The monitor keeps the newest kMaxCallRecords records; a simulation applies to every request of
//   every unit, until Reset or until "clear after" requests have been simulated.
// - A change rate of p % simulates each request with probability p/100 (the RandomSource decides);
//   requests it lets through count toward "clear after" too.
// - A device fault (setDeviceFault: a CallSimulation for one unit id, or for every unit id) wins
//   over the running simulation for that unit's requests; it ends by clearDeviceFault or its own
//   "clear after". With none set, it costs one emptiness test per request.
// - A CallTap (setTap) sees every answered call after the plan is made; unset, one pointer test.
//   The /api/v1 call stream sets one only while a client listens, so nothing is formatted otherwise.
// - Reactor thread only (the hook runs there, and so do the HTTP handlers).
// Tests: tests/protocols/simulator/simulator_calls_test.cc, tests/integration/simulator_http_test.cc
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "datastore/simulator/simulator_blocks.h"
#include "datastore/simulator/simulator_clock.h"
#include "protocols/serving/response_hook.h"
#include "reactor/address.h"

namespace modbus {

/// pymodbus's response_type radio values.
enum class SimulatedResponse : std::uint8_t { Normal = 0, Error = 1, Empty = 2, Junk = 3 };

struct CallSimulation {
  SimulatedResponse response = SimulatedResponse::Normal;
  std::uint8_t errorCode = 4;   ///< Error: the exception code answered (any 1..255, 08 included)
  std::size_t junkBytes = 0;    ///< Junk: how many random bytes replace the answer
  bool split = false;           ///< the answer leaves in two writes...
  double splitDelay = 0;        ///< ...this many seconds apart
  double delay = 0;             ///< every answer this many seconds late (0: at once)
  std::optional<double> changeRatePct{};  ///< simulate only this % of requests (nullopt: all)
  std::size_t clearAfter = 0;   ///< the simulation ends after this many requests (0: never)
};

/// What the monitor watches: wire addresses [rangeStart, rangeStop] of the given function codes.
struct CallFilter {
  std::uint32_t rangeStart = 0;
  std::uint32_t rangeStop = 65535;
  std::vector<std::uint8_t> functionCodes{};  ///< empty: every function code
  bool showHex = true;
  bool showDecoded = true;
};

/// One monitored request or response.
struct CallRecord {
  bool response = false;
  std::uint8_t unitId = 0;
  std::uint8_t functionCode = 0;
  std::uint32_t address = 0;
  std::uint32_t count = 0;
  std::vector<std::uint8_t> pdu{};  ///< empty for a response: none was sent (or junk was)
  std::size_t junkBytes = 0;        ///< a Junk simulation sent this many random bytes instead
};

/// The address and count a request PDU names (FC 1-6, 15, 16, 23: its read range), if it names one.
std::optional<std::pair<std::uint32_t, std::uint32_t>> requestRange(std::span<const std::uint8_t> pdu);
/// "03 00 0a 00 02"
std::string hexBytes(std::span<const std::uint8_t> bytes);
/// A readable account of a request or response PDU: "read_holding_registers address=10 count=2",
/// "read_holding_registers registers=[1234, 50]", "exception IllegalDataAddress (02)".
std::string decodePdu(bool response, std::span<const std::uint8_t> pdu);
/// pymodbus's snake_case name of a function code ("read_holding_registers"), "fc_NN" when unknown.
std::string functionCodeSnakeName(std::uint8_t functionCode);

/// What sees every answered call (the /api/v1 call stream). `response` is the PDU as the hook left
/// it (empty: nothing is sent); `plan` says how it leaves.
class CallTap {
 public:
  virtual ~CallTap() = default;
  virtual void onCall(std::uint8_t unitId, std::span<const std::uint8_t> request,
                      std::span<const std::uint8_t> response, const ResponsePlan& plan) = 0;
};

class SimulatorCalls final : public ResponseHook {
 public:
  static constexpr std::size_t kMaxCallRecords = 1000;

  /// Counts reads and writes per register of `store` laid out by `layout` for `countedUnit`'s
  /// requests (nullopt: every unit id's). `random` decides change rates and junk.
  SimulatorCalls(std::shared_ptr<const simulator::SimulatorStore> store, simulator::SimulatorLayout layout,
                 std::optional<std::uint8_t> countedUnit, std::shared_ptr<simulator::RandomSource> random);

  ResponsePlan onResponse(std::uint8_t unitId, std::span<const std::uint8_t> request,
                          std::span<std::uint8_t> response, std::size_t& length) override;
  void fillJunk(std::span<std::uint8_t> bytes) override;

  // --- monitor ---
  void startMonitor(CallFilter filter);
  void stopMonitor() { monitoring_ = false; }
  bool monitoring() const { return monitoring_; }
  const CallFilter& filter() const { return filter_; }
  /// Newest last.
  const std::deque<CallRecord>& records() const { return records_; }
  void clearRecords() { records_.clear(); }

  // --- simulation ---
  void simulate(CallSimulation simulation);
  void reset() { simulation_.reset(); }
  /// The running simulation, or nullopt.
  const std::optional<CallSimulation>& simulation() const { return simulation_; }
  /// Requests the running simulation has seen (toward clearAfter).
  std::size_t simulatedRequests() const { return simulated_; }

  // --- device faults (per unit id; kEveryUnit: a fault for every unit id) ---
  static constexpr std::uint16_t kEveryUnit = 256;
  void setDeviceFault(std::uint16_t unit, CallSimulation fault);
  void clearDeviceFault(std::uint16_t unit) { deviceFaults_.erase(unit); }
  /// The fault set for `unit` (exactly that key), or nullptr.
  const CallSimulation* deviceFault(std::uint16_t unit) const;
  /// Requests the fault of `unit` has seen (toward its clearAfter).
  std::size_t deviceFaultRequests(std::uint16_t unit) const;

  // --- tap ---
  /// `tap` sees every call from now on (nullptr: none). It must outlive its registration.
  void setTap(CallTap* tap) { tap_ = tap; }
  CallTap* tap() const { return tap_; }

  // --- counters ---
  std::uint64_t requestCount(std::uint8_t functionCode) const { return requests_[functionCode]; }
  std::uint64_t exceptionCount(std::uint8_t code) const { return exceptions_[code]; }
  std::uint64_t totalRequests() const { return totalRequests_; }
  /// Reads / writes that touched store cell `index` (0 past the store).
  std::uint32_t readCount(std::uint32_t index) const { return index < reads_.size() ? reads_[index] : 0; }
  std::uint32_t writeCount(std::uint32_t index) const { return index < writes_.size() ? writes_[index] : 0; }

  // --- connections (fed by the servers' trace_connect) ---
  void connectionChanged(bool connected, const reactor::Address& peer);
  /// Open connections' peers ("127.0.0.1:41234"), oldest first.
  const std::vector<std::string>& peers() const { return peers_; }
  std::uint64_t connectionsSeen() const { return connectionsSeen_; }

 private:
  void count(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<const std::uint8_t> response);
  void countCells(std::vector<std::uint32_t>& cells, std::uint8_t functionCode, std::uint32_t address,
                  std::uint32_t quantity);
  bool matches(std::uint8_t functionCode, std::span<const std::uint8_t> request) const;
  void record(bool response, std::uint8_t unitId, std::span<const std::uint8_t> pdu,
              std::span<const std::uint8_t> request);
  /// Applies `simulation` (reset when its clearAfter is reached), counting in `simulated`.
  ResponsePlan plan(std::optional<CallSimulation>& simulation, std::size_t& simulated,
                    std::span<const std::uint8_t> request, std::span<std::uint8_t> response, std::size_t& length);

  struct DeviceFault {
    std::optional<CallSimulation> simulation;
    std::size_t simulated = 0;
  };

  std::shared_ptr<const simulator::SimulatorStore> store_;
  simulator::SimulatorLayout layout_;
  std::optional<std::uint8_t> countedUnit_;
  std::shared_ptr<simulator::RandomSource> random_;
  std::array<std::uint64_t, 256> requests_{};
  std::array<std::uint64_t, 256> exceptions_{};
  std::uint64_t totalRequests_ = 0;
  std::vector<std::uint32_t> reads_;
  std::vector<std::uint32_t> writes_;
  bool monitoring_ = false;
  CallFilter filter_;
  std::deque<CallRecord> records_;
  std::optional<CallSimulation> simulation_;
  std::size_t simulated_ = 0;
  std::vector<std::string> peers_;
  std::uint64_t connectionsSeen_ = 0;
  std::map<std::uint16_t, DeviceFault> deviceFaults_;
  CallTap* tap_ = nullptr;
};

}  // namespace modbus
