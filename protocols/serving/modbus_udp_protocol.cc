// ModbusUdpProtocol: datagram → frames → RequestProcessor → one reply datagram per frame.
#include "protocols/serving/modbus_udp_protocol.h"

#include <algorithm>
#include <stdexcept>

#include "reactor/log.h"

namespace modbus {

namespace {

std::shared_ptr<RequestProcessor> checked(std::shared_ptr<RequestProcessor> processor) {
  if (!processor) throw std::invalid_argument("ModbusUdpProtocol: null processor");
  return processor;
}

}  // namespace

ModbusUdpProtocol::ModbusUdpProtocol(std::shared_ptr<RequestProcessor> processor, FramerType framer)
    : processor_(checked(std::move(processor))), framerType_(framer), framer_(makeFramer(framer)), output_(512),
      core_(*framer_, *processor_) {
  gapDelimited_ = framer_->framesEndAtGaps();
}

ModbusUdpProtocol::~ModbusUdpProtocol() = default;

void ModbusUdpProtocol::setMetrics(std::shared_ptr<ServingMetrics> metrics, reactor::IReactorTime* clock) {
  metrics_ = std::move(metrics);
  clock_ = metrics_ ? clock : nullptr;
  core_.setMetrics(metrics_.get());
}

void ModbusUdpProtocol::startProtocol() { processor_->configureFramer(*framer_); }

/// One datagram: a gap at its end (RTU), one answer datagram per frame, malformed parts counted.
struct ModbusUdpProtocol::DatagramPolicy : FramePolicy {
  ModbusUdpProtocol& self;
  const reactor::Address& addr;
  bool gapMarked = false;
  const char* why = nullptr;  // set when the datagram held something other than whole frames

  DatagramPolicy(ModbusUdpProtocol& s, const reactor::Address& a) : self(s), addr(a) {}

  bool needMore() {
    if (self.gapDelimited_ && !gapMarked) {
      // The datagram's end is the frame's end: let the framer take what its length rules could not.
      self.framer_->markFrameGap();
      gapMarked = true;
      return true;
    }
    why = "incomplete frame at the end of the datagram";
    return false;
  }
  void discarded(const DecodeResult& r) { why = r.reason; }
  void fatal(const DecodeResult& r) { why = r.reason; }
  void frame(const DecodeResult& r) {
    ++self.requests_;
    std::span<std::uint8_t> response = self.framer_->beginFrame(self.output_, r.header);
    Answer answer;
    try {
      answer = self.execute(r.header.unitId, r.pdu, response);
    } catch (const std::exception& e) {
      reactor::log::error("udp execute() for ", addr.toString(), " failed: ", e.what());
      return;  // the begun frame is dropped by the next beginFrame
    }
    // A silent answer passes the response hook too (as on a stream: a trace shows "answer none").
    std::size_t length = answer.kind == Answer::Kind::Send ? std::min(answer.length, response.size()) : 0;
    if (self.responseHook_) {
      const ResponsePlan plan = askResponseHook(*self.responseHook_, r.header.unitId, r.pdu, response, length, "udp");
      if (plan.kind == ResponsePlan::Kind::Silence) return;
      if (plan.kind != ResponsePlan::Kind::Send) {
        self.answerAsPlanned(r.header, response.first(length), plan, addr);
        return;
      }
    }
    if (answer.kind != Answer::Kind::Send && length == 0) return;
    const std::size_t beforeSend = length;
    try {
      self.send(r.header, response, length, addr);
      length = std::min(length, response.size());
    } catch (const std::exception& e) {
      reactor::log::error("udp send() hook failed: ", e.what(), "; the answer goes out unchanged");
      length = beforeSend;
    }
    if (length == 0) return;
    ServingMetrics* metrics = self.metrics_.get();
    if (metrics) metrics->countAnswer(response.first(length));
    self.framer_->commitFrame(self.output_, length);
    if (metrics) metrics->bytesSent += self.output_.readableBytes();
    self.transport().write(self.output_.readable(), addr);
    self.output_.retrieveAll();
    if (self.clock_ && metrics) metrics->latency.observe(self.clock_->seconds() - self.received_);
  }
};

void ModbusUdpProtocol::setResponseHook(std::shared_ptr<ResponseHook> hook, reactor::IReactorTime* clock) {
  responseHook_ = std::move(hook);
  hookClock_ = clock;
}

void ModbusUdpProtocol::answerAsPlanned(const FrameHeader& header, std::span<const std::uint8_t> pdu,
                                        const ResponsePlan& plan, const reactor::Address& addr) {
  if (plan.kind == ResponsePlan::Kind::Junk) {
    std::vector<std::uint8_t> junk(plan.junkBytes);
    try {
      responseHook_->fillJunk(junk);
    } catch (const std::exception& e) {
      reactor::log::error("udp response hook failed to fill junk: ", e.what());
    }
    if (!junk.empty()) sendLater(0, std::move(junk), addr);
    return;
  }
  if (pdu.empty()) return;  // nothing to split or delay
  Buffer framed(0);
  framer_->encode(framed, header, pdu);
  const auto bytes = framed.readable();
  const double delay = std::max(0.0, plan.delay);
  if (plan.kind == ResponsePlan::Kind::Delay) {
    sendLater(delay, std::vector<std::uint8_t>(bytes.begin(), bytes.end()), addr);
    return;
  }
  const std::size_t half = std::max<std::size_t>(1, bytes.size() / 2);
  sendLater(0, std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(half)), addr);
  if (half < bytes.size()) {
    sendLater(delay, std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(half), bytes.end()), addr);
  }
}

void ModbusUdpProtocol::sendLater(double delay, std::vector<std::uint8_t> bytes, const reactor::Address& addr) {
  auto send = [this, bytes = std::move(bytes), addr] {
    if (!hasTransport()) return;
    if (metrics_) metrics_->bytesSent += bytes.size();
    transport().write(bytes, addr);
  };
  if (delay <= 0 || hookClock_ == nullptr) {
    send();
    return;
  }
  std::weak_ptr<reactor::DatagramProtocol> weak = weak_from_this();
  hookClock_->callLater(delay, [weak, send = std::move(send)] {
    if (auto self = weak.lock()) send();
  });
}

Answer ModbusUdpProtocol::execute(std::uint8_t unitId, std::span<const std::uint8_t> request,
                                  std::span<std::uint8_t> response) {
  return core_.serve(unitId, request, response, /*allowAsync=*/false, "udp");
}

void ModbusUdpProtocol::datagramReceived(reactor::ByteView datagram, const reactor::Address& addr) {
  framer_->reset();  // nothing from an earlier datagram may shape this one
  if (metrics_) {
    metrics_->bytesReceived += datagram.size();
    if (clock_) received_ = clock_->seconds();
  }
  DatagramPolicy policy(*this, addr);
  core_.decodeFrames(datagram, policy);
  framer_->reset();
  if (policy.why != nullptr) {
    ++malformed_;
    reactor::log::debug("udp datagram from ", addr.toString(), " (", datagram.size(),
                        " bytes) ignored in part: ", policy.why);
  }
}

}  // namespace modbus
