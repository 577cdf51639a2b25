// RemoteDevice: the gateway's downstream link — MBAP over connectTCP, transaction ids matched to
// completions, per-request timeouts, reconnection with back-off.
#include "protocols/devices/remote_device.h"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "framers/buffer.h"
#include "framers/socket_framer.h"
#include "protocols/application/pdu.h"
#include "protocols/application/request_processor.h"
#include "reactor/endpoints.h"
#include "reactor/log.h"
#include "reactor/protocol.h"

namespace modbus {
namespace {

/// Completes `done` with `fc|0x80 code`.
void answerException(const Completion& done, std::uint8_t functionCode, ExceptionCode code) {
  std::uint8_t pdu[2];
  const std::size_t n = exceptionResponse(functionCode, code, pdu);
  if (done) done(std::span<const std::uint8_t>(pdu, n));
}

/// The client protocol: decodes MBAP answers and hands them to the device.
class RemoteLink final : public reactor::Protocol {
 public:
  explicit RemoteLink(std::weak_ptr<RemoteDevice> device) : device_(std::move(device)), input_(512) {}

  void connectionMade() override {
    if (auto d = device_.lock()) {
      d->linkMade(this);
    } else {
      transport().loseConnection();
    }
  }

  void dataReceived(reactor::ByteView data) override {
    input_.append(data);
    while (input_.readableBytes() > 0) {
      DecodeResult r = framer_.decode(input_.readable());
      if (r.status == DecodeStatus::NeedMore) break;
      if (r.status == DecodeStatus::Fatal) {
        reactor::log::warning("downstream ", transport().getPeer().toString(), ": ", r.reason, "; reconnecting");
        input_.retrieveAll();
        transport().loseConnection();
        return;
      }
      if (r.status == DecodeStatus::Frame) {
        auto d = device_.lock();
        if (!d) return;
        d->answerReceived(r.header.transactionId, r.pdu);
      }
      input_.retrieve(r.consumed);
    }
  }

  std::string logPrefix() const override { return "RemoteLink"; }

 private:
  std::weak_ptr<RemoteDevice> device_;
  SocketFramer framer_;
  Buffer input_;
};

class RemoteLinkFactory final : public reactor::ClientFactory {
 public:
  explicit RemoteLinkFactory(std::weak_ptr<RemoteDevice> device) : device_(std::move(device)) {}

  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address&) override {
    return std::make_shared<RemoteLink>(device_);
  }
  void clientConnectionFailed(reactor::IConnector&, const reactor::Failure& reason) override {
    if (auto d = device_.lock()) {
      reactor::log::info("downstream ", d->host(), ":", d->port(), " unreachable: ", reason.getErrorMessage());
      d->linkFailed();
    }
  }
  void clientConnectionLost(reactor::IConnector&, const reactor::Failure& reason) override {
    if (auto d = device_.lock()) {
      reactor::log::info("downstream ", d->host(), ":", d->port(), " lost: ", reason.getErrorMessage());
      d->linkLost();
    }
  }

 private:
  std::weak_ptr<RemoteDevice> device_;
};

}  // namespace

std::pair<std::string, std::uint16_t> RemoteDevice::parseEndpoint(std::string_view endpoint) {
  reactor::EndpointDescription desc = reactor::parseEndpoint(endpoint);
  if (desc.type != "tcp") {
    throw reactor::EndpointError("a remote device needs a tcp:HOST:PORT endpoint, not '" + desc.type + ":'");
  }
  std::string host = desc.get("host");
  std::size_t next = 0;
  if (host.empty()) {
    if (desc.args.empty()) throw reactor::EndpointError("a remote device endpoint needs a host (tcp:HOST:PORT)");
    host = desc.args[next++];
  }
  long port = 0;
  if (desc.has("port")) {
    port = desc.getInt("port", 0, 1, 65535);
  } else {
    if (desc.args.size() <= next) throw reactor::EndpointError("a remote device endpoint needs a port (tcp:HOST:PORT)");
    try {
      std::size_t used = 0;
      port = std::stol(desc.args[next], &used);
      if (used != desc.args[next].size()) port = 0;
    } catch (const std::exception&) {
      port = 0;
    }
    if (port < 1 || port > 65535) throw reactor::EndpointError("'" + desc.args[next] + "' is not a port (1..65535)");
    ++next;
  }
  if (desc.args.size() > next) throw reactor::EndpointError("unexpected field '" + desc.args[next] + "'");
  return {host, static_cast<std::uint16_t>(port)};
}

