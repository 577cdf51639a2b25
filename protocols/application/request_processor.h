// The Modbus application layer: request PDU in, response PDU out (pymodbus's ServerRequestHandler
// and pdu/*.py execute(), with the spec's checks pymodbus skips).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>

#include "datastore/device_context.h"
#include "datastore/exception_code.h"
#include "datastore/server_context.h"
#include "protocols/devices/async_device.h"
#include "protocols/application/custom_function.h"
#include "protocols/application/exception_response.h"
#include "protocols/servers/server_options.h"
#include "protocols/application/write_observers.h"

namespace modbus {

struct ProcessorOptions {
  /// A request for a unit id with no device gets no answer (pymodbus's ignore_missing_slaves)
  /// instead of exception 0x0B (GatewayTargetDeviceFailedToRespond).
  bool ignoreMissingSlaves = false;
  /// Unit id 0 writes run on every device (sync and async) and get no answer; unit id 0 reads are
  /// ignored (pymodbus's broadcast_enable). Off: unit 0 is an ordinary unit id.
  bool broadcastEnable = false;
  /// The answer for a unit with no device, unless ignoreMissingSlaves.
  MissingUnit missingUnit = MissingUnit::Exception0B;
  /// False: the FC 8 sub-functions that change a device's state (changesDeviceState: restart,
  /// ASCII delimiter, listen-only, clear counters, clear overrun) answer exception 01 through this
  /// processor, so a client on one transport cannot silence or reconfigure the unit for the others.
  /// Reads of the counters and 00 (echo) still work.
  bool stateChangingDiagnostics = true;
};

/// Decodes one request PDU, executes it against the ServerContext and encodes the response PDU.
/// Pure: no I/O, no reactor, no allocation per request (reads go from the block straight into the
/// response). Never crashes on any input: every malformed PDU gets the spec's exception response.
///
/// Built-in function codes (Modbus Application Protocol v1.1b3): 1, 2, 3, 4, 5, 6, 15, 16, 22, 23.
/// Checks run in the spec's order: PDU length, quantity and byte count → 03 (IllegalDataValue);
/// then the address range, the table's presence and the block's validation → 02
/// (IllegalDataAddress); then execution: a block (or handler) that throws → 04
/// (ServerDeviceFailure), and any code a block returns is sent as is. A PDU longer or shorter than
/// its function code implies → 03. A rejected write changes nothing.
///
/// Special cases, decided here:
/// - an empty PDU (no function code) is answered `0x80 0x01` (IllegalFunction for function code 0);
/// - a unit id with no device → `fc|0x80 0x0B` (or 0x0A, or nothing, by ProcessorOptions); this
///   check comes before the function-code lookup;
/// - an unknown function code (including 0 and any code with bit 7 set) → `fc|0x80 0x01`;
/// - unit id 0 is executed like any other unit, unless broadcastEnable: then a request that
///   broadcastable() allows runs on every device, any other is dropped, and nothing is answered
///   (the serial protocol applies serial broadcasts through processBroadcast, which filters alike).
/// Reactor thread only.
class RequestProcessor {
 public:
  /// Extension point. `request` is the whole request PDU (request[0] is the function code; the
  /// span is never empty). Write the whole response PDU into `response` and return its length, or 0
  /// for no response. A handler may throw: the answer is then exception 04. Build exception
  /// answers with exceptionResponse().
  using Handler = std::function<std::size_t(DeviceContext& device, std::span<const std::uint8_t> request,
                                            std::span<std::uint8_t> response)>;

  /// Throws std::invalid_argument for a null context.
  explicit RequestProcessor(std::shared_ptr<ServerContext> context, ProcessorOptions options = {});

  /// One request PDU (function code + data) for `unitId`. Writes the response PDU into `response`
  /// (capacity >= kMaxPduSize = 253 bytes; with less, a response that does not fit becomes
  /// exception 04, and with less than 2 bytes nothing is written). `request` and `response` must
  /// not overlap. Returns the response length, or 0 when nothing must be sent (unit missing and
  /// ignoreMissingSlaves, or a handler that chose silence).
  std::size_t process(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<std::uint8_t> response);

