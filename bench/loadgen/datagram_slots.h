// DatagramSlots: the request slots of one UDP client, with the loss bookkeeping UDP needs. A
// request unanswered after a timeout is declared lost, its slot is freed (the caller re-issues it
// under a new transaction id), and its id is remembered for a while, so that a reply arriving after
// the timeout is counted as late, not as invalid. Pure: no I/O, times are given by the caller.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bench {

class DatagramSlots {
 public:
  /// How many lost ids each slot remembers (a late reply to an older one is Unknown).
  static constexpr std::size_t kRememberedLost = 4;

  struct Slot {
    std::int64_t sentNanos = 0;
    std::uint32_t op = 0;  ///< the caller's request kind
    std::uint16_t transactionId = 0;
    std::uint16_t generation = 0;
    bool busy = false;
    std::array<std::uint16_t, kRememberedLost> lostIds{};
    std::array<std::uint32_t, kRememberedLost> lostOps{};
    std::size_t lostCount = 0;  ///< valid entries of lostIds (ring; the newest overwrites the oldest)
    std::size_t lostNext = 0;
  };

  enum class Match {
    Current,  ///< answers the slot's outstanding request: the slot is free again
    Late,     ///< answers a request already declared lost (each such id matches once)
    Unknown,  ///< no request had this id, or it was answered already
  };
  struct Outcome {
    Match match = Match::Unknown;
    std::uint16_t slot = 0;
    std::uint32_t op = 0;  ///< the kind of the request answered (Current or Late)
  };

  /// `depth` slots, 1..1024. Throws std::invalid_argument otherwise.
  explicit DatagramSlots(unsigned depth);

  /// Takes a free slot for a request of kind `op` sent at `now`, gives it the next generation and
  /// returns its index; -1 when every slot is busy.
  int issue(std::uint32_t op, std::int64_t now);
  /// Matches a reply's transaction id.
  Outcome complete(std::uint16_t transactionId);
  /// Declares lost every busy slot sent more than `timeoutNanos` before `now`, frees them and
  /// appends their indexes to `lost`. Returns how many.
  std::size_t expire(std::int64_t now, std::int64_t timeoutNanos, std::vector<std::uint16_t>& lost);

  const Slot& slot(std::size_t index) const { return slots_[index]; }
  std::size_t depth() const { return slots_.size(); }
  std::size_t busyCount() const { return slots_.size() - free_.size(); }

 private:
  std::vector<Slot> slots_;
  std::vector<std::uint16_t> free_;
  unsigned slotBits_ = 0;
};

}  // namespace bench
