// SimulatorCalls as the response hook sees it: counters per function code, exception and register,
// the monitor's filter and records, each simulation's plan, change rate and "clear after N".
#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <vector>

#include "protocols/simulator/simulator_calls.h"
#include "reactor/address.h"
#include "tests/datastore/simulator/simulator_test_support.h"

namespace {

using namespace modbus;
using Bytes = std::vector<std::uint8_t>;

struct Fixture {
  std::shared_ptr<simulator::testing::SequenceRandom> random;
  std::shared_ptr<SimulatorCalls> calls;
  explicit Fixture(std::vector<double> randoms = {0.5}) : random(std::make_shared<simulator::testing::SequenceRandom>(randoms)) {
    simulator::SimulatorLayout layout;  // shared blocks: every table on cells 0..99
    layout.holdingRegisters = 100;
    calls = std::make_shared<SimulatorCalls>(std::make_shared<simulator::SimulatorStore>(100), layout, std::nullopt, random);
  }
  /// Answers `request` with `answer` through the hook; returns the plan and leaves the answer in `out`.
  ResponsePlan run(const Bytes& request, const Bytes& answer, Bytes* out = nullptr) {
    std::array<std::uint8_t, 253> room{};
    std::copy(answer.begin(), answer.end(), room.begin());
    std::size_t length = answer.size();
    ResponsePlan plan = calls->onResponse(1, request, room, length);
    if (out) out->assign(room.begin(), room.begin() + static_cast<std::ptrdiff_t>(length));
    return plan;
  }
};

const Bytes kRead10x2 = {3, 0, 10, 0, 2};
const Bytes kAnswer = {3, 4, 0, 1, 0, 2};

}  // namespace

TEST_CASE("simulator calls: counts requests per function code, exceptions per code, reads and writes per register") {
  Fixture f;
  f.run(kRead10x2, kAnswer);
  f.run({6, 0, 11, 0, 5}, {6, 0, 11, 0, 5});
  f.run({3, 0, 99, 0, 5}, {0x83, 2});
  CHECK(f.calls->requestCount(3) == 2);
  CHECK(f.calls->requestCount(6) == 1);
  CHECK(f.calls->exceptionCount(2) == 1);
  CHECK(f.calls->totalRequests() == 3);
  CHECK(f.calls->readCount(10) == 1);
  CHECK(f.calls->readCount(11) == 1);
  CHECK(f.calls->readCount(12) == 0);
  CHECK(f.calls->writeCount(11) == 1);
  CHECK(f.calls->readCount(99) == 0);  // the failed read counts as an exception, not a read
}

TEST_CASE("simulator calls: the monitor records requests and answers in its range and function codes only") {
  Fixture f;
  f.run(kRead10x2, kAnswer);
  CHECK(f.calls->records().empty());  // off: nothing kept
  CallFilter filter;
  filter.rangeStart = 11;
  filter.rangeStop = 20;
  filter.functionCodes = {3};
  f.calls->startMonitor(filter);
  f.run(kRead10x2, kAnswer);          // 10-11 touches 11: kept
  f.run({3, 0, 30, 0, 1}, {3, 2, 0, 0});  // outside the range
  f.run({4, 0, 12, 0, 1}, {4, 2, 0, 0});  // another function code
  REQUIRE(f.calls->records().size() == 2);
  CHECK_FALSE(f.calls->records()[0].response);
  CHECK(f.calls->records()[0].address == 10);
  CHECK(f.calls->records()[0].count == 2);
  CHECK(f.calls->records()[1].response);
  CHECK(f.calls->records()[1].pdu == kAnswer);
  f.calls->stopMonitor();
  f.run(kRead10x2, kAnswer);
  CHECK(f.calls->records().size() == 2);
}

TEST_CASE("simulator calls: the monitor keeps the newest kMaxCallRecords records") {
  Fixture f;
  f.calls->startMonitor(CallFilter{});
  for (std::size_t i = 0; i < SimulatorCalls::kMaxCallRecords; ++i) f.run(kRead10x2, kAnswer);
  CHECK(f.calls->records().size() == SimulatorCalls::kMaxCallRecords);
}

TEST_CASE("simulator calls: Error answers the chosen exception code, 08 included") {
  Fixture f;
  CallSimulation sim;
  sim.response = SimulatedResponse::Error;
  sim.errorCode = 8;
  f.calls->simulate(sim);
  Bytes out;
  CHECK(f.run(kRead10x2, kAnswer, &out).kind == ResponsePlan::Kind::Send);
  CHECK(out == Bytes{0x83, 8});
  CHECK(f.calls->exceptionCount(8) == 1);
}

