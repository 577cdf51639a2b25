// ModbusStreamProtocol (pymodbus's ModbusTcpProtocol) on our reactor, without its framing bugs: every frame of a
// read batch is answered in order, a split frame waits for the rest, and one bad frame is dropped
// by its own length instead of the whole buffer.
#include "protocols/serving/modbus_stream_protocol.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <limits>
#include <utility>

#include "protocols/devices/async_device.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/serving/response_hook.h"
#include "reactor/log.h"

namespace modbus {

/// A stream: frames in order, a Fatal framing error closes the connection.
struct ModbusStreamProtocol::StreamPolicy : FramePolicy {
  ModbusStreamProtocol& self;

  // Twisted's LineOnlyReceiver rule: once told to close, ignore the rest of the batch.
  bool stopped() const { return self.transport().disconnecting(); }
  // Once this batch's answers and what the transport still holds pass maxBufferedOutput (the
  // transport's own pause rule), the rest of the input waits in input_: a client that pipelines
  // without reading costs one read chunk of input and about maxBufferedOutput of output.
  bool held() {
    if (self.output_.readableBytes() + self.transport().bufferedAmount() <= self.serverFactory_->options().maxBufferedOutput)
      return false;
    self.outputHeld_ = true;
    return true;
  }
  void discarded(const DecodeResult& r) {
    reactor::log::debug("client ", self.transport().getPeer().toString(), ": dropped ", r.consumed,
                        " byte(s): ", r.reason);
  }
  void fatal(const DecodeResult& r) {
    self.serverFactory_->connectionLog().record(ConnectionEvent::FramingError, reactor::log::Level::Warning, "client ",
                                                self.transport().getPeer().toString(), ": ", r.reason,
                                                "; closing the connection");
    self.flushOutput();
    self.transport().loseConnection();
  }
  void frame(const DecodeResult& r) {
    self.handleRequest(r.header, r.pdu);
    ++self.requests_;
  }
};

ModbusStreamProtocol::ModbusStreamProtocol(std::unique_ptr<Framer> framer)
    // Both buffers start empty and grow on first use: an idle connection holds no buffer space, an
    // answered one holds one ADU's worth of output (260 bytes) and keeps it, so the steady state
    // still allocates nothing. Input is buffered only for frames split across reads.
    : framer_(std::move(framer)), input_(0), output_(0) {}

ModbusStreamProtocol::~ModbusStreamProtocol() = default;

void ModbusStreamProtocol::connectionMade() {
  serverFactory_ = &factoryAs<ModbusServerFactory>();
  serverFactory_->connectionOpened(this);
  auto& t = transport();
  if (auto* tcp = dynamic_cast<reactor::ITCPTransport*>(&t)) tcp->setTcpNoDelay(true);
  t.setWriteHighWaterMark(serverFactory_->options().maxBufferedOutput);
  t.registerProducer(std::shared_ptr<reactor::IProducer>(shared_from_this(), static_cast<reactor::IProducer*>(this)),
                     /*streaming=*/true);
  registeredProducer_ = true;
  core_.emplace(*framer_, serverFactory_->processor());
  metrics_ = serverFactory_->metricsPtr();
  core_->setMetrics(metrics_.get());
  ++metrics_->connectionsMade;
  serverFactory_->processor().configureFramer(*framer_);
  serverFactory_->connectionLog().record(ConnectionEvent::Connected, reactor::log::Level::Info, "client connected: ",
                                        t.getPeer().toString(), " (", serverFactory_->connectionCount(), " open)");
  if (serverFactory_->options().traceConnect) {
    try {
      serverFactory_->options().traceConnect(true, t.getPeer());
    } catch (const std::exception& e) {
      reactor::log::error("trace_connect hook failed: ", e.what());
    }
  }
  clock_ = serverFactory_->clock();
  // A process-wide sequence: an operator names a connection by it (the simulator's /api/v1) even
  // when several servers (or a restart) reuse pointers and peers.
  static std::atomic<std::uint64_t> nextConnectionId{0};
  connectionId_ = ++nextConnectionId;
  if (clock_) {
    lastActivity_ = clock_->seconds();
    connectedAt_ = lastActivity_;
    batchStart_ = lastActivity_;
    armDeadline();
  }
}

double ModbusStreamProtocol::nextDeadline() const {
  const ServerOptions& o = serverFactory_->options();
  double next = std::numeric_limits<double>::infinity();
  if (o.idleTimeout > 0) next = lastActivity_ + o.idleTimeout;
  if (o.frameTimeout > 0 && frameStarted_) next = std::min(next, frameStart_ + o.frameTimeout);
  return next;
}

void ModbusStreamProtocol::armDeadline() {
  // One timer per connection, moved only when it fires or a frame starts before it: a request
  // costs a clock read, not a heap operation. Firing early is harmless (it re-arms).
  const double next = nextDeadline();
  if (next == std::numeric_limits<double>::infinity()) return;
  const double delay = std::max(0.0, next - clock_->seconds());
  if (deadline_.active()) {
    if (deadline_.getTime() > next) deadline_.reset(delay);
    return;
  }
  std::weak_ptr<reactor::Protocol> weak = weak_from_this();
  deadline_ = clock_->callLater(delay, [weak, this] {
    auto self = weak.lock();
    if (self && connected()) onDeadline();
  });
}

void ModbusStreamProtocol::onDeadline() {
  const ServerOptions& o = serverFactory_->options();
  const double now = clock_->seconds();
  ConnectionLog& log = serverFactory_->connectionLog();
  if (o.frameTimeout > 0 && frameStarted_ && now - frameStart_ >= o.frameTimeout) {
    log.record(ConnectionEvent::FrameDeadline, reactor::log::Level::Info, "client ", transport().getPeer().toString(),
               ": a frame begun ", o.frameTimeout, " s ago is not complete: closing");
    transport().abortConnection();
  } else if (o.idleTimeout > 0 && now - lastActivity_ >= o.idleTimeout) {
    log.record(ConnectionEvent::IdleTimeout, reactor::log::Level::Info, "client ", transport().getPeer().toString(),
               " idle for ", o.idleTimeout, " s: closing");
    // A client that does not read its answers would hold a graceful close open for ever.
    if (pausedByTransport_) {
      transport().abortConnection();
    } else {
      transport().loseConnection();
    }
  } else {
    armDeadline();
  }
}

void ModbusStreamProtocol::dataReceived(reactor::ByteView data) {
  if (clock_) lastActivity_ = batchStart_ = clock_->seconds();
  metrics_->bytesReceived += data.size();
  std::vector<std::uint8_t> rewritten;  // only with a trace_packet hook (no allocation otherwise)
  if (serverFactory_->options().tracePacket) {
    rewritten.assign(data.begin(), data.end());
    serverFactory_->options().tracePacket(false, rewritten);
    data = rewritten;
  }
  serveInput(data);
}

void ModbusStreamProtocol::serveInput(reactor::ByteView data) {
  const std::size_t answeredBefore = requests_;
  outputHeld_ = false;
  inBatch_ = true;
  StreamPolicy policy{{}, *this};
  core_->feed(input_, data, policy);
  // The output filled before the input was done: send it. If the transport took it (the kernel
  // had room), go on with the rest on the reactor's next turn, reading nothing meanwhile: each
  // turn a connection answers at most about maxBufferedOutput, so one client's 64 KiB of
  // pipelined requests cannot keep every other client waiting. Without a clock, go on at once.
  while (outputHeld_ && !pausedByTransport_ && !transport().disconnecting()) {
    flushOutput();
    if (pausedByTransport_) break;  // the rest waits for resumeProducing, unread
    if (clock_) {
      continueNextTurn();
      break;
    }
    outputHeld_ = false;
    core_->feed(input_, {}, policy);
  }
  if (outputHeld_ && pausedByTransport_) {
    // A client that does not read may stay so for minutes: give back the output buffer (grown to
    // about 2 x maxBufferedOutput) rather than keep it for answers it cannot take yet.
    Buffer released(0);
    output_.swap(released);
  }
  inBatch_ = false;
  if (!outputHeld_ && input_.readableBytes() > serverFactory_->options().maxInputBuffer) {
    reactor::log::warning("client ", transport().getPeer().toString(), ": ", input_.readableBytes(),
                          " bytes without a whole frame; dropping them");
    input_.retrieveAll();
  }
  flushOutput();
  // The frame deadline runs from the first byte of a frame left incomplete (not from whole
  // requests held back for the output, and anew once a frame completes).
  const bool partial = !outputHeld_ && input_.readableBytes() > 0;
  if (!partial) {
    frameStarted_ = false;
  } else if (clock_ && (!frameStarted_ || requests_ != answeredBefore)) {
    frameStarted_ = true;
    frameStart_ = clock_->seconds();
    armDeadline();
  }
}

void ModbusStreamProtocol::handleRequest(const FrameHeader& header, std::span<const std::uint8_t> request) {
  const ServerOptions& o = serverFactory_->options();
  if (o.tracePdu) {
    const bool keep = tracePdu(false, header.unitId, request, traceRequest_);
    if (!keep || traceRequest_.empty()) {  // dropped: not executed, not answered
      core_->followAsciiDelimiter(header.unitId);
      return;
    }
    if (traceRequest_.size() > kMaxPduSize) traceRequest_.resize(kMaxPduSize);
    request = traceRequest_;
  }
  bool pending = false;
  if (pending_.empty() && !o.tracePdu && !o.tracePacket) {
    // The plain path: the answer is encoded straight into the output buffer.
    std::span<std::uint8_t> response = framer_->beginFrame(output_, header);
    std::size_t n = runRequest(header, request, response, pending);
    if (pending) return;
    if (o.responseHook && !planResponse(header, request, response, n)) return;
    if (n > 0) sendHook(header, response, n);
    if (n > 0) {  // again: the send hook may have emptied the answer (length 0: nothing goes out)
      metrics_->countAnswer(response.first(n));
      framer_->commitFrame(output_, n);
      ++unsentAnswers_;
    }
    return;
  }
  std::array<std::uint8_t, kMaxPduSize> scratch;  // on the stack: no per-connection copy of it
  std::size_t n = runRequest(header, request, scratch, pending);
  if (pending) return;
  if (o.responseHook && !planResponse(header, request, scratch, n)) return;
  if (n > 0) sendHook(header, scratch, n);
  if (pending_.empty()) {
    if (n > 0) ++unsentAnswers_;
    emit(header, std::span<const std::uint8_t>(scratch.data(), n));
    return;
  }
  // Behind an asynchronous answer: wait in line.
  PendingAnswer& answer = pending_.emplace_back();
  answer.header = header;
  answer.functionCode = request[0];
  answer.receivedAt = batchStart_;
  answer.ready = true;
  answer.pdu.assign(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n));
}

