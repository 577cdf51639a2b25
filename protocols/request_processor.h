// The Modbus application layer: request PDU in, response PDU out (pymodbus's ServerRequestHandler
// and pdu/*.py execute(), with the spec's checks pymodbus skips).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "datastore/device_context.h"
#include "datastore/exception_code.h"
#include "datastore/server_context.h"

namespace modbus {

struct ProcessorOptions {
  /// A request for a unit id with no device gets no answer (pymodbus's ignore_missing_slaves)
  /// instead of exception 0x0B (GatewayTargetDeviceFailedToRespond).
  bool ignoreMissingSlaves = false;
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
/// - a unit id with no device → `fc|0x80 0x0B`, or nothing with ignoreMissingSlaves; this check
///   comes before the function-code lookup;
/// - an unknown function code (including 0 and any code with bit 7 set) → `fc|0x80 0x01`;
/// - unit id 0 (broadcast) is executed like any other unit: suppressing the answer of a serial
///   broadcast is the serial protocol's job.
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
  /// (capacity >= pdu::kMaxSize = 253 bytes; with less, a response that does not fit becomes
  /// exception 04, and with less than 2 bytes nothing is written). `request` and `response` must
  /// not overlap. Returns the response length, or 0 when nothing must be sent (unit missing and
  /// ignoreMissingSlaves, or a handler that chose silence).
  std::size_t process(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<std::uint8_t> response);

  ServerContext& context() { return *context_; }
  const ServerContext& context() const { return *context_; }
  const ProcessorOptions& options() const { return options_; }

  /// Installs `handler` for `functionCode` (1..127; std::invalid_argument otherwise), replacing any
  /// handler there, built-in ones included. An empty handler removes the code (→ exception 01).
  void registerFunction(std::uint8_t functionCode, Handler handler);
  /// True when `functionCode` has a handler.
  bool hasFunction(std::uint8_t functionCode) const;

 private:
  std::shared_ptr<ServerContext> context_;
  ProcessorOptions options_;
  std::array<Handler, 128> handlers_;
};

/// Writes `functionCode | 0x80, code` into response; returns 2 (0 if `response` holds fewer than 2 bytes).
std::size_t exceptionResponse(std::uint8_t functionCode, ExceptionCode code, std::span<std::uint8_t> response);

}  // namespace modbus