TEST_CASE("simulator calls: Empty is silence, Junk is N bytes from the random source") {
  Fixture f({0.0, 0.5, 0.999});
  CallSimulation sim;
  sim.response = SimulatedResponse::Empty;
  f.calls->simulate(sim);
  CHECK(f.run(kRead10x2, kAnswer).kind == ResponsePlan::Kind::Silence);
  sim.response = SimulatedResponse::Junk;
  sim.junkBytes = 3;
  f.calls->simulate(sim);
  const ResponsePlan plan = f.run(kRead10x2, kAnswer);
  CHECK(plan.kind == ResponsePlan::Kind::Junk);
  CHECK(plan.junkBytes == 3);
  std::array<std::uint8_t, 3> junk{};
  f.calls->fillJunk(junk);
  CHECK(junk == std::array<std::uint8_t, 3>{0, 128, 255});
}

TEST_CASE("simulator calls: Split and Delayed carry their delays") {
  Fixture f;
  CallSimulation sim;
  sim.split = true;
  sim.splitDelay = 0.25;
  f.calls->simulate(sim);
  ResponsePlan plan = f.run(kRead10x2, kAnswer);
  CHECK(plan.kind == ResponsePlan::Kind::Split);
  CHECK(plan.delay == 0.25);
  sim = CallSimulation{};
  sim.delay = 1.5;
  f.calls->simulate(sim);
  plan = f.run(kRead10x2, kAnswer);
  CHECK(plan.kind == ResponsePlan::Kind::Delay);
  CHECK(plan.delay == 1.5);
}

TEST_CASE("simulator calls: clear after N requests ends the simulation after the Nth") {
  Fixture f;
  CallSimulation sim;
  sim.response = SimulatedResponse::Empty;
  sim.clearAfter = 2;
  f.calls->simulate(sim);
  CHECK(f.run(kRead10x2, kAnswer).kind == ResponsePlan::Kind::Silence);
  CHECK(f.calls->simulation().has_value());
  CHECK(f.run(kRead10x2, kAnswer).kind == ResponsePlan::Kind::Silence);
  CHECK_FALSE(f.calls->simulation().has_value());
  CHECK(f.run(kRead10x2, kAnswer).kind == ResponsePlan::Kind::Send);
}

TEST_CASE("simulator calls: a change rate of p % simulates the requests whose draw is below p") {
  Fixture f({0.10, 0.90, 0.29, 0.31});
  CallSimulation sim;
  sim.response = SimulatedResponse::Empty;
  sim.changeRatePct = 30;
  f.calls->simulate(sim);
  CHECK(f.run(kRead10x2, kAnswer).kind == ResponsePlan::Kind::Silence);  // 10 < 30
  CHECK(f.run(kRead10x2, kAnswer).kind == ResponsePlan::Kind::Send);     // 90
  CHECK(f.run(kRead10x2, kAnswer).kind == ResponsePlan::Kind::Silence);  // 29
  CHECK(f.run(kRead10x2, kAnswer).kind == ResponsePlan::Kind::Send);     // 31
}

TEST_CASE("simulator calls: Reset ends the simulation") {
  Fixture f;
  CallSimulation sim;
  sim.response = SimulatedResponse::Empty;
  f.calls->simulate(sim);
  f.calls->reset();
  CHECK(f.run(kRead10x2, kAnswer).kind == ResponsePlan::Kind::Send);
}

TEST_CASE("simulator calls: connections are listed by peer while open") {
  Fixture f;
  reactor::Address a, b;
  a.type = b.type = reactor::Address::Type::TCP;
  a.host = b.host = "127.0.0.1";
  a.port = 4000;
  b.port = 4001;
  f.calls->connectionChanged(true, a);
  f.calls->connectionChanged(true, b);
  f.calls->connectionChanged(false, a);
  REQUIRE(f.calls->peers().size() == 1);
  CHECK(f.calls->peers()[0] == b.toString());
  CHECK(f.calls->connectionsSeen() == 2);
}

TEST_CASE("simulator calls: PDUs in hex and decoded") {
  CHECK(hexBytes(Bytes{3, 0, 10}) == "03 00 0a");
  CHECK(decodePdu(false, kRead10x2) == "read_holding_registers address=10 count=2");
  CHECK(decodePdu(true, kAnswer) == "read_holding_registers registers=[1, 2]");
  CHECK(decodePdu(true, Bytes{0x83, 8}) == "read_holding_registers exception MemoryParityError (08)");
  CHECK(functionCodeSnakeName(0x41) == "fc_41");
}

TEST_CASE("simulator calls: Error leaves a request the server would not answer unanswered") {
  Fixture f;
  CallSimulation sim;
  sim.response = SimulatedResponse::Error;
  f.calls->simulate(sim);
  Bytes out;
  f.run({6, 0, 11, 0, 5}, {}, &out);  // a broadcast write: no answer
  CHECK(out.empty());
}
