// Tests for bench/loadgen/datagram_slots: UDP request slots, loss and late replies.
#include "bench/loadgen/datagram_slots.h"

#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <vector>

using bench::DatagramSlots;
using Match = bench::DatagramSlots::Match;

TEST_CASE("depth slots are issued once each, with distinct transaction ids") {
  DatagramSlots s(4);
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 4; ++i) {
    int index = s.issue(7, 100);
    REQUIRE(index >= 0);
    ids.insert(s.slot(static_cast<std::size_t>(index)).transactionId);
  }
  CHECK(ids.size() == 4);
  CHECK(s.issue(7, 100) == -1);
  CHECK(s.busyCount() == 4);
  CHECK_THROWS_AS(DatagramSlots(0), std::invalid_argument);
  CHECK_THROWS_AS(DatagramSlots(1025), std::invalid_argument);
}

TEST_CASE("a reply frees its slot, the same id again is unknown") {
  DatagramSlots s(2);
  int a = s.issue(3, 0);
  std::uint16_t id = s.slot(static_cast<std::size_t>(a)).transactionId;
  auto out = s.complete(id);
  CHECK(out.match == Match::Current);
  CHECK(out.slot == a);
  CHECK(out.op == 3);
  CHECK(s.busyCount() == 0);
  CHECK(s.complete(id).match == Match::Unknown);            // duplicated datagram
  CHECK(s.complete(static_cast<std::uint16_t>(id + 2)).match == Match::Unknown);  // invented id
}

TEST_CASE("a request past the timeout is lost, re-issued under a new id, and its late reply counted once") {
  DatagramSlots s(1);
  int a = s.issue(5, 1'000);
  std::uint16_t first = s.slot(0).transactionId;
  std::vector<std::uint16_t> lost;
  CHECK(s.expire(1'000 + 200, 500, lost) == 0);  // not yet
  CHECK(s.expire(1'000 + 501, 500, lost) == 1);
  REQUIRE(lost.size() == 1);
  CHECK(lost[0] == a);
  CHECK(s.busyCount() == 0);

  int again = s.issue(6, 2'000);
  CHECK(again == a);
  std::uint16_t second = s.slot(0).transactionId;
  CHECK(second != first);

  auto late = s.complete(first);
  CHECK(late.match == Match::Late);
  CHECK(late.op == 5);  // checked against the request it answers, not the re-issued one
  CHECK(s.busyCount() == 1);  // the re-issued request is still outstanding
  CHECK(s.complete(first).match == Match::Unknown);  // a late reply matches once
  CHECK(s.complete(second).match == Match::Current);
}

TEST_CASE("each slot remembers its last few lost ids") {
  DatagramSlots s(1);
  std::vector<std::uint16_t> ids;
  std::vector<std::uint16_t> lost;
  std::int64_t t = 0;
  for (std::size_t i = 0; i < DatagramSlots::kRememberedLost + 1; ++i) {
    s.issue(0, t);
    ids.push_back(s.slot(0).transactionId);
    t += 1000;
    s.expire(t, 10, lost);
  }
  CHECK(lost.size() == DatagramSlots::kRememberedLost + 1);
  CHECK(s.complete(ids[0]).match == Match::Unknown);  // the oldest was forgotten
  for (std::size_t i = 1; i < ids.size(); ++i) CHECK(s.complete(ids[i]).match == Match::Late);
}

TEST_CASE("generations wrap without reusing an outstanding id") {
  DatagramSlots s(1024);  // 10 slot bits, 6 generation bits
  int a = s.issue(0, 0);
  std::uint16_t firstId = s.slot(static_cast<std::size_t>(a)).transactionId;
  s.complete(firstId);
  std::set<std::uint16_t> seen{firstId};
  for (int i = 0; i < 63; ++i) {
    int b = s.issue(0, 0);
    REQUIRE(b == a);  // the freed slot is the one reused
    seen.insert(s.slot(static_cast<std::size_t>(b)).transactionId);
    s.complete(s.slot(static_cast<std::size_t>(b)).transactionId);
  }
  CHECK(seen.size() == 64);  // every generation of the slot, then it wraps
}