std::size_t ModbusStreamProtocol::runRequest(const FrameHeader& header, std::span<const std::uint8_t> request,
                                             std::span<std::uint8_t> response, bool& pending) {
  std::size_t n = 0;
  try {
    if (!authorize(header.unitId, request, response, n)) {
      metrics_->countRequest(request);  // refused before the core saw it (a TLS role)
      core_->followAsciiDelimiter(header.unitId);
      return n;
    }
  } catch (const std::exception& e) {
    reactor::log::error("request from ", transport().getPeer().toString(), " failed: ", e.what());
    core_->followAsciiDelimiter(header.unitId);
    return request.empty() ? 0 : exceptionResponse(request[0], ExceptionCode::ServerDeviceFailure, response);
  }
  Answer answer;
  try {
    answer = execute(header.unitId, request, response);
  } catch (const std::exception& e) {
    // Only a subclass's execute() throws here: the default catches what the handlers throw.
    reactor::log::error("execute() for a request from ", transport().getPeer().toString(), " failed: ", e.what());
    core_->followAsciiDelimiter(header.unitId);
    return request.empty() ? 0 : exceptionResponse(request[0], ExceptionCode::ServerDeviceFailure, response);
  }
  if (answer.kind == Answer::Kind::Pending && answer.device != nullptr) {
    core_->followAsciiDelimiter(header.unitId);
    pending = true;
    startAsync(header, request, *answer.device);
    return 0;
  }
  if (answer.kind != Answer::Kind::Send) return 0;
  return std::min(answer.length, response.size());
}

