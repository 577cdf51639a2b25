// The Modbus server side of a serial line (Modbus over Serial Line guide v1.02): RTU or ASCII
// framing, the t1.5 / t3.5 timing, a shared RS-485 line (answer our unit ids only, skip other
// devices' responses), broadcasts and local echo. Replaces pymodbus's serial server transport,
// which does none of the multipoint part (pymodbus-features.md §2.3, §7 items 1-2).
// Tests: tests/protocols/serving/modbus_serial_protocol_test.cc, tests/integration/serial_test.cc,
// tests/integration/console_test.cc (the response hook, through the console's trace)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "framers/buffer.h"
#include "framers/framer.h"
#include "framers/framer_type.h"
#include "protocols/application/request_processor.h"
#include "protocols/serving/frame_server.h"
#include "protocols/serving/response_hook.h"
#include "protocols/serving/serving_metrics.h"
#include "reactor/delayed_call.h"
#include "reactor/protocol.h"

namespace modbus {

class RtuFramer;

/// The guide's RTU timing for a baud rate (§2.5.1.1): a character is 11 bits (start, 8 data,
/// parity or a second stop bit, stop); t1.5 and t3.5 are 1.5 and 3.5 character times, fixed at
/// 750 µs and 1.75 ms above 19200 baud.
struct RtuTiming {
  double characterTime = 0;  ///< seconds per character (11 bits)
  double t15 = 0;            ///< inter-character limit, seconds
  double t35 = 0;            ///< inter-frame silence, seconds

