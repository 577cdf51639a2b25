// Port of pymodbus's ModbusUdpProtocol (server/async.py) as a reactor::DatagramProtocol, without its
// shared-framer quirk: every datagram is framed on its own and answered to its own sender.
// Tests: tests/protocols/serving/modbus_udp_protocol_test.cc, tests/integration/console_test.cc (trace)
#pragma once

#include <cstddef>
#include <memory>
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
#include "reactor/datagram_protocol.h"

namespace modbus {

/// One per UDP port; serves every peer. A datagram is one or more whole frames in the chosen
/// framing (MBAP by default; RTU or ASCII over UDP as pymodbus allows): each frame is answered with
/// a datagram of its own, sent to the datagram's sender. Nothing carries over from one datagram to
/// the next (an RTU datagram ends at a frame gap). A datagram with a malformed or incomplete frame
/// has that part ignored and is counted in malformedCount(); its whole frames are still answered.
class ModbusUdpProtocol : public reactor::DatagramProtocol {
 public:
  /// Throws std::invalid_argument for a null processor.
  explicit ModbusUdpProtocol(std::shared_ptr<RequestProcessor> processor, FramerType framer = FramerType::Socket);
  ~ModbusUdpProtocol() override;

  /// Teaches the framer the processor's custom function codes (RTU length rules).
  void startProtocol() override;
  void datagramReceived(reactor::ByteView datagram, const reactor::Address& addr) override;
  std::string logPrefix() const override { return "ModbusUdpProtocol"; }

  /// Requests answered (or deliberately not answered) so far.
  std::size_t requestCount() const { return requests_; }
  /// Datagrams that held something other than whole frames.
  std::size_t malformedCount() const { return malformed_; }
  RequestProcessor& processor() { return *processor_; }
  FramerType framerType() const { return framerType_; }
  /// Counts into `metrics` (serving_metrics.h), timing answers on `clock` (null: no latency).
  void setMetrics(std::shared_ptr<ServingMetrics> metrics, reactor::IReactorTime* clock);
  /// Every answer passes `hook` (response_hook.h) before the send() hook; null (the default) costs
  /// one pointer test per request. A Junk plan sends a datagram of junk instead; Delay sends the
  /// answer's datagram `delay` seconds later and Split sends it in two datagrams, the second
  /// `delay` seconds after the first, both timed on `clock` (null: at once).
  void setResponseHook(std::shared_ptr<ResponseHook> hook, reactor::IReactorTime* clock);
  const std::shared_ptr<ResponseHook>& responseHook() const { return responseHook_; }

 protected:
  /// pymodbus 1.x's _execute (see ModbusStreamProtocol::execute): runs one request PDU of `unitId`
  /// into `response` (room for kMaxPduSize bytes). Asynchronous units are not served over UDP: the
  /// default never returns Pending. An exception it throws is logged and the frame goes unanswered.
  virtual Answer execute(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<std::uint8_t> response);
  /// pymodbus 1.x's _send: the answer PDU `response[0, length)` for the request with `header`, about
  /// to be framed and sent to `addr`; may be rewritten in place (length 0: nothing is sent). An
  /// exception it throws is logged and the answer goes out unchanged. Default: nothing.
  virtual void send(const FrameHeader& header, std::span<std::uint8_t> response, std::size_t& length,
                    const reactor::Address& addr) {
    (void)header;
    (void)response;
    (void)length;
    (void)addr;
  }

 private:
  struct DatagramPolicy;
  /// A plan other than Send or Silence for the answer `pdu` to `addr` (the cold path: copies).
  void answerAsPlanned(const FrameHeader& header, std::span<const std::uint8_t> pdu, const ResponsePlan& plan,
                       const reactor::Address& addr);
  /// `bytes` to `addr` after `delay` seconds (at once without a hook clock), if still listening.
  void sendLater(double delay, std::vector<std::uint8_t> bytes, const reactor::Address& addr);

  std::shared_ptr<RequestProcessor> processor_;
  FramerType framerType_;
  std::unique_ptr<Framer> framer_;
  bool gapDelimited_ = false;  // RTU: the datagram's end is a frame gap
  Buffer output_;
  FrameServer core_;
  std::size_t requests_ = 0;
  std::size_t malformed_ = 0;
  std::shared_ptr<ServingMetrics> metrics_;
  reactor::IReactorTime* clock_ = nullptr;
  double received_ = 0;  // when the datagram being served came (with clock_)
  std::shared_ptr<ResponseHook> responseHook_;
  reactor::IReactorTime* hookClock_ = nullptr;
};

}  // namespace modbus