Answer ModbusStreamProtocol::execute(std::uint8_t unitId, std::span<const std::uint8_t> request,
                                     std::span<std::uint8_t> response) {
  return core_->serve(unitId, request, response, /*allowAsync=*/true, "stream request");
}

void ModbusStreamProtocol::sendHook(const FrameHeader& header, std::span<std::uint8_t> response, std::size_t& length) {
  const std::size_t original = length;
  try {
    send(header, response, length);
    if (length > response.size()) length = response.size();
  } catch (const std::exception& e) {
    reactor::log::error("send() hook failed: ", e.what(), "; the answer goes out unchanged");
    length = original;
  }
}

void ModbusStreamProtocol::startAsync(const FrameHeader& header, std::span<const std::uint8_t> request,
                                   AsyncDevice& device) {
  const std::uint64_t slot = firstSlot_ + pending_.size();
  PendingAnswer& answer = pending_.emplace_back();
  answer.header = header;
  answer.functionCode = request[0];
  answer.receivedAt = batchStart_;
  updateReading();
  std::weak_ptr<reactor::Protocol> weak = weak_from_this();
  Completion done = [weak, this, slot](std::span<const std::uint8_t> pdu) {
    auto self = weak.lock();
    if (self) complete(slot, pdu);
  };
  try {
    device.submit(header.unitId, request, std::move(done));
  } catch (const std::exception& e) {
    reactor::log::error("asynchronous unit ", static_cast<int>(header.unitId), " failed: ", e.what());
    std::uint8_t failure[2];
    complete(slot, std::span<const std::uint8_t>(
                       failure, exceptionResponse(request[0], ExceptionCode::ServerDeviceFailure, failure)));
  }
}

