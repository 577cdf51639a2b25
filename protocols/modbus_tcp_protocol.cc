// Port of pymodbus's ModbusTcpProtocol on our reactor, without its framing bugs: every frame of a
// read batch is answered in order, a split frame waits for the rest, and one bad frame is dropped
// by its own length instead of the whole buffer.
#include "protocols/modbus_tcp_protocol.h"

#include "protocols/modbus_server_factory.h"
#include "reactor/log.h"

namespace modbus {

ModbusTcpProtocol::ModbusTcpProtocol(std::unique_ptr<Framer> framer)
    // Both buffers start empty and grow on first use: an idle connection holds no buffer space, an
    // answered one holds one ADU's worth of output (260 bytes) and keeps it, so the steady state
    // still allocates nothing. Input is buffered only for frames split across reads.
    : framer_(std::move(framer)), input_(0), output_(0) {}

ModbusTcpProtocol::~ModbusTcpProtocol() = default;

void ModbusTcpProtocol::connectionMade() {
  server_ = &factoryAs<ModbusServerFactory>();
  server_->connectionOpened(this);
  auto& t = transport();
  if (auto* tcp = dynamic_cast<reactor::ITCPTransport*>(&t)) tcp->setTcpNoDelay(true);
  t.setWriteHighWaterMark(server_->options().maxBufferedOutput);
  t.registerProducer(std::shared_ptr<reactor::IProducer>(shared_from_this(), static_cast<reactor::IProducer*>(this)),
                     /*streaming=*/true);
  registeredProducer_ = true;
  reactor::log::info("client connected: ", t.getPeer().toString(), " (", server_->connectionCount(), " open)");
  if (server_->options().idleTimeout > 0 && server_->clock()) {
    lastActivity_ = server_->clock()->seconds();
    scheduleIdleCheck(server_->options().idleTimeout);
  }
}

void ModbusTcpProtocol::scheduleIdleCheck(double delay) {
  // One timer per connection, moved only when it fires: a request costs a clock read, not a
  // heap operation.
  std::weak_ptr<reactor::Protocol> weak = weak_from_this();
  idleCheck_ = server_->clock()->callLater(delay, [weak, this] {
    auto self = weak.lock();
    if (!self || !connected()) return;
    double timeout = server_->options().idleTimeout;
    double idle = server_->clock()->seconds() - lastActivity_;
    if (idle >= timeout) {
      reactor::log::info("client ", transport().getPeer().toString(), " idle for ", timeout, " s: closing");
      transport().loseConnection();
    } else {
      scheduleIdleCheck(timeout - idle);
    }
  });
}

void ModbusTcpProtocol::dataReceived(reactor::ByteView data) {
  if (idleCheck_) lastActivity_ = server_->clock()->seconds();
  if (input_.readableBytes() == 0) {
    // Common case: whole frames straight from the read buffer, no copy.
    std::size_t used = processFrames(data);
    if (used < data.size()) input_.append(data.subspan(used));
  } else {
    input_.append(data);
    input_.retrieve(processFrames(input_.readable()));
  }
  if (input_.readableBytes() > server_->options().maxInputBuffer) {
    reactor::log::warning("client ", transport().getPeer().toString(), ": ", input_.readableBytes(),
                          " bytes without a whole frame; dropping them");
    input_.retrieveAll();
  }
  flushOutput();
}

std::size_t ModbusTcpProtocol::processFrames(std::span<const std::uint8_t> input) {
  std::size_t offset = 0;
  while (offset < input.size()) {
    // Twisted's LineOnlyReceiver rule: once told to close, ignore the rest of the batch.
    if (transport().disconnecting()) return input.size();
    DecodeResult r = framer_->decode(input.subspan(offset));
    switch (r.status) {
      case DecodeStatus::NeedMore:
        return offset;
      case DecodeStatus::Discard:
        reactor::log::debug("client ", transport().getPeer().toString(), ": dropped ", r.consumed,
                            " byte(s): ", r.reason);
        offset += r.consumed;
        break;
      case DecodeStatus::Fatal:
        reactor::log::warning("client ", transport().getPeer().toString(), ": ", r.reason,
                              "; closing the connection");
        flushOutput();
        transport().loseConnection();
        return input.size();
      case DecodeStatus::Frame: {
        std::span<std::uint8_t> response = framer_->beginFrame(output_, r.header);
        std::size_t n = 0;
        try {
          if (authorize(r.header.unitId, r.pdu, response, n)) {
            n = server_->processor().process(r.header.unitId, r.pdu, response);
          }
        } catch (const std::exception& e) {
          reactor::log::error("request from ", transport().getPeer().toString(), " failed: ", e.what());
          n = r.pdu.empty() ? 0 : exceptionResponse(r.pdu[0], ExceptionCode::ServerDeviceFailure, response);
        }
        if (n > 0) framer_->commitFrame(output_, n);
        ++requests_;
        offset += r.consumed;
        break;
      }
    }
  }
  return offset;
}

void ModbusTcpProtocol::flushOutput() {
  if (output_.readableBytes() == 0) return;
  transport().write(output_.readable());
  output_.retrieveAll();
}

void ModbusTcpProtocol::connectionLost(const reactor::Failure& reason) {
  if (idleCheck_.active()) idleCheck_.cancel();
  if (server_) {
    server_->connectionClosed(this);
    if (reason.check(reactor::FailureType::ConnectionDone)) {
      reactor::log::info("client disconnected: ", transport().getPeer().toString());
    } else {
      reactor::log::info("client disconnected: ", transport().getPeer().toString(), " (",
                         reason.getErrorMessage(), ")");
    }
  }
}

void ModbusTcpProtocol::pauseProducing() { transport().pauseProducing(); }

void ModbusTcpProtocol::resumeProducing() { transport().resumeProducing(); }

}  // namespace modbus