  /// Throws std::invalid_argument for 0.
  static RtuTiming forBaudrate(std::uint32_t baudrate);
};

/// What the line did, counted per serial protocol (per port), for the application and the tests.
/// The devices' own diagnostic counters (FC 8 / 0B-12, guide §6.1) are kept apart, in each served
/// device's ControlBlock: the protocol counts bus messages, communication errors and overruns there
/// for every device it serves, and the RequestProcessor counts each device's own requests.
struct SerialLineCounters {
  std::uint64_t busMessages = 0;             ///< frames with a good CRC/LRC seen on the line, any unit
  std::uint64_t busCommunicationErrors = 0;  ///< CRC/LRC errors and garbage (one per run of bad bytes)
  std::uint64_t slaveMessages = 0;           ///< requests for one of our units, or broadcast
  std::uint64_t slaveNoResponses = 0;        ///< of those, the ones answered with silence
  std::uint64_t exceptionResponses = 0;      ///< answers we sent with the exception bit set
  std::uint64_t foreignRequests = 0;         ///< frames for units we do not serve (silence)
  std::uint64_t foreignResponses = 0;        ///< other devices' responses recognised and skipped (RTU)
  std::uint64_t timingDiscards = 0;          ///< partial frames dropped: > t1.5 inside an RTU frame,
                                             ///< or the ASCII inter-character timeout
  std::uint64_t characterOverruns = 0;       ///< input dropped because maxInputBuffer was reached
  std::uint64_t echoBytesDropped = 0;        ///< our own transmission heard back and removed
};

/// How a serial protocol behaves on its line.
struct SerialLineOptions {
  /// Rtu (the default) or Ascii. Socket and Tls are refused: MBAP has no place on a serial line.
  FramerType framer = FramerType::Rtu;
  /// The unit ids this server answers. Empty: every unit id the context has a device for (a
  /// ServerContext::single context answers them all, as on a point-to-point line). On a shared
  /// RS-485 line with a single context, list the ids. Any other id gets silence, always.
  std::vector<std::uint8_t> unitIds;
  /// Remove our own transmission when the adapter echoes it back (2-wire RS-485 dongles).
  bool dropLocalEcho = false;
  /// The line's baud rate, for the RTU timing; 0 takes it from the transport when that is a
  /// reactor::SerialPort, else 19200.
  std::uint32_t baudrate = 0;
  /// The guide's rule: more than t1.5 of silence inside an RTU frame makes it incomplete: it is
  /// discarded, and so is everything up to the next t3.5 of silence.
  bool enforceT15 = true;
  /// Seconds added to every silence the protocol waits for, and taken off every silence it
  /// measures: the delay with which the driver may deliver bytes (a USB adapter's latency timer,
  /// 1-16 ms for FTDI chips). Raise it when a USB adapter splits frames.
  double latency = 0;
  /// Answer only after t3.5 of silence since the request's last byte (a strict reading of the
  /// guide, for masters that are slow to release an RS-485 bus). Off: answer at once, as libmodbus.
  bool waitT35BeforeReply = false;
  /// ASCII: a frame with a silence longer than this between characters is dropped (the guide's 1 s).
  double asciiCharTimeout = 1.0;
  /// Bytes of an unfinished frame kept before they are dropped (a character overrun).
  std::size_t maxInputBuffer = 1024;
};

/// A Modbus server on one serial line. Works on any transport (a reactor::SerialPort, or a
/// StringTransport in tests) and any clock (the reactor, or a ManualClock).
///
/// RTU: a request whose length the framer knows (function code and byte count) is answered as soon
/// as its last byte and a good CRC are in; a request of another function code, or one longer than
/// its header says (FC 8 / 00 with a long payload: the bytes since the gap are tried whole), ends
/// at t3.5 of silence, known once t3.5 plus one character time have passed with nothing
/// delivered (a character that started within t3.5 would have been delivered by then). Silences are measured with the
/// clock (uv_hrtime) at each delivery of bytes, minus the wire time of the bytes just delivered;
/// timers (millisecond resolution, rounded up) only decide when to look. A bad CRC drops one byte
/// and the framer resynchronises.
///
/// Multipoint: requests for units not served are counted and ignored; in RTU the response that
/// follows such a request (same unit, same function code, the length Framer::responseLength
/// gives, a good CRC) is skipped whole, so that its bytes are never mistaken for requests.
/// Broadcast (unit 0): RequestProcessor::processBroadcast runs once per served device (it decides
/// which function codes a broadcast may run), and nothing is ever answered.
///
/// The decode loop, the input buffering and the running of a request (exception 04 when a handler
/// throws, the ASCII delimiter of FC 8 / 03) are the shared FrameServer's; this class adds the line.
class ModbusSerialProtocol : public reactor::Protocol {
 public:
  /// Throws std::invalid_argument for a null processor or the Socket/Tls framer.
  ModbusSerialProtocol(reactor::IReactorTime& clock, std::shared_ptr<RequestProcessor> processor,
                       SerialLineOptions options = {});
  ~ModbusSerialProtocol() override;

  void connectionMade() override;
  void dataReceived(reactor::ByteView data) override;
  void connectionLost(const reactor::Failure& reason) override;
  std::string logPrefix() const override { return "ModbusSerialProtocol"; }

  const SerialLineCounters& counters() const { return counters_; }
  /// The timing in force (set at connectionMade from the baud rate).
  const RtuTiming& timing() const { return timing_; }
  const SerialLineOptions& options() const { return options_; }
  /// True when this protocol answers `unitId` (never for 0, the broadcast address).
  bool serves(std::uint8_t unitId) const;
  /// The framer (the ASCII delimiter of FC 8 / 03 is set on it).
  Framer& framer() { return *framer_; }
  RequestProcessor& processor() { return *processor_; }
  /// Counts into `metrics` (serving_metrics.h): the serial server's, shared by every reopening of its line.
  void setMetrics(std::shared_ptr<ServingMetrics> metrics);
  /// Every answer to a served unit passes `hook` (response_hook.h) before it is framed; null (the
  /// default) costs one pointer test per request. Silence counts as a no-response; a Junk plan
  /// puts junk on the line instead; Delay sends the framed answer `delay` seconds later; Split
  /// sends its first half now and the rest `delay` seconds later (timed on this protocol's clock).
  void setResponseHook(std::shared_ptr<ResponseHook> hook) { responseHook_ = std::move(hook); }
  const std::shared_ptr<ResponseHook>& responseHook() const { return responseHook_; }