void ModbusStreamProtocol::complete(std::uint64_t slot, std::span<const std::uint8_t> pdu) {
  if (!connected() || slot < firstSlot_ || slot - firstSlot_ >= pending_.size()) return;
  PendingAnswer& answer = pending_[static_cast<std::size_t>(slot - firstSlot_)];
  if (answer.ready) return;  // answered twice: the first answer stands
  answer.ready = true;
  if (!answer.raw && pdu.size() > kMaxPduSize) {
    std::uint8_t failure[2];
    answer.pdu.assign(failure, failure + exceptionResponse(answer.functionCode, ExceptionCode::ServerDeviceFailure,
                                                           failure));
  } else {
    answer.pdu.assign(pdu.begin(), pdu.end());
  }
  if (!answer.raw && !answer.pdu.empty()) {
    // The send() hook sees asynchronous answers too, in room for a whole PDU (this path copies anyway).
    std::size_t n = answer.pdu.size();
    answer.pdu.resize(kMaxPduSize);
    sendHook(answer.header, answer.pdu, n);
    answer.pdu.resize(n);
  }
  drainPending();
}

void ModbusStreamProtocol::drainPending() {
  double now = -1;  // read once, if an answer here is timed
  while (!pending_.empty() && pending_.front().ready) {
    PendingAnswer answer = std::move(pending_.front());
    pending_.erase(pending_.begin());
    ++firstSlot_;
    if (clock_ && answer.receivedAt >= 0 && !answer.pdu.empty()) {
      if (now < 0) now = clock_->seconds();
      metrics_->latency.observe(now - answer.receivedAt);
    }
    if (answer.raw) {
      output_.append(answer.pdu);
    } else {
      emit(answer.header, answer.pdu);
    }
  }
  updateReading();
  // Inside a read batch the batch's one write sends it; from a completion, write now.
  if (!inBatch_) flushOutput();
}