RemoteDevice::RemoteDevice(reactor::Reactor& reactor, std::string host, std::uint16_t port,
                           RemoteDeviceOptions options)
    : reactor_(reactor), host_(std::move(host)), port_(port), options_(options), delay_(options.initialDelay) {}

std::shared_ptr<RemoteDevice> RemoteDevice::create(reactor::Reactor& reactor, std::string host, std::uint16_t port,
                                                   RemoteDeviceOptions options) {
  std::shared_ptr<RemoteDevice> device(new RemoteDevice(reactor, std::move(host), port, options));
  device->factory_ = std::make_shared<RemoteLinkFactory>(device);
  // The reactor's graceful stop waits for connections: stop reconnecting before it starts waiting.
  std::weak_ptr<RemoteDevice> weak = device;
  device->shutdownTrigger_ = reactor.addSystemEventTrigger(reactor::Phase::Before, reactor::SystemEvent::Shutdown,
                                                           [weak] {
                                                             if (auto d = weak.lock()) d->stop();
                                                           });
  device->connect();
  return device;
}

std::shared_ptr<RemoteDevice> RemoteDevice::fromEndpoint(reactor::Reactor& reactor, std::string_view endpoint,
                                                         RemoteDeviceOptions options) {
  auto [host, port] = parseEndpoint(endpoint);
  return create(reactor, std::move(host), port, options);
}

RemoteDevice::~RemoteDevice() {
  // Let go of the link and the timers. The clients of requests still waiting are still waiting
  // for an answer in their place in line (the device was removed, not they): they get 0x0A, from
  // the reactor's next turn rather than from inside this destructor.
  reactor_.removeSystemEventTrigger(shutdownTrigger_);
  if (retry_.active()) retry_.cancel();
  std::vector<std::pair<std::uint8_t, Completion>> waiting;
  for (auto& [id, q] : queued_) {
    if (q.timeout.active()) q.timeout.cancel();
    waiting.emplace_back(q.request[0], std::move(q.done));
  }
  for (auto& [tid, f] : inFlight_) {
    if (f.timeout.active()) f.timeout.cancel();
    waiting.emplace_back(f.functionCode, std::move(f.done));
  }
  if (!waiting.empty()) {
    reactor_.callLater(0, [waiting = std::move(waiting)] {
      for (const auto& [functionCode, done] : waiting) {
        answerException(done, functionCode, ExceptionCode::GatewayPathUnavailable);
      }
    });
  }
  if (link_ != nullptr) link_->transport().loseConnection();
}

void RemoteDevice::connect() {
  state_ = State::Connecting;
  if (!connector_) {
    connector_ = reactor_.connectTCP(host_, port_, factory_, options_.connectTimeout);
  } else {
    connector_->connect();
  }
}

void RemoteDevice::stop() {
  if (state_ == State::Stopped) return;
  const State was = state_;
  state_ = State::Stopped;
  if (retry_.active()) retry_.cancel();
  if (link_ != nullptr) {
    link_->transport().loseConnection();
  } else if (was == State::Connecting && connector_) {
    connector_->stopConnecting();
  }
  failQueued(ExceptionCode::GatewayPathUnavailable);
  failInFlight(ExceptionCode::GatewayPathUnavailable);
}

void RemoteDevice::submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) {
  if (request.empty()) return answerException(done, 0, ExceptionCode::IllegalFunction);
  const std::uint8_t downstreamUnit = options_.unitId.value_or(unitId);
  switch (state_) {
    case State::Connected:
      send(downstreamUnit, request, std::move(done));
      return;
    case State::Connecting: {
      if (queued_.size() >= options_.maxQueued) {
        return answerException(done, request[0], ExceptionCode::GatewayPathUnavailable);
      }
      const std::uint64_t id = nextQueued_++;
      Queued& q = queued_[id];
      q.unitId = downstreamUnit;
      q.request.assign(request.begin(), request.end());
      q.done = std::move(done);
      std::weak_ptr<RemoteDevice> weak = weak_from_this();
      q.timeout = reactor_.callLater(options_.timeout, [weak, id] {
        auto self = weak.lock();
        if (!self) return;
        auto it = self->queued_.find(id);
        if (it == self->queued_.end()) return;
        Queued expired = std::move(it->second);
        self->queued_.erase(it);
        answerException(expired.done, expired.request[0], ExceptionCode::GatewayPathUnavailable);
      });
      return;
    }
    case State::WaitingToRetry:
    case State::Stopped:
      return answerException(done, request[0], ExceptionCode::GatewayPathUnavailable);
  }
}

