// The device-level function codes (FC 7, 8, 11, 12, 17, 20, 21, 24, 43) and the per-device request
// accounting of the Modbus over Serial Line guide v1.02 (counters, event log, listen-only mode);
// replaces pymodbus's other_message.py, diag_message.py, file_message.py and mei_message.py stubs.
// Tests: tests/protocols/application/device_functions_test.cc
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "datastore/control_block.h"
#include "datastore/device_context.h"
#include "protocols/application/pdu.h"

namespace modbus {

/// One handler of the table below (RequestProcessor::Handler's signature, as a plain function).
using DeviceFunctionHandler = std::size_t (*)(DeviceContext& device, std::span<const std::uint8_t> request,
                                              std::span<std::uint8_t> response);
struct DeviceFunction {
  std::uint8_t functionCode;
  DeviceFunctionHandler handler;
};

/// The handlers below with their function codes. RequestProcessor's constructor registers them, so
/// every processor has them (registerFunction() can still replace any of them); this file knows
/// nothing of the processor.
std::span<const DeviceFunction> deviceFunctions() noexcept;

// --- the handlers (RequestProcessor::Handler signature: whole request PDU in, response PDU out) ---
//
// Every handler answers a PDU of the wrong length with 03, and a response that does not fit
// `response` with 04. Everything reads and writes the state of `device` only.

/// FC 7: fc → fc, the device's eight exception-status outputs.
std::size_t readExceptionStatus(DeviceContext& device, std::span<const std::uint8_t> request,
                                std::span<std::uint8_t> response);
/// FC 8: every sub-function of the Serial Line guide. 00 echoes any data; 01 (data 0000 or FF00 =
/// clear the log) restarts communications after the answer; 02 returns the diagnostic register;
/// 03 (data CHAR 00) sets the ASCII input delimiter; 04 enters listen-only mode and answers
/// nothing; 0A clears counters and the diagnostic register after the answer; 0B..12 return the
/// counters; 14 clears the overrun counter. Data other than the guide's → 03; other sub-functions → 01.
std::size_t diagnostics(DeviceContext& device, std::span<const std::uint8_t> request,
                        std::span<std::uint8_t> response);
/// True for the FC 8 sub-functions that change the device's state rather than read it: 01 (restart,
/// leaves listen-only), 03 (ASCII input delimiter), 04 (listen-only), 0A (clear counters) and 14
/// (clear overrun). A server may refuse them from a transport (ProcessorOptions::stateChangingDiagnostics).
bool changesDeviceState(std::span<const std::uint8_t> request) noexcept;
/// FC 11: fc → fc, status word, event counter.
std::size_t getCommEventCounter(DeviceContext& device, std::span<const std::uint8_t> request,
                                std::span<std::uint8_t> response);
/// FC 12: fc → fc, byte count (6 + events), status word, event counter, bus message count, events
/// (newest first, at most 64).
std::size_t getCommEventLog(DeviceContext& device, std::span<const std::uint8_t> request,
                            std::span<std::uint8_t> response);
/// FC 17: fc → fc, byte count, server id, run indicator (0x00 / 0xFF), additional data.
std::size_t reportServerId(DeviceContext& device, std::span<const std::uint8_t> request,
                           std::span<std::uint8_t> response);
/// FC 20: byte count 0x07..0xF5 in 7-byte sub-requests (type 6, file, record, length), else 03;
/// a type other than 6, file 0, a record past 9999, an absent file or record, or a zero length → 02;
/// a response longer than a PDU → 03.
std::size_t readFileRecord(DeviceContext& device, std::span<const std::uint8_t> request,
                           std::span<std::uint8_t> response);
/// FC 21: byte count 0x09..0xFB (the spec's range for this code) holding whole sub-requests
/// (type, file, record, length, data), else 03; addressing errors as FC 20 → 02. All sub-requests
/// are checked before any is written. The answer echoes the request.
std::size_t writeFileRecord(DeviceContext& device, std::span<const std::uint8_t> request,
                            std::span<std::uint8_t> response);
/// FC 24: fc, FIFO pointer address → fc, byte count, FIFO count, values (oldest first). No queue at
/// the address → 02; more than 31 values → 03. The queue is not consumed.
std::size_t readFifoQueue(DeviceContext& device, std::span<const std::uint8_t> request,
                          std::span<std::uint8_t> response);
/// FC 43: MEI 0x0E → readDeviceIdentification(); 0x0D (CANopen) and every other MEI type → 01;
/// no MEI type → 03.
std::size_t encapsulatedInterface(DeviceContext& device, std::span<const std::uint8_t> request,
                                  std::span<std::uint8_t> response);
/// FC 43 / 14: 2B 0E code object → 2B 0E code conformity more-follows next-object count objects.
/// Codes 01 (basic, 0x00..0x02), 02 (regular, 0x00..0x7F) and 03 (extended, 0x00..0xFF) stream
/// the device's objects from `object` on (from 0 when the device has no such object in that
/// category), with more-follows 0xFF and the next id when they do not fit one PDU; 04 returns the
/// one object (absent → 02). Another code → 03.
std::size_t readDeviceIdentification(DeviceContext& device, std::span<const std::uint8_t> request,
                                     std::span<std::uint8_t> response);

// --- request accounting (the Serial Line guide's counters, event log and listen-only mode) ---

/// Called when a request reaches `control`'s device, before it is executed: counts the bus
/// message, logs the receive event. Returns false when the device must not execute it
/// (listen-only mode, and the request is not FC 8/01).
bool beginDeviceRequest(ControlBlock& control, std::span<const std::uint8_t> request, bool broadcast);
/// Called after: `answer` is the response the handler produced (empty for none), `executed`
/// what beginDeviceRequest() returned. Counts the server message, exception, NAK, busy and
/// no-response counters and the event counter, logs the send event, then applies the FC 8 action
/// the request asked for (restart, listen-only, clear). Returns the length to send: 0 for a
/// broadcast and in listen-only mode, else answer.size().
std::size_t endDeviceRequest(ControlBlock& control, std::span<const std::uint8_t> request,
                             std::span<const std::uint8_t> answer, bool broadcast, bool executed);

/// begin, `execute()` (which returns the response length written into `response`), end. The
/// request processor runs every request that reaches a device through it.
template <class Execute>
std::size_t superviseDeviceRequest(DeviceContext& device, std::span<const std::uint8_t> request,
                                   std::span<std::uint8_t> response, bool broadcast, Execute&& execute) {
  ControlBlock& control = device.control();
  const bool run = beginDeviceRequest(control, request, broadcast);
  const std::size_t length = run ? static_cast<std::size_t>(execute()) : 0;
  return endDeviceRequest(control, request, response.first(std::min(length, response.size())), broadcast, run);
}

}  // namespace modbus
