// UdpClient: MBAP over UDP with `depth` requests in flight, validated replies, and loss handling.
#include "bench/loadgen/udp_client.h"

#include "bench/loadgen/load_client.h"
#include "bench/loadgen/load_generator.h"

namespace bench {

UdpClient::UdpClient(LoadGenerator& generator, unsigned depth, std::size_t scheduleOffset, reactor::Address server)
    : gen_(generator), slots_(depth), scheduleIndex_(scheduleOffset), server_(std::move(server)) {
  lost_.reserve(depth);
}

void UdpClient::start() {
  port_ = gen_.reactor().listenUDP(0, std::static_pointer_cast<UdpClient>(shared_from_this()), server_.host);
}

void UdpClient::stop() {
  if (port_) port_->stopListening();
}

void UdpClient::fillSlots() {
  if (!hasTransport() || !gen_.refilling()) return;
  std::int64_t now = nowNanos();
  std::uint8_t* out = gen_.scratch();
  while (true) {
    std::uint32_t op = gen_.scheduledOp(scheduleIndex_);
    int index = slots_.issue(op, now);
    if (index < 0) break;
    ++scheduleIndex_;
    const RequestTemplate& request = gen_.requestTemplate(op);
    request.writeTo(out, slots_.slot(static_cast<std::size_t>(index)).transactionId);
    transport().write({out, request.size()}, server_);
  }
}

void UdpClient::expire(std::int64_t now, std::int64_t timeoutNanos) {
  lost_.clear();
  std::size_t n = slots_.expire(now, timeoutNanos, lost_);
  if (n == 0) return;
  gen_.datagramsLost(n);
  fillSlots();
}

void UdpClient::datagramReceived(reactor::ByteView datagram, const reactor::Address& addr) {
  std::int64_t now = nowNanos();
  if (addr.port != server_.port || addr.host != server_.host) {
    gen_.replyRejected(ReplyError::UnknownTransaction);
    return;
  }
  FrameSplit split = splitFrame(datagram);
  if (split.status != FrameSplit::Status::Complete || split.size != datagram.size()) {
    // One reply per datagram: a short, long or unreadable one is garbage.
    gen_.replyRejected(ReplyError::Garbage);
    return;
  }
  DatagramSlots::Outcome outcome = slots_.complete(transactionIdOf(datagram));
  switch (outcome.match) {
    case DatagramSlots::Match::Unknown: gen_.replyRejected(ReplyError::UnknownTransaction); return;
    case DatagramSlots::Match::Late: {
      // Its request was re-issued already; still, the reply must be a valid one.
      ReplyError error = checkReply(gen_.requestTemplate(outcome.op), datagram);
      if (error != ReplyError::None) gen_.replyRejected(error);
      gen_.lateReplyReceived();
      return;
    }
    case DatagramSlots::Match::Current: break;
  }
  const DatagramSlots::Slot& slot = slots_.slot(outcome.slot);
  ReplyError error = checkReply(gen_.requestTemplate(slot.op), datagram);
  if (error == ReplyError::None) {
    gen_.replyReceived(slot.sentNanos, now);
  } else {
    gen_.replyRejected(error);
  }
  fillSlots();
}

}  // namespace bench
