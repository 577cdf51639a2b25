// ModbusSerialProtocol: the serial line guide's timing and multipoint rules on top of the pure RTU
// and ASCII framers. Times come from the clock at each delivery (uv_hrtime on the reactor); timers
// only decide when to look again.
#include "protocols/serving/modbus_serial_protocol.h"

#include <algorithm>
#include <stdexcept>

#include "framers/crc16.h"
#include "framers/rtu_framer.h"
#include "reactor/log.h"
#include "reactor/serial_port.h"

namespace modbus {

namespace {

constexpr std::uint32_t kDefaultBaudrate = 19200;
constexpr double kTimerSlack = 1e-6;  // a timer that fires this close to its deadline counts as on time

/// A whole RTU frame with its CRC: the CRC-16/MODBUS of data plus its own CRC (low byte first) is 0.
bool wholeRtuFrame(std::span<const std::uint8_t> frame) {
  return frame.size() >= RtuFramer::kMinAduSize && frame.size() <= RtuFramer::kMaxAduSize && crc16(frame) == 0;
}

}  // namespace

/// A serial line: another device's response is skipped before decoding, a run of garbage is one
/// communication error, and each frame goes to handleFrame.
struct ModbusSerialProtocol::LinePolicy : FramePolicy {
  ModbusSerialProtocol& self;