bool ModbusStreamProtocol::planResponse(const FrameHeader& header, std::span<const std::uint8_t> request,
                                        std::span<std::uint8_t> response, std::size_t& length) {
  ResponsePlan plan;
  try {
    plan = serverFactory_->options().responseHook->onResponse(header.unitId, request, response, length);
  } catch (const std::exception& e) {
    reactor::log::error("response hook failed: ", e.what());
    return true;
  }
  if (length > kMaxPduSize) length = kMaxPduSize;
  const std::uint8_t functionCode = request.empty() ? 0 : request[0];
  // Without a clock (a bare factory in tests) a delay cannot be kept: the answer goes now.
  const double delay = clock_ ? std::max(0.0, plan.delay) : 0.0;
  switch (plan.kind) {
    case ResponsePlan::Kind::Send: return true;
    case ResponsePlan::Kind::Silence: length = 0; return true;
    case ResponsePlan::Kind::Junk: {
      std::vector<std::uint8_t> junk(plan.junkBytes);
      serverFactory_->options().responseHook->fillJunk(junk);
      if (!junk.empty()) queueRaw(std::move(junk));
      return false;
    }
    case ResponsePlan::Kind::Split:
    case ResponsePlan::Kind::Delay: break;
  }
  if (length == 0) return true;  // nothing to split or delay
  // The answer leaves the output buffer's reserved room (response points into it) before that is touched.
  std::vector<std::uint8_t> pdu(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(length));
  if (plan.kind == ResponsePlan::Kind::Delay) {
    completeLater(header, functionCode, delay, std::move(pdu), /*raw=*/false);
    return false;
  }
  Buffer framed(0);
  framer_->encode(framed, header, pdu);
  const auto bytes = framed.readable();
  const std::size_t half = std::max<std::size_t>(1, bytes.size() / 2);
  queueRaw(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(half)));
  // The first half goes out now, in a write of its own: the second follows after the delay.
  if (pending_.empty()) flushOutput();
  completeLater(header, functionCode, delay,
                std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(half), bytes.end()),
                /*raw=*/true);
  return false;
}

void ModbusStreamProtocol::queueRaw(std::vector<std::uint8_t> bytes) {
  if (pending_.empty()) {
    output_.append(bytes);
    return;
  }
  PendingAnswer& answer = pending_.emplace_back();
  answer.ready = true;
  answer.raw = true;
  answer.pdu = std::move(bytes);
}

void ModbusStreamProtocol::completeLater(const FrameHeader& header, std::uint8_t functionCode, double delay,
                                         std::vector<std::uint8_t> bytes, bool raw) {
  const std::uint64_t slot = firstSlot_ + pending_.size();
  PendingAnswer& answer = pending_.emplace_back();
  answer.header = header;
  answer.functionCode = functionCode;
  answer.raw = raw;
  answer.receivedAt = batchStart_;
  if (!clock_) {  // a bare factory in tests: no time to wait on, it goes now
    complete(slot, bytes);
    return;
  }
  updateReading();
  std::erase_if(planned_, [](const reactor::DelayedCall& call) { return !call.active(); });
  std::weak_ptr<reactor::Protocol> weak = weak_from_this();
  planned_.push_back(clock_->callLater(delay, [weak, this, slot, bytes = std::move(bytes)] {
    auto self = weak.lock();
    if (self) complete(slot, bytes);
  }));
}

bool ModbusStreamProtocol::tracePdu(bool isResponse, std::uint8_t unitId, std::span<const std::uint8_t> pdu,
                                    std::vector<std::uint8_t>& copy) {
  copy.assign(pdu.begin(), pdu.end());
  try {
    return serverFactory_->options().tracePdu(isResponse, unitId, copy);
  } catch (const std::exception& e) {
    reactor::log::error("trace_pdu hook failed: ", e.what());
    return true;
  }
}