  /// Optional application hook, called for every request for a served unit or broadcast before it
  /// runs; returning false skips it (silence, counted in slaveNoResponses). The library sets none: a
  /// device's listen-only mode (FC 8 / 04) is kept by the RequestProcessor itself.
  std::function<bool(std::uint8_t unitId, std::span<const std::uint8_t> pdu)> requestFilter;
  /// Called after connectionLost (the serial server reopens the port from here).
  std::function<void(const reactor::Failure&)> onConnectionLost;

 private:
  struct LinePolicy;
  /// Calls `visit` once for every device this line serves (a device shared by unit ids once).
  void forEachServedDevice(const std::function<void(std::uint8_t unitId, DeviceContext& device)>& visit);
  /// Calls `count` on the control block of every device this line serves (once per device).
  void countOnServedDevices(void (ControlBlock::*count)());
  struct Expected {
    std::uint8_t unitId;
    std::uint8_t functionCode;
  };

  reactor::ByteView stripEcho(reactor::ByteView data, double now);
  void feed(reactor::ByteView data);
  /// RTU, after a request for another unit: 0 = wait for more bytes, n = skip n bytes (that unit's
  /// response), nullopt = not its response.
  std::optional<std::size_t> matchForeignResponse(std::span<const std::uint8_t> input);
  void handleFrame(const DecodeResult& frame);
  void broadcast(std::span<const std::uint8_t> pdu);
  /// A response hook's plan other than Send or Silence for the answer `pdu` (the cold path: copies).
  void answerAsPlanned(const FrameHeader& header, std::span<const std::uint8_t> pdu, const ResponsePlan& plan);
  /// `bytes` written to the line `delay` seconds from now, if it is still open.
  void writeLater(double delay, std::vector<std::uint8_t> bytes);
  void endOfFrame();
  /// RTU: the bytes since the last gap gave no frame and had a discard; at the gap, try them whole.
  void retryBurstAtGap();
  void closeBurst();
  /// Bytes of an unfinished frame are in (buffered, being dropped, or a burst to try at the gap).
  bool lineBusy() const;
  void armSilenceTimer();
  void onSilenceTimer();
  void dropInput();
  void flushOutput();
  void sendOutput();
  /// dropLocalEcho: `sent` will be heard back.
  void expectEcho(std::span<const std::uint8_t> sent);

  reactor::IReactorTime& clock_;
  std::shared_ptr<RequestProcessor> processor_;
  SerialLineOptions options_;
  std::unique_ptr<Framer> framer_;
  bool rtu_ = false;  // RTU framing: frames end at t3.5 of silence (Framer::framesEndAtGaps)
  std::array<bool, 256> servedIds_{};  // options_.unitIds, when given
  RtuTiming timing_;
  SerialLineCounters counters_;
  Buffer input_;
  Buffer output_;
  Buffer echo_;  // bytes we sent and expect to hear back (dropLocalEcho)
  Buffer burst_;  // RTU: the bytes since the last gap while no frame came of them (burstOpen_)
  std::optional<FrameServer> core_;
  bool burstOpen_ = true;
  bool burstDiscarded_ = false;
  std::optional<Expected> expected_;
  reactor::DelayedCall silenceTimer_;
  reactor::DelayedCall replyTimer_;
  double lastArrival_ = 0;
  double echoDeadline_ = 0;
  bool haveArrival_ = false;
  bool dropping_ = false;   // inside a frame declared incomplete, until t3.5 of silence
  bool inGarbage_ = false;  // counting one communication error per run of discarded bytes
  bool gapMode_ = false;    // processing the bytes before a t3.5 gap
  std::shared_ptr<ServingMetrics> metrics_;
  std::shared_ptr<ResponseHook> responseHook_;
  std::size_t unsentAnswers_ = 0;  // answers in output_ not yet written (timed when they are)
  double answerReceivedAt_ = 0;    // the last delivery of the first of them
};

}  // namespace modbus
