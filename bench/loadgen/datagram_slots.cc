// DatagramSlots: UDP request slots with loss and late-reply bookkeeping.
#include "bench/loadgen/datagram_slots.h"

#include <stdexcept>

namespace bench {

DatagramSlots::DatagramSlots(unsigned depth) {
  if (depth == 0 || depth > 1024) throw std::invalid_argument("DatagramSlots: depth must be 1..1024");
  slots_.resize(depth);
  while ((1u << slotBits_) < depth) ++slotBits_;
  free_.reserve(depth);
  for (unsigned i = depth; i-- > 0;) free_.push_back(static_cast<std::uint16_t>(i));
}

int DatagramSlots::issue(std::uint32_t op, std::int64_t now) {
  if (free_.empty()) return -1;
  std::uint16_t index = free_.back();
  free_.pop_back();
  Slot& s = slots_[index];
  const unsigned generationBits = 16 - slotBits_;
  s.generation = static_cast<std::uint16_t>((s.generation + 1u) & ((1u << generationBits) - 1u));
  s.transactionId = static_cast<std::uint16_t>((s.generation << slotBits_) | index);
  s.op = op;
  s.sentNanos = now;
  s.busy = true;
  return index;
}

DatagramSlots::Outcome DatagramSlots::complete(std::uint16_t transactionId) {
  std::uint16_t index = static_cast<std::uint16_t>(transactionId & ((1u << slotBits_) - 1u));
  if (index >= slots_.size()) return {Match::Unknown, 0, 0};
  Slot& s = slots_[index];
  if (s.busy && s.transactionId == transactionId) {
    s.busy = false;
    free_.push_back(index);
    return {Match::Current, index, s.op};
  }
  for (std::size_t i = 0; i < s.lostCount; ++i) {
    if (s.lostIds[i] == transactionId) {
      // Matches once: remove it (swap with the last valid entry).
      std::uint32_t op = s.lostOps[i];
      s.lostIds[i] = s.lostIds[s.lostCount - 1];
      s.lostOps[i] = s.lostOps[s.lostCount - 1];
      --s.lostCount;
      s.lostNext = s.lostCount;
      return {Match::Late, index, op};
    }
  }
  return {Match::Unknown, index, 0};
}

std::size_t DatagramSlots::expire(std::int64_t now, std::int64_t timeoutNanos, std::vector<std::uint16_t>& lost) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (!s.busy || now - s.sentNanos <= timeoutNanos) continue;
    s.busy = false;
    s.lostIds[s.lostNext] = s.transactionId;
    s.lostOps[s.lostNext] = s.op;
    s.lostNext = (s.lostNext + 1) % kRememberedLost;
    if (s.lostCount < kRememberedLost) ++s.lostCount;
    free_.push_back(static_cast<std::uint16_t>(i));
    lost.push_back(static_cast<std::uint16_t>(i));
    ++n;
  }
  return n;
}

}  // namespace bench
