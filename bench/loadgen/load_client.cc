// PipelinedClient and SlowClient: the load generator's two kinds of connection.
#include "bench/loadgen/load_client.h"

#include <chrono>

#include "bench/loadgen/load_generator.h"

namespace bench {

std::int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

void setNoDelay(reactor::ITransport& transport) {
  if (auto* tcp = dynamic_cast<reactor::ITCPTransport*>(&transport)) tcp->setTcpNoDelay(true);
}

}  // namespace

// --- PipelinedClient ----------------------------------------------------------------------------

PipelinedClient::PipelinedClient(LoadGenerator& generator, unsigned depth, std::size_t scheduleOffset)
    : gen_(generator), slots_(depth), scheduleIndex_(scheduleOffset) {
  while ((1u << slotBits_) < depth) ++slotBits_;
  freeSlots_.reserve(depth);
  for (unsigned i = depth; i-- > 0;) freeSlots_.push_back(static_cast<std::uint16_t>(i));
}

void PipelinedClient::connectionMade() {
  setNoDelay(transport());
  gen_.clientConnected(std::static_pointer_cast<PipelinedClient>(shared_from_this()));
}

std::size_t PipelinedClient::queueRequest(std::uint8_t* out, std::int64_t now) {
  if (freeSlots_.empty()) return 0;
  std::uint16_t index = freeSlots_.back();
  freeSlots_.pop_back();
  Slot& slot = slots_[index];
  const unsigned generationBits = 16 - slotBits_;
  slot.generation = static_cast<std::uint16_t>((slot.generation + 1u) & ((1u << generationBits) - 1u));
  slot.transactionId = static_cast<std::uint16_t>((slot.generation << slotBits_) | index);
  slot.op = gen_.scheduledOp(scheduleIndex_++);
  slot.sentNanos = now;
  slot.busy = true;
  const RequestTemplate& request = gen_.requestTemplate(slot.op);
  request.writeTo(out, slot.transactionId);
  return request.size();
}

void PipelinedClient::fillSlots() {
  if (!connected() || transport().disconnecting()) return;
  std::int64_t now = nowNanos();
  std::uint8_t* out = gen_.scratch();
  std::size_t n = 0;
  while (std::size_t k = queueRequest(out + n, now)) n += k;
  if (n > 0) transport().write({out, n});
}

bool PipelinedClient::sendOne() {
  if (!connected() || transport().disconnecting()) return false;
  std::uint8_t* out = gen_.scratch();
  std::size_t n = queueRequest(out, nowNanos());
  if (n == 0) return false;
  transport().write({out, n});
  return true;
}

void PipelinedClient::handleFrame(std::span<const std::uint8_t> adu, std::int64_t now, bool& refill) {
  ++replies_;
  std::uint16_t id = transactionIdOf(adu);
  std::uint16_t index = static_cast<std::uint16_t>(id & ((1u << slotBits_) - 1u));
  if (index >= slots_.size() || !slots_[index].busy || slots_[index].transactionId != id) {
    gen_.replyRejected(ReplyError::UnknownTransaction);
    return;
  }
  Slot& slot = slots_[index];
  ReplyError error = checkReply(gen_.requestTemplate(slot.op), adu);
  slot.busy = false;
  freeSlots_.push_back(index);
  refill = true;
  if (error == ReplyError::None) {
    gen_.replyReceived(slot.sentNanos, now);
  } else {
    gen_.replyRejected(error);
  }
  if (gen_.options().mode == LoadMode::Reconnect && !closedByUs_) {
    closedByUs_ = true;
    refill = false;
    transport().loseConnection();
  }
}

void PipelinedClient::dataReceived(reactor::ByteView data) {
  std::int64_t now = nowNanos();
  std::span<const std::uint8_t> view = data;
  const bool buffered = !pending_.empty();
  if (buffered) {
    pending_.insert(pending_.end(), data.begin(), data.end());
    view = pending_;
  }
  std::size_t offset = 0;
  bool refill = false;
  while (true) {
    FrameSplit split = splitFrame(view.subspan(offset));
    if (split.status == FrameSplit::Status::NeedMore) break;
    if (split.status == FrameSplit::Status::Garbage) {
      gen_.replyRejected(ReplyError::Garbage);
      pending_.clear();
      transport().abortConnection();
      return;
    }
    handleFrame(view.subspan(offset, split.size), now, refill);
    offset += split.size;
  }
  if (buffered) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(offset));
  } else if (offset < view.size()) {
    pending_.assign(view.begin() + static_cast<std::ptrdiff_t>(offset), view.end());
  }
  if (!refill || !gen_.refilling() || closedByUs_ || transport().disconnecting()) return;
  // One write for every request this read freed a slot for.
  std::uint8_t* out = gen_.scratch();
  std::size_t n = 0;
  while (std::size_t k = queueRequest(out + n, now)) n += k;
  if (n > 0) transport().write({out, n});
}

void PipelinedClient::connectionLost(const reactor::Failure& reason) {
  (void)reason;
  gen_.connectionLost(closedByUs_);
}

// --- SlowClient ---------------------------------------------------------------------------------

SlowClient::SlowClient(LoadGenerator& generator, double interval) : gen_(generator), interval_(interval) {}

void SlowClient::connectionMade() {
  setNoDelay(transport());
  gen_.slowClientConnected();
  beginRequest();
}

void SlowClient::beginRequest() {
  if (!connected() || transport().disconnecting() || !gen_.refilling()) return;
  const RequestTemplate& request = gen_.requestTemplate(op_);
  ++transactionId_;
  request_.resize(request.size());
  request.writeTo(request_.data(), transactionId_);
  sent_ = 0;
  loop_.emplace(gen_.reactor(), [this] { sendNextByte(); });
  loop_->start(interval_, true);
}

void SlowClient::sendNextByte() {
  if (!connected() || sent_ >= request_.size()) {
    loop_->stop();
    return;
  }
  transport().write({request_.data() + sent_, 1});
  ++sent_;
  if (sent_ == request_.size()) loop_->stop();
}

void SlowClient::dataReceived(reactor::ByteView data) {
  pending_.insert(pending_.end(), data.begin(), data.end());
  std::size_t offset = 0;
  bool answered = false;
  while (true) {
    FrameSplit split = splitFrame(std::span<const std::uint8_t>(pending_).subspan(offset));
    if (split.status == FrameSplit::Status::NeedMore) break;
    if (split.status == FrameSplit::Status::Garbage) {
      gen_.replyRejected(ReplyError::Garbage);
      pending_.clear();
      transport().abortConnection();
      return;
    }
    auto adu = std::span<const std::uint8_t>(pending_).subspan(offset, split.size);
    offset += split.size;
    if (answered || sent_ != request_.size() || transactionIdOf(adu) != transactionId_) {
      gen_.replyRejected(ReplyError::UnknownTransaction);
      continue;
    }
    answered = true;
    ReplyError error = checkReply(gen_.requestTemplate(op_), adu);
    if (error == ReplyError::None) {
      gen_.slowReplyReceived();
    } else {
      gen_.replyRejected(error);
    }
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(offset));
  if (answered) {
    op_ = gen_.scheduledOp(static_cast<std::size_t>(transactionId_));
    beginRequest();
  }
}

void SlowClient::connectionLost(const reactor::Failure& reason) {
  (void)reason;
  if (loop_ && loop_->running()) loop_->stop();
  gen_.connectionLost();
}

}  // namespace bench