void ModbusStreamProtocol::emit(const FrameHeader& header, std::span<const std::uint8_t> pdu) {
  const ServerOptions& o = serverFactory_->options();
  if (o.tracePdu && !pdu.empty()) {
    if (!tracePdu(true, header.unitId, pdu, traceResponse_)) return;
    if (traceResponse_.size() > kMaxPduSize) traceResponse_.resize(kMaxPduSize);
    pdu = traceResponse_;
  }
  if (pdu.empty()) return;
  metrics_->countAnswer(pdu);
  const std::size_t before = output_.readableBytes();
  framer_->encode(output_, header, pdu);
  if (o.tracePacket) {
    std::span<const std::uint8_t> frame = output_.readable().subspan(before);
    tracePacket_.assign(frame.begin(), frame.end());
    try {
      o.tracePacket(true, tracePacket_);
    } catch (const std::exception& e) {
      reactor::log::error("trace_packet hook failed: ", e.what());
    }
    output_.unwrite(output_.readableBytes() - before);
    output_.append(tracePacket_);
  }
}

void ModbusStreamProtocol::updateReading() {
  const bool tooMany = pending_.size() >= serverFactory_->options().maxPendingRequests;
  if (tooMany == pausedForPending_ || !connected()) return;
  pausedForPending_ = tooMany;
  if (pausedForPending_) {
    transport().pauseProducing();
  } else if (!pausedByTransport_ && !outputHeld_) {
    transport().resumeProducing();
  }
}

void ModbusStreamProtocol::flushOutput() {
  if (output_.readableBytes() == 0) return;
  metrics_->bytesSent += output_.readableBytes();
  transport().write(output_.readable());
  output_.retrieveAll();
  // Every synchronous answer of the batch left in this one write: they share its time (one clock
  // read per batch, not per request; the request's read is batchStart_, already read for idleTimeout).
  if (unsentAnswers_ > 0) {
    if (clock_) metrics_->latency.observe(clock_->seconds() - batchStart_, unsentAnswers_);
    unsentAnswers_ = 0;
  }
}

void ModbusStreamProtocol::connectionLost(const reactor::Failure& reason) {
  if (deadline_.active()) deadline_.cancel();
  if (continuation_.active()) continuation_.cancel();
  for (reactor::DelayedCall& call : planned_) {
    if (call.active()) call.cancel();
  }
  planned_.clear();
  pending_.clear();  // answers that come later are dropped (complete() checks connected())
  if (serverFactory_ && serverFactory_->options().traceConnect) {
    try {
      serverFactory_->options().traceConnect(false, transport().getPeer());
    } catch (const std::exception& e) {
      reactor::log::error("trace_connect hook failed: ", e.what());
    }
  }
  if (metrics_) ++metrics_->connectionsLost;
  if (serverFactory_) {
    serverFactory_->connectionClosed(this);
    ConnectionLog& log = serverFactory_->connectionLog();
    if (reason.check(reactor::FailureType::ConnectionDone)) {
      log.record(ConnectionEvent::Disconnected, reactor::log::Level::Info, "client disconnected: ",
                 transport().getPeer().toString());
    } else {
      log.record(ConnectionEvent::Disconnected, reactor::log::Level::Info, "client disconnected: ",
                 transport().getPeer().toString(), " (", reason.getErrorMessage(), ")");
    }
  }
}

void ModbusStreamProtocol::pauseProducing() {
  pausedByTransport_ = true;
  serverFactory_->connectionLog().record(ConnectionEvent::OutputPaused, reactor::log::Level::Debug, "client ",
                                         transport().getPeer().toString(), " does not read its answers: reading paused");
  transport().pauseProducing();
}

void ModbusStreamProtocol::resumeProducing() {
  pausedByTransport_ = false;
  // The client has read everything: answer the requests held back, then read again if they fit.
  if (outputHeld_) serveInput({});
  if (!outputHeld_ && !pausedByTransport_ && !pausedForPending_) transport().resumeProducing();
}

void ModbusStreamProtocol::continueNextTurn() {
  transport().pauseProducing();
  if (continuation_.active()) return;
  std::weak_ptr<reactor::Protocol> weak = weak_from_this();
  continuation_ = clock_->callLater(0, [weak, this] {
    auto self = weak.lock();
    // Paused by the transport meanwhile: resumeProducing continues.
    if (!self || !connected() || !outputHeld_ || pausedByTransport_) return;
    serveInput({});
    if (!outputHeld_ && !pausedByTransport_ && !pausedForPending_) transport().resumeProducing();
  });
}

}  // namespace modbus
