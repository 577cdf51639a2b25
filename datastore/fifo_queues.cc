// One device's FIFO queues: the application pushes and pops, FC 24 reads.
#include "datastore/fifo_queues.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace modbus {

void FifoQueues::addQueue(std::uint16_t address, std::vector<std::uint16_t> values) {
  queues_[address] = std::deque<std::uint16_t>(values.begin(), values.end());
}

bool FifoQueues::removeQueue(std::uint16_t address) { return queues_.erase(address) != 0; }

const std::deque<std::uint16_t>* FifoQueues::queue(std::uint16_t address) const {
  auto it = queues_.find(address);
  return it == queues_.end() ? nullptr : &it->second;
}

std::vector<std::uint16_t> FifoQueues::addresses() const {
  std::vector<std::uint16_t> out;
  for (const auto& entry : queues_) out.push_back(entry.first);
  return out;
}

std::deque<std::uint16_t>& FifoQueues::at(std::uint16_t address) {
  auto it = queues_.find(address);
  if (it == queues_.end()) {
    throw std::out_of_range("modbus::FifoQueues: no queue at address " + std::to_string(address));
  }
  return it->second;
}

void FifoQueues::push(std::uint16_t address, std::uint16_t value) { at(address).push_back(value); }

std::optional<std::uint16_t> FifoQueues::pop(std::uint16_t address) {
  std::deque<std::uint16_t>& q = at(address);
  if (q.empty()) return std::nullopt;
  const std::uint16_t value = q.front();
  q.pop_front();
  return value;
}

std::size_t FifoQueues::size(std::uint16_t address) const {
  const std::deque<std::uint16_t>* q = queue(address);
  return q == nullptr ? 0 : q->size();
}

void FifoQueues::clear(std::uint16_t address) {
  auto it = queues_.find(address);
  if (it != queues_.end()) it->second.clear();
}

}  // namespace modbus