  /// Runs `request` on `unitId`'s device as a broadcast, whatever broadcastEnable says: executed,
  /// counted and logged with the broadcast flag, never answered (the serial protocol applies a
  /// serial-line broadcast to each unit it serves with this). Returns whether it ran: not for an
  /// empty request, a unit with no device, or a request that may not be broadcast (broadcastable()).
  bool processBroadcast(std::uint8_t unitId, std::span<const std::uint8_t> request);

  /// The one decision on broadcasts, for every transport: true when a broadcast of `request` (not
  /// empty) is executed. A custom function decides for its code (CustomFunction::broadcastable);
  /// else the function-code table (framers/function_codes.h: the writes 5, 6, 15, 16, 21, 22, 23);
  /// a code without a handler never.
  bool broadcastable(std::span<const std::uint8_t> request) const;

  ServerContext& context() { return *context_; }
  const ServerContext& context() const { return *context_; }
  const ProcessorOptions& options() const { return options_; }

  /// Installs `handler` for `functionCode` (1..127; std::invalid_argument otherwise), replacing any
  /// handler there, built-in ones included. An empty handler removes the code (→ exception 01).
  void registerFunction(std::uint8_t functionCode, Handler handler);
  /// True when `functionCode` has a handler.
  bool hasFunction(std::uint8_t functionCode) const;

  // --- extension points (protocols/application/custom_function.h, write_observers.h, async_device.h) ---

  /// Installs a custom function (see CustomFunction), replacing the built-in handler of its code;
  /// classes for several sub-functions of one code are dispatched on it. Throws
  /// std::invalid_argument (see CustomFunctionSet::add, and for a code outside 1..127). Framers
  /// configured afterwards with configureFramer() learn its length rules.
  void registerCustomFunction(std::shared_ptr<CustomFunction> function);
  /// Tells an RtuFramer the request length rules of the custom functions (other framers: no-op).
  /// Every protocol calls it on its framer when a connection or line starts.
  void configureFramer(Framer& framer) const;

  /// The write observers: called after client writes (see WriteObservers::subscribe).
  WriteObservers& writeObservers() { return writeObservers_; }

  /// Makes `unitId` answered by `device` (asynchronously), in place of the context's device for
  /// that id; a null device removes it. process() cannot wait: for an asynchronous unit it answers
  /// `fc|0x80 0x0A`; transports that can wait use asyncDeviceFor() and submit themselves.
  void setAsyncDevice(std::uint8_t unitId, std::shared_ptr<AsyncDevice> device);
  /// The asynchronous device that must answer this request, or nullptr when process() answers it
  /// (no asynchronous device for `unitId`, or a broadcast, which process() runs everywhere).
  AsyncDevice* asyncDeviceFor(std::uint8_t unitId) const {
    if (asyncDevices_.empty() || (unitId == 0 && options_.broadcastEnable)) return nullptr;
    auto it = asyncDevices_.find(unitId);
    return it == asyncDevices_.end() ? nullptr : it->second.get();
  }

 private:
  std::shared_ptr<ServerContext> context_;
  ProcessorOptions options_;
  std::array<Handler, 128> handlers_;
  // Extension points.
  std::size_t missingUnit(std::uint8_t functionCode, std::span<std::uint8_t> response) const;
  void broadcast(std::span<const std::uint8_t> request);
  std::size_t execute(DeviceContext& device, std::uint8_t unitId, std::span<const std::uint8_t> request,
                      std::span<std::uint8_t> response);
  std::map<std::uint8_t, std::shared_ptr<CustomFunctionSet>> customFunctions_;
  std::map<std::uint8_t, std::shared_ptr<AsyncDevice>> asyncDevices_;
  WriteObservers writeObservers_;
};

}  // namespace modbus