  bool stopped() const { return self.transport().disconnecting(); }
  std::optional<std::size_t> skip(std::span<const std::uint8_t> rest) {
    if (!self.expected_) return std::nullopt;
    return self.matchForeignResponse(rest);
  }
  void discarded(const DecodeResult& r) {
    // RTU resynchronises a byte at a time: count a run once. An ASCII discard is a whole frame.
    if (!self.rtu_ || !self.inGarbage_) {
      self.inGarbage_ = true;
      ++self.counters_.busCommunicationErrors;
      self.countOnServedDevices(&ControlBlock::countBusCommunicationError);
    }
    self.burstDiscarded_ = true;
    reactor::log::debug("serial line: dropped ", r.consumed, " byte(s): ", r.reason);
  }
  void fatal(const DecodeResult& r) {
    reactor::log::warning("serial line: ", r.reason, "; dropping the buffered input");
  }
  void frame(const DecodeResult& r) {
    self.inGarbage_ = false;
    self.closeBurst();
    ++self.counters_.busMessages;
    self.handleFrame(r);
  }
};

RtuTiming RtuTiming::forBaudrate(std::uint32_t baudrate) {
  if (baudrate == 0) throw std::invalid_argument("RtuTiming: baud rate 0");
  RtuTiming t;
  t.characterTime = 11.0 / static_cast<double>(baudrate);
  if (baudrate > 19200) {
    t.t15 = 750e-6;
    t.t35 = 1750e-6;
  } else {
    t.t15 = 1.5 * t.characterTime;
    t.t35 = 3.5 * t.characterTime;
  }
  return t;
}

ModbusSerialProtocol::ModbusSerialProtocol(reactor::IReactorTime& clock, std::shared_ptr<RequestProcessor> processor,
                                           SerialLineOptions options)
    : clock_(clock), processor_(std::move(processor)), options_(std::move(options)), input_(512), output_(512),
      echo_(256), burst_(0) {
  if (!processor_) throw std::invalid_argument("ModbusSerialProtocol: null processor");
  if (options_.framer == FramerType::Socket || options_.framer == FramerType::MbapInTls) {
    throw std::invalid_argument("the " + std::string(framerTypeName(options_.framer)) +
                                " framer (MBAP) cannot run on a serial line: use framer rtu (the default) or ascii");
  }
  framer_ = makeFramer(options_.framer);
  core_.emplace(*framer_, *processor_);
  rtu_ = framer_->framesEndAtGaps();
  for (std::uint8_t id : options_.unitIds) servedIds_[id] = true;
  timing_ = RtuTiming::forBaudrate(options_.baudrate != 0 ? options_.baudrate : kDefaultBaudrate);
}

ModbusSerialProtocol::~ModbusSerialProtocol() = default;

void ModbusSerialProtocol::forEachServedDevice(const std::function<void(std::uint8_t, DeviceContext&)>& visit) {
  ServerContext& context = processor_->context();
  const std::vector<std::uint8_t> ids = options_.unitIds.empty() ? context.unitIds() : options_.unitIds;
  std::vector<const DeviceContext*> done;
  for (std::uint8_t id : ids) {
    DeviceContext* device = context.find(id);
    if (device == nullptr || std::find(done.begin(), done.end(), device) != done.end()) continue;
    done.push_back(device);
    visit(id, *device);
  }
}

void ModbusSerialProtocol::countOnServedDevices(void (ControlBlock::*count)()) {
  // Every device on the line sees the bus (Serial Line guide §6.1: CPT1, CPT2 and CPT8 count what the
  // device detects on the line, whoever it is for). A device shared by several unit ids counts once.
  forEachServedDevice([count](std::uint8_t, DeviceContext& device) { (device.control().*count)(); });
}

bool ModbusSerialProtocol::serves(std::uint8_t unitId) const {
  if (unitId == 0) return false;
  if (!options_.unitIds.empty()) return servedIds_[unitId];
  return processor_->context().find(unitId) != nullptr;
}

void ModbusSerialProtocol::setMetrics(std::shared_ptr<ServingMetrics> metrics) {
  metrics_ = std::move(metrics);
  core_->setMetrics(metrics_.get());
}

void ModbusSerialProtocol::connectionMade() {
  if (metrics_) ++metrics_->connectionsMade;  // the line opened
  processor_->configureFramer(*framer_);  // custom function codes' RTU length rules
  std::uint32_t baud = options_.baudrate;
  if (baud == 0) {
    if (auto* port = dynamic_cast<reactor::SerialPort*>(&transport())) baud = port->options().baudrate;
  }
  timing_ = RtuTiming::forBaudrate(baud != 0 ? baud : kDefaultBaudrate);
  if (rtu_) {
    reactor::log::info("serial line ", transport().getPeer().toString(), ": rtu server, t1.5 ", timing_.t15 * 1e3,
                       " ms, t3.5 ", timing_.t35 * 1e3, " ms");
  } else {
    reactor::log::info("serial line ", transport().getPeer().toString(), ": ascii server, ",
                       options_.asciiCharTimeout, " s character timeout");
  }
}

void ModbusSerialProtocol::connectionLost(const reactor::Failure& reason) {
  if (silenceTimer_.active()) silenceTimer_.cancel();
  if (replyTimer_.active()) replyTimer_.cancel();
  if (metrics_) ++metrics_->connectionsLost;
  if (reason.check(reactor::FailureType::ConnectionDone)) {
    reactor::log::info("serial line ", transport().getPeer().toString(), " closed");
  } else {
    reactor::log::warning("serial line ", transport().getPeer().toString(), " lost: ", reason.getErrorMessage());
  }
  if (onConnectionLost) onConnectionLost(reason);
}

// --- input --------------------------------------------------------------------------------------

void ModbusSerialProtocol::dataReceived(reactor::ByteView data) {
  const double now = clock_.seconds();
  const bool anything = !data.empty();
  if (metrics_) metrics_->bytesReceived += data.size();  // as the line delivered it, echo included
  data = stripEcho(data, now);
  if (data.empty()) {
    if (anything) {
      lastArrival_ = now;
      haveArrival_ = true;
    }
    armSilenceTimer();
    return;
  }
  if (rtu_) {
    if (!lineBusy()) {
      closeBurst();
      burstOpen_ = true;  // these bytes start a frame
    }
    if (haveArrival_ && lineBusy()) {
      // The silence before these bytes: time since the last delivery, less the wire time of the
      // bytes just delivered and the driver's allowed latency.
      const double silence = (now - lastArrival_) - static_cast<double>(data.size()) * timing_.characterTime -
                             options_.latency;
      if (silence >= timing_.t35) {
        endOfFrame();
      } else if (!dropping_ && options_.enforceT15 && silence > timing_.t15) {
        ++counters_.timingDiscards;
        reactor::log::debug("serial line: ", silence * 1e3, " ms of silence inside a frame (t1.5 is ",
                            timing_.t15 * 1e3, " ms): discarding ", input_.readableBytes(), " byte(s)");
        dropInput();
        dropping_ = true;
      }
    }
    lastArrival_ = now;
    haveArrival_ = true;
    if (!dropping_) {
      feed(data);
      flushOutput();
    }
    armSilenceTimer();
    return;
  }
  // ASCII: the guide's inter-character timeout (1 s by default).
  if (haveArrival_ && input_.readableBytes() > 0 && now - lastArrival_ > options_.asciiCharTimeout) {
    ++counters_.timingDiscards;
    reactor::log::debug("serial line: ASCII frame interrupted for ", now - lastArrival_, " s: discarding ",
                        input_.readableBytes(), " byte(s)");
    dropInput();
  }
  lastArrival_ = now;
  haveArrival_ = true;
  feed(data);
  flushOutput();
}

reactor::ByteView ModbusSerialProtocol::stripEcho(reactor::ByteView data, double now) {
  if (echo_.readableBytes() == 0 || data.empty()) return data;
  if (now > echoDeadline_) {
    reactor::log::debug("serial line: ", echo_.readableBytes(), " byte(s) of local echo never came back");
    echo_.retrieveAll();
    return data;
  }
  auto expected = echo_.readable();
  std::size_t m = 0;
  while (m < data.size() && m < expected.size() && data[m] == expected[m]) ++m;
  counters_.echoBytesDropped += m;
  if (m < data.size() && m < expected.size()) {
    reactor::log::debug("serial line: the local echo differs from what we sent; no longer expecting it");
    echo_.retrieveAll();
  } else {
    echo_.retrieve(m);
  }
  return data.subspan(m);
}

void ModbusSerialProtocol::feed(reactor::ByteView data) {
  if (rtu_ && burstOpen_) {
    // Kept until a frame is decoded from it: if none is, the t3.5 gap may end a frame whose length its
    // header does not give (FC 8 / 00 with any payload), which the length rules cut too short.
    burst_.append(data);
    if (burst_.readableBytes() > RtuFramer::kMaxAduSize) closeBurst();
  }
  LinePolicy policy{{}, *this};
  core_->feed(input_, data, policy);
  if (input_.readableBytes() > options_.maxInputBuffer) {
    ++counters_.characterOverruns;
    countOnServedDevices(&ControlBlock::countBusCharacterOverrun);
    reactor::log::warning("serial line: ", input_.readableBytes(), " bytes without a whole frame; dropping them");
    dropInput();
  }
}

void ModbusSerialProtocol::closeBurst() {
  burstOpen_ = false;
  burstDiscarded_ = false;
  burst_.retrieveAll();
}

std::optional<std::size_t> ModbusSerialProtocol::matchForeignResponse(std::span<const std::uint8_t> input) {
  const Expected e = *expected_;
  auto notIt = [this]() -> std::optional<std::size_t> {
    expected_.reset();
    return std::nullopt;
  };
  if (input[0] != e.unitId) return notIt();
  if (input.size() < 2) return gapMode_ ? notIt() : std::optional<std::size_t>(0);
  if ((input[1] & 0x7F) != e.functionCode) return notIt();
  std::optional<std::size_t> length = framer_->responseLength(input);
  if (!length) {
    // Too few bytes to tell yet, or a function code whose response length the framer does not
    // know: then the frame ends at the gap.
    if (gapMode_) {
      if (wholeRtuFrame(input)) {
        ++counters_.foreignResponses;
        ++counters_.busMessages;
        countOnServedDevices(&ControlBlock::countBusMessage);
        expected_.reset();
        return input.size();
      }
      return notIt();
    }
    return input.size() >= RtuFramer::kMaxAduSize ? notIt() : std::optional<std::size_t>(0);
  }
  if (input.size() < *length) return gapMode_ ? notIt() : std::optional<std::size_t>(0);
  if (!wholeRtuFrame(input.first(*length))) return notIt();
  ++counters_.foreignResponses;
  ++counters_.busMessages;
  countOnServedDevices(&ControlBlock::countBusMessage);
  expected_.reset();
  return *length;
}

void ModbusSerialProtocol::handleFrame(const DecodeResult& frame) {
  const std::uint8_t unit = frame.header.unitId;
  const auto pdu = frame.pdu;
  if (pdu.empty()) return;
  if (unit == 0) {
    ++counters_.slaveMessages;
    ++counters_.slaveNoResponses;
    if (!requestFilter || requestFilter(0, pdu)) broadcast(pdu);
    return;
  }
  if (!serves(unit)) {
    // Another device's business: silence, and its response (RTU) is skipped when it comes.
    ++counters_.foreignRequests;
    countOnServedDevices(&ControlBlock::countBusMessage);
    if (rtu_) expected_ = Expected{unit, static_cast<std::uint8_t>(pdu[0] & 0x7F)};
    return;
  }
  ++counters_.slaveMessages;
  // On a serial line a unit without a device is always silence (no exception 0x0B).
  if (processor_->context().find(unit) == nullptr || (requestFilter && !requestFilter(unit, pdu))) {
    ++counters_.slaveNoResponses;
    return;
  }
  std::span<std::uint8_t> response = framer_->beginFrame(output_, frame.header);
  // FC 8 / 03 on ASCII: the framer follows the device's input delimiter for the next frame (the core).
  const Answer answer = core_->serve(unit, pdu, response, /*allowAsync=*/false, "serial line");
  // A silent answer passes the response hook too (as on a stream: a trace shows "answer none").
  std::size_t length = answer.kind == Answer::Kind::Send ? answer.length : 0;
  ResponsePlan plan;
  if (responseHook_) {
    plan = askResponseHook(*responseHook_, unit, pdu, response, length, "serial line");
    if (plan.kind == ResponsePlan::Kind::Silence) length = 0;
  }
  if (plan.kind == ResponsePlan::Kind::Junk || (length > 0 && plan.kind != ResponsePlan::Kind::Send &&
                                                plan.kind != ResponsePlan::Kind::Silence)) {
    answerAsPlanned(frame.header, response.first(length), plan);  // the begun frame is left uncommitted
    return;
  }
  if (length == 0) {
    ++counters_.slaveNoResponses;
    return;
  }
  if ((response[0] & 0x80) != 0) ++counters_.exceptionResponses;
  if (metrics_) {
    metrics_->countAnswer(response.first(length));
    if (unsentAnswers_++ == 0) answerReceivedAt_ = lastArrival_;
  }
  framer_->commitFrame(output_, length);
}

void ModbusSerialProtocol::answerAsPlanned(const FrameHeader& header, std::span<const std::uint8_t> pdu,
                                           const ResponsePlan& plan) {
  if (plan.kind == ResponsePlan::Kind::Junk) {
    std::vector<std::uint8_t> junk(plan.junkBytes);
    try {
      responseHook_->fillJunk(junk);
    } catch (const std::exception& e) {
      reactor::log::error("serial line: response hook failed to fill junk: ", e.what());
    }
    output_.append(junk);  // goes out with this batch's answers (flushOutput)
    return;
  }
  // Delay and Split: the framed answer (or its second half) leaves on its own, later.
  if ((pdu[0] & 0x80) != 0) ++counters_.exceptionResponses;
  Buffer framed(0);
  framer_->encode(framed, header, pdu);
  const auto bytes = framed.readable();
  const double delay = std::max(0.0, plan.delay);
  if (plan.kind == ResponsePlan::Kind::Delay) {
    writeLater(delay, std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    return;
  }
  const std::size_t half = std::max<std::size_t>(1, bytes.size() / 2);
  output_.append(bytes.first(half));
  if (half < bytes.size()) {
    writeLater(delay, std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(half), bytes.end()));
  }
}

void ModbusSerialProtocol::writeLater(double delay, std::vector<std::uint8_t> bytes) {
  std::weak_ptr<reactor::Protocol> weak = weak_from_this();
  clock_.callLater(delay, [weak, bytes = std::move(bytes)] {
    auto self = weak.lock();
    if (!self || !self->connected()) return;
    auto* line = static_cast<ModbusSerialProtocol*>(self.get());
    line->expectEcho(bytes);
    if (line->metrics_) line->metrics_->bytesSent += bytes.size();
    line->transport().write(bytes);
  });
}

void ModbusSerialProtocol::broadcast(std::span<const std::uint8_t> pdu) {
  // Once per served device; the processor decides which function codes a broadcast may run.
  forEachServedDevice([this, pdu](std::uint8_t id, DeviceContext&) {
    try {
      processor_->processBroadcast(id, pdu);  // applied, counted as a broadcast, never answered
    } catch (const std::exception& e) {
      reactor::log::error("serial broadcast for unit ", static_cast<int>(id), " failed: ", e.what());
    }
  });
}

// --- timing -------------------------------------------------------------------------------------

void ModbusSerialProtocol::endOfFrame() {
  dropping_ = false;
  if (input_.readableBytes() > 0 && rtu_) {
    // The buffered bytes end at a frame boundary: the framer may take a frame its length rules could
    // not measure, and drops whatever else is there.
    framer_->markFrameGap();
    gapMode_ = true;
    LinePolicy policy{{}, *this};
    core_->decodeFrames(input_.readable(), policy);
    gapMode_ = false;
    framer_->decode({});  // clears the gap
  }
  input_.retrieveAll();
  if (burstOpen_ && burstDiscarded_) retryBurstAtGap();
  closeBurst();
  burstOpen_ = true;  // the next byte starts a frame
  inGarbage_ = false;
}

void ModbusSerialProtocol::retryBurstAtGap() {
  // Everything since the last gap, taken whole: a frame if its CRC says so (guide §2.5.1.1: the frame
  // ends at t3.5 of silence when nothing else tells its length).
  framer_->markFrameGap();
  const DecodeResult r = framer_->decode(burst_.readable());
  if (r.status == DecodeStatus::Frame && r.consumed == burst_.readableBytes()) {
    reactor::log::debug("serial line: ", r.consumed, " bytes up to the gap make one frame");
    LinePolicy policy{{}, *this};
    policy.frame(r);
  }
  framer_->decode({});  // clears the gap
}

bool ModbusSerialProtocol::lineBusy() const {
  return input_.readableBytes() > 0 || dropping_ || (burstOpen_ && burstDiscarded_);
}

void ModbusSerialProtocol::armSilenceTimer() {
  if (!rtu_ || silenceTimer_.active()) return;
  if (!lineBusy()) return;
  std::weak_ptr<reactor::Protocol> weak = weak_from_this();
  silenceTimer_ = clock_.callLater(timing_.t35 + timing_.characterTime + options_.latency, [weak] {
    if (auto self = weak.lock()) static_cast<ModbusSerialProtocol*>(self.get())->onSilenceTimer();
  });
}

void ModbusSerialProtocol::onSilenceTimer() {
  if (!connected()) return;
  // A character that started t3.5 after the last delivery would itself be delivered one character
  // time later: only when none has come by then was the silence really t3.5.
  const double elapsed = clock_.seconds() - lastArrival_ - options_.latency - timing_.characterTime;
  if (elapsed + kTimerSlack < timing_.t35) {
    // Bytes came after the timer was set: look again when t3.5 has passed since the last of them.
    std::weak_ptr<reactor::Protocol> weak = weak_from_this();
    silenceTimer_ = clock_.callLater(timing_.t35 - elapsed, [weak] {
      if (auto self = weak.lock()) static_cast<ModbusSerialProtocol*>(self.get())->onSilenceTimer();
    });
    return;
  }
  endOfFrame();
  flushOutput();
}

void ModbusSerialProtocol::dropInput() {
  input_.retrieveAll();
  closeBurst();
  if (rtu_) framer_->reset();
  expected_.reset();
}

// --- output -------------------------------------------------------------------------------------

void ModbusSerialProtocol::flushOutput() {
  if (output_.readableBytes() == 0 || replyTimer_.active()) return;
  if (options_.waitT35BeforeReply && rtu_) {
    const double wait = timing_.t35 - (clock_.seconds() - lastArrival_);
    if (wait > kTimerSlack) {
      std::weak_ptr<reactor::Protocol> weak = weak_from_this();
      replyTimer_ = clock_.callLater(wait, [weak] {
        if (auto self = weak.lock()) static_cast<ModbusSerialProtocol*>(self.get())->sendOutput();
      });
      return;
    }
  }
  sendOutput();
}

void ModbusSerialProtocol::expectEcho(std::span<const std::uint8_t> sent) {
  if (!options_.dropLocalEcho) return;
  echo_.append(sent);
  echoDeadline_ = clock_.seconds() + static_cast<double>(echo_.readableBytes()) * timing_.characterTime +
                  options_.latency + 0.5;
}

void ModbusSerialProtocol::sendOutput() {
  if (output_.readableBytes() == 0 || !connected()) return;
  expectEcho(output_.readable());
  transport().write(output_.readable());
  if (metrics_) {
    metrics_->bytesSent += output_.readableBytes();
    if (unsentAnswers_ > 0) metrics_->latency.observe(clock_.seconds() - answerReceivedAt_, unsentAnswers_);
  }
  unsentAnswers_ = 0;
  output_.retrieveAll();
}

}  // namespace modbus
