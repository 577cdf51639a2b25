// Tests for bench/loadgen/request_mix: --mix parsing and the weighted round-robin order.
#include "bench/loadgen/request_mix.h"

#include <doctest/doctest.h>

#include <algorithm>

using bench::MixError;
using bench::parseMix;
using bench::RequestSpec;

TEST_CASE("mix parses function, quantity, address and weight") {
  auto mix = parseMix("3:10,16:10*2,1:100@500", 7);
  REQUIRE(mix.size() == 3);
  CHECK(mix[0] == RequestSpec{3, 10, 7, 1});
  CHECK(mix[1] == RequestSpec{16, 10, 7, 2});
  CHECK(mix[2] == RequestSpec{1, 100, 500, 1});
}

TEST_CASE("mix accepts every supported function code at its limits") {
  auto mix = parseMix("1:2000,2:1,3:125,4:1,5:1,6:1,15:1968,16:123");
  CHECK(mix.size() == 8);
  CHECK(mix[6].quantity == 1968);
}

TEST_CASE("mix rejects bad items") {
  CHECK_THROWS_AS(parseMix(""), MixError);
  CHECK_THROWS_AS(parseMix("3"), MixError);
  CHECK_THROWS_AS(parseMix("3:"), MixError);
  CHECK_THROWS_AS(parseMix("3:0"), MixError);
  CHECK_THROWS_AS(parseMix("3:126"), MixError);
  CHECK_THROWS_AS(parseMix("16:124"), MixError);
  CHECK_THROWS_AS(parseMix("6:2"), MixError);
  CHECK_THROWS_AS(parseMix("8:1"), MixError);
  CHECK_THROWS_AS(parseMix("3:10,"), MixError);
  CHECK_THROWS_AS(parseMix("3:10*0"), MixError);
  CHECK_THROWS_AS(parseMix("3:10@65530"), MixError);
  CHECK_THROWS_AS(parseMix("3:x"), MixError);
  CHECK_NOTHROW(parseMix("3:10@65526"));
}

TEST_CASE("weighted schedule repeats each entry weight times, spread out") {
  auto order = bench::weightedSchedule(parseMix("3:10*3,16:10"));
  CHECK(order == std::vector<std::size_t>{0, 0, 1, 0});
  auto even = bench::weightedSchedule(parseMix("3:10,4:10,1:8"));
  CHECK(even == std::vector<std::size_t>{0, 1, 2});
  auto big = bench::weightedSchedule(parseMix("3:10*5,4:10*5"));
  CHECK(std::count(big.begin(), big.end(), 0u) == 5);
  for (std::size_t i = 1; i < big.size(); ++i) CHECK(big[i] != big[i - 1]);
}
