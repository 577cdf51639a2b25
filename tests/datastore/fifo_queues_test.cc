// Tests for datastore/fifo_queues.h: the FIFO queues FC 24 reads.
#include "datastore/fifo_queues.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <stdexcept>
#include <vector>

namespace modbus {
namespace {

TEST_CASE("a FIFO queue is pushed at the back and popped from the front") {
  FifoQueues q;
  q.addQueue(0x04DE, {1, 2});
  q.push(0x04DE, 3);
  CHECK(q.size(0x04DE) == 3);
  CHECK(q.pop(0x04DE) == 1);
  CHECK(q.pop(0x04DE) == 2);
  CHECK(q.pop(0x04DE) == 3);
  CHECK_FALSE(q.pop(0x04DE).has_value());
  CHECK(q.hasQueue(0x04DE));
}

TEST_CASE("pushing or popping where there is no queue throws") {
  FifoQueues q;
  CHECK_THROWS_AS(q.push(1, 5), std::out_of_range);
  CHECK_THROWS_AS(q.pop(1), std::out_of_range);
  CHECK(q.queue(1) == nullptr);
  CHECK(q.size(1) == 0);
}

TEST_CASE("a FIFO queue may hold more than FC 24 can read, clear empties it, removeQueue removes it") {
  FifoQueues q;
  q.addQueue(10);
  for (std::uint16_t i = 0; i < 40; ++i) q.push(10, i);
  CHECK(q.size(10) == 40);
  REQUIRE(q.queue(10) != nullptr);
  CHECK(q.queue(10)->front() == 0);
  q.clear(10);
  CHECK(q.size(10) == 0);
  q.addQueue(3, {7});
  CHECK(q.addresses() == std::vector<std::uint16_t>{3, 10});
  CHECK(q.removeQueue(10));
  CHECK_FALSE(q.removeQueue(10));
  CHECK(q.addresses() == std::vector<std::uint16_t>{3});
}

TEST_CASE("adding a queue at an address replaces the old one") {
  FifoQueues q;
  q.addQueue(5, {1, 2, 3});
  q.addQueue(5, {9});
  CHECK(*q.queue(5) == std::deque<std::uint16_t>{9});
}

}  // namespace
}  // namespace modbus
