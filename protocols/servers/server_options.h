// Options every Modbus server shares (TCP, UDP, TLS, serial), with safe defaults, and the trace
// hooks of pymodbus 3.x (trace_packet, trace_pdu, trace_connect).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "framers/framer_type.h"
#include "reactor/address.h"

namespace modbus {

/// What a request for a unit id with no device gets (pymodbus answers 0x0B or, with
/// ignore_missing_devices, nothing).
enum class MissingUnit : std::uint8_t {
  Silent,       ///< no answer at all
  Exception0A,  ///< GatewayPathUnavailable
  Exception0B,  ///< GatewayTargetDeviceFailedToRespond (the default)
};

/// "silent", "exception_0A", "exception_0B" (the JSON spelling); nullopt for anything else.
constexpr std::optional<MissingUnit> missingUnitFromName(std::string_view name) noexcept {
  if (name == "silent") return MissingUnit::Silent;
  if (name == "exception_0A") return MissingUnit::Exception0A;
  if (name == "exception_0B") return MissingUnit::Exception0B;
  return std::nullopt;
}

/// pymodbus's trace_packet(sending, data) -> data: sees every raw chunk received (sending false,
/// before it is decoded) and every raw frame about to be sent (sending true), and may rewrite it in
/// place (an empty vector drops it).
using TracePacket = std::function<void(bool sending, std::vector<std::uint8_t>& bytes)>;
/// pymodbus's trace_pdu(sending, pdu) -> pdu: sees every decoded request PDU (sending false) and every
/// response PDU (sending true) of `unitId`, and may replace it in place. Returning false drops it:
/// a dropped request is not executed and gets no answer; a dropped response is not sent.
using TracePdu = std::function<bool(bool sending, std::uint8_t unitId, std::vector<std::uint8_t>& pdu)>;
/// pymodbus's trace_connect(connected): called when a client connects (true) and disconnects (false).
using TraceConnect = std::function<void(bool connected, const reactor::Address& peer)>;

struct ServerOptions {
  /// A request for a unit id the context does not hold: silence when true (pymodbus's
  /// ignore_missing_slaves; overrides missingUnit), else what missingUnit says.
  bool ignoreMissingSlaves = false;
  /// How a TCP connection frames requests: MBAP by default; RTU or ASCII over TCP by option.
  FramerType framer = FramerType::Socket;
  /// Listen backlog when the endpoint string names none (Twisted's 50 drops connections when a
  /// thousand clients connect at once).
  int backlog = 1024;
  /// Connections beyond this many are refused at accept (closed at once).
  std::size_t maxConnections = 4096;
  /// A connection that sends nothing for this many seconds is closed; 0 = never.
  double idleTimeout = 0;
  /// Above this many bytes of unsent responses a connection stops reading requests until the
  /// client has read them (a client that pipelines without reading cannot grow our memory).
  std::size_t maxBufferedOutput = 64 * 1024;
  /// Bytes of an incomplete frame kept per connection before they are dropped as garbage.
  std::size_t maxInputBuffer = 4096;
  /// pymodbus's broadcast_enable: a unit id 0 write (FC 5, 6, 15, 16, 22, 23) runs on every device
  /// and gets no answer; a unit id 0 read is ignored. Off: unit 0 is an ordinary unit id.
  bool broadcastEnable = false;
  /// The answer for a unit id with no device (unless ignoreMissingSlaves).
  MissingUnit missingUnit = MissingUnit::Exception0B;
  /// Requests of one connection waiting behind an asynchronous answer; past this many the
  /// connection stops reading until answers go out.
  std::size_t maxPendingRequests = 256;

  /// Hooks; unset hooks cost nothing on the request path. Set hooks copy each frame or PDU once.
  TracePacket tracePacket{};
  TracePdu tracePdu{};
  TraceConnect traceConnect{};
};

}  // namespace modbus
