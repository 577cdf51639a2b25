// ResponseHook: a per-server observer of every answer a stream connection is about to send, which
// may also change how (or whether) it goes out. The simulator's call monitor and its response
// simulations (pymodbus's Calls page: error, empty, junk, split, delayed) are one; the serving core
// knows nothing of them.
// Rules:
// - Unset (ServerOptions::responseHook null), it costs one pointer test per request.
// - Set, the answer is still encoded straight into the connection's output buffer; the hook sees
//   the request and the response PDU there and may rewrite the PDU in place (an exception answer).
//   Only a plan other than Send leaves that path (Junk, Split and Delay copy the answer once).
// - Answers keep the requests' order: a delayed or split answer holds the ones behind it back
//   (they wait in the connection's FIFO, as behind an asynchronous device).
// - Called on the reactor thread, for stream connections (TCP, TLS, RTU/ASCII over TCP), UDP
//   datagrams (ModbusUdpProtocol) and serial lines (ModbusSerialProtocol). The latter two have no
//   answer FIFO: their Junk, Split and Delay answers leave on their own (a late datagram, bytes on
//   the line later), each answer independent of the next, as on those transports.
// Tests: tests/protocols/serving/response_hook_test.cc, tests/integration/simulator_http_test.cc,
// tests/integration/console_test.cc (UDP and serial traced through the console)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace modbus {

/// How the answer of one request leaves.
struct ResponsePlan {
  enum class Kind : std::uint8_t {
    Send,     ///< as it stands (possibly rewritten by the hook)
    Silence,  ///< nothing is sent
    Junk,     ///< `junkBytes` bytes from ResponseHook::fillJunk instead of the framed answer
    Split,    ///< the framed answer in two writes, the second `delay` seconds after the first
    Delay,    ///< the framed answer `delay` seconds later
  };
  Kind kind = Kind::Send;
  double delay = 0;
  std::size_t junkBytes = 0;
};

class ResponseHook {
 public:
  virtual ~ResponseHook() = default;
  /// One answered request of `unitId`. `response` has room for a whole PDU (kMaxPduSize) and holds
  /// `length` bytes of it (0: no answer was to be sent); the hook may rewrite it and `length`.
  /// An exception thrown here is logged and the answer goes out unchanged.
  virtual ResponsePlan onResponse(std::uint8_t unitId, std::span<const std::uint8_t> request,
                                  std::span<std::uint8_t> response, std::size_t& length) = 0;
  /// The bytes of a Junk answer.
  virtual void fillJunk(std::span<std::uint8_t> bytes) = 0;
};

/// What every transport does with its hook's answer: asks `hook` about one answer, keeping the
/// rules above (an exception is logged and the answer goes unchanged, as a Send; `length` never
/// passes response.size()). `transport` names the caller in the log line.
ResponsePlan askResponseHook(ResponseHook& hook, std::uint8_t unitId, std::span<const std::uint8_t> request,
                             std::span<std::uint8_t> response, std::size_t& length, const char* transport);

}  // namespace modbus