void RemoteDevice::send(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) {
  // A transaction id not in use (at most 65535 can be in flight).
  std::uint16_t tid = nextTransactionId_;
  for (int tries = 0; inFlight_.count(tid) != 0 && tries < 65536; ++tries) ++tid;
  if (inFlight_.count(tid) != 0 || link_ == nullptr || request.size() > kMaxPduSize) {
    return answerException(done, request[0], ExceptionCode::ServerDeviceBusy);
  }
  nextTransactionId_ = static_cast<std::uint16_t>(tid + 1);
  InFlight& f = inFlight_[tid];
  f.done = std::move(done);
  f.functionCode = request[0];
  std::weak_ptr<RemoteDevice> weak = weak_from_this();
  f.timeout = reactor_.callLater(options_.timeout, [weak, tid] {
    auto self = weak.lock();
    if (!self) return;
    auto it = self->inFlight_.find(tid);
    if (it == self->inFlight_.end()) return;
    InFlight expired = std::move(it->second);
    self->inFlight_.erase(it);
    reactor::log::info("downstream ", self->host_, ":", self->port_, " did not answer transaction ", tid, " in time");
    answerException(expired.done, expired.functionCode, ExceptionCode::GatewayTargetDeviceFailedToRespond);
  });
  Buffer frame(kMaxPduSize + SocketFramer::kHeaderSize);
  SocketFramer framer;
  framer.encode(frame, FrameHeader{tid, 0, unitId}, request);
  link_->transport().write(frame.readable());
}

void RemoteDevice::answerReceived(std::uint16_t transactionId, std::span<const std::uint8_t> pdu) {
  auto it = inFlight_.find(transactionId);
  if (it == inFlight_.end()) return;  // late (timed out) or unknown: dropped
  InFlight f = std::move(it->second);
  inFlight_.erase(it);
  if (f.timeout.active()) f.timeout.cancel();
  if (f.done) f.done(pdu);
}

void RemoteDevice::linkMade(reactor::Protocol* link) {
  if (state_ == State::Stopped) {
    link->transport().loseConnection();
    return;
  }
  link_ = link;
  state_ = State::Connected;
  delay_ = options_.initialDelay;
  ++connectionsMade_;
  reactor::log::info("downstream ", host_, ":", port_, " connected");
  // Send what waited for the connection, in order.
  auto waiting = std::move(queued_);
  queued_.clear();
  for (auto& [id, q] : waiting) {
    if (q.timeout.active()) q.timeout.cancel();
    send(q.unitId, q.request, std::move(q.done));
  }
}

void RemoteDevice::linkFailed() {
  failQueued(ExceptionCode::GatewayPathUnavailable);
  retryLater();
}

void RemoteDevice::linkLost() {
  link_ = nullptr;
  failInFlight(ExceptionCode::GatewayTargetDeviceFailedToRespond);
  retryLater();
}

void RemoteDevice::retryLater() {
  if (state_ == State::Stopped) return;
  if (!reactor_.running()) {
    state_ = State::Stopped;  // the reactor is going away: no more attempts
    failQueued(ExceptionCode::GatewayPathUnavailable);
    return;
  }
  state_ = State::WaitingToRetry;
  const double delay = delay_;
  delay_ = std::min(options_.maxDelay, delay_ * options_.factor);
  std::weak_ptr<RemoteDevice> weak = weak_from_this();
  retry_ = reactor_.callLater(delay, [weak] {
    auto self = weak.lock();
    if (self && self->state_ == State::WaitingToRetry) self->connect();
  });
}

void RemoteDevice::failQueued(ExceptionCode code) {
  auto waiting = std::move(queued_);
  queued_.clear();
  for (auto& [id, q] : waiting) {
    if (q.timeout.active()) q.timeout.cancel();
    answerException(q.done, q.request[0], code);
  }
}

void RemoteDevice::failInFlight(ExceptionCode code) {
  auto sent = std::move(inFlight_);
  inFlight_.clear();
  for (auto& [tid, f] : sent) {
    if (f.timeout.active()) f.timeout.cancel();
    answerException(f.done, f.functionCode, code);
  }
}

}  // namespace modbus
