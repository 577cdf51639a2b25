// One device's FIFO queues for FC 24 (pymodbus answers a fixed [0, 1, 2, 3] for every address).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace modbus {

/// FIFO queues of 16-bit registers, each at a FIFO pointer address (Application Protocol v1.1b3
/// §6.18). The application pushes at the back and pops from the front; FC 24 reads the whole
/// queue, oldest first, without consuming it, and answers exception 03 when it holds more than
/// kMaxReadCount values. A queue may hold more (the application decides when to pop).
/// Reactor thread only.
class FifoQueues {
 public:
  static constexpr std::size_t kMaxReadCount = 31;

  /// Adds (or replaces) the queue at `address` with `values` (oldest first).
  void addQueue(std::uint16_t address, std::vector<std::uint16_t> values = {});
  /// Removes the queue; returns false when there was none.
  bool removeQueue(std::uint16_t address);
  bool hasQueue(std::uint16_t address) const { return queues_.count(address) != 0; }
  /// The queue at `address`, oldest first, or nullptr when there is none. Never allocates.
  const std::deque<std::uint16_t>* queue(std::uint16_t address) const;
  /// The addresses with a queue, ascending.
  std::vector<std::uint16_t> addresses() const;

  /// Appends `value` (the newest). Throws std::out_of_range when there is no queue at `address`.
  void push(std::uint16_t address, std::uint16_t value);
  /// Removes and returns the oldest value, or nullopt when the queue is empty. Throws
  /// std::out_of_range when there is no queue at `address`.
  std::optional<std::uint16_t> pop(std::uint16_t address);
  /// Number of values in the queue (0 when absent).
  std::size_t size(std::uint16_t address) const;
  /// Empties the queue (no-op when absent).
  void clear(std::uint16_t address);

 private:
  std::deque<std::uint16_t>& at(std::uint16_t address);

  std::map<std::uint16_t, std::deque<std::uint16_t>> queues_;
};

}  // namespace modbus
