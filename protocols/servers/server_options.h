// Options every Modbus server shares (TCP, UDP, TLS, serial), with safe defaults, and the trace
// hooks of pymodbus 3.x (trace_packet, trace_pdu, trace_connect).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "framers/framer_type.h"
#include "protocols/servers/console_settings.h"
#include "reactor/address.h"

namespace modbus {

class ResponseHook;  // protocols/serving/response_hook.h

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
  /// Listen backlog of a tcp: or tls: server whose endpoint string names none (":backlog=N" wins).
  /// Twisted's 50 (still the default of reactor::listenTCP and of bare reactor endpoint strings)
  /// drops connections when a thousand clients connect at once; the kernel caps it at somaxconn.
  int backlog = 1024;
  /// Connections open at once. When a newcomer would pass it, the stalest connection (the one
  /// idle the longest, or whose frame is overdue) is closed to make room, so filling the server
  /// with silent sockets locks nobody out; a newcomer is refused only when maxConnections is 0.
  std::size_t maxConnections = 4096;
  /// Connections open at once from one peer address (IP); beyond it a newcomer from that address is
  /// refused at accept. One misbehaving host cannot take the server from the others; 128 leaves
  /// room for a gateway or a load test of 100 connections from one address.
  std::size_t maxConnectionsPerPeer = 128;
  /// A connection that sends nothing for this many seconds is closed; 0 = never.
  double idleTimeout = 300;
  /// A frame started and not complete within this many seconds closes its connection (a Modbus
  /// frame is at most 260 bytes: a peer that trickles it is dead or hostile); 0 = never.
  double frameTimeout = 10;
  /// Above this many bytes of unsent responses a connection stops decoding and reading requests
  /// until the client has read them: a client that pipelines without reading costs at most this
  /// much output plus one read chunk (64 KiB) of input.
  std::size_t maxBufferedOutput = 16 * 1024;
  /// Bytes of an incomplete frame kept per connection before they are dropped as garbage.
  std::size_t maxInputBuffer = 4096;
  /// Per-connection log lines (connect, disconnect, refusals, closes) at info: at most this many
  /// of each kind per connectionLogWindow seconds, the rest at debug, with one summary line per
  /// window counting them and the refusals and closes since start.
  std::size_t connectionLogBurst = 10;
  double connectionLogWindow = 10;
  /// False: FC 8 sub-functions that change a device's state (01 restart, 03 ASCII delimiter, 04
  /// listen-only, 0A clear counters, 14 clear overrun) answer exception 01 from this server, so a
  /// client here cannot silence or reconfigure units for the other transports. Reads still work.
  bool stateChangingDiagnostics = true;
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
  /// Sees every answer, on every transport (stream, datagram, serial line), and may change how it
  /// leaves (the simulator's call monitor and response simulations, the console's trace). Unset:
  /// one pointer test per request.
  std::shared_ptr<ResponseHook> responseHook{};
  /// The Start*Server helpers' `console=true`: a debug console next to the server (see
  /// console_settings.h, docs/console.md). Servers built directly ignore it.
  ConsoleSettings console{};
};

}  // namespace modbus
