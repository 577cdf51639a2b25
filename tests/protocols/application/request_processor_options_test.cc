// RequestProcessor options of issue 3: broadcast_enable and the missing-unit answer; broadcast per
// function code on both paths (process with broadcastEnable, processBroadcast) of issue 8; the refusal
// of state-changing diagnostics of issue 13.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/application/request_processor.h"

namespace {

using namespace modbus;
using Bytes = std::vector<std::uint8_t>;

std::shared_ptr<DeviceContext> device() {
  return std::make_shared<DeviceContext>(DeviceTables{.coils = SequentialDataBlock<bool>::create(0, 10),
                                                      .holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 10)});
}

Bytes run(RequestProcessor& p, std::uint8_t unit, const Bytes& request) {
  std::array<std::uint8_t, 253> response{};
  std::size_t n = p.process(unit, request, response);
  return Bytes(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace

TEST_CASE("with broadcastEnable a unit 0 write runs on every device and gets no answer") {
  auto d1 = device();
  auto d2 = device();
  RequestProcessor p(ServerContext::multiple({{1, d1}, {2, d2}}), ProcessorOptions{.broadcastEnable = true});
  int observed = 0;
  p.writeObservers().subscribe(std::nullopt, ModbusTable::HoldingRegisters, {0, 9},
                               [&](const WriteEvent&) { ++observed; });
  CHECK(run(p, 0, {0x06, 0, 3, 0x12, 0x34}).empty());
  CHECK(d1->holdingRegisters()->getValues(3, 1) == std::vector<std::uint16_t>{0x1234});
  CHECK(d2->holdingRegisters()->getValues(3, 1) == std::vector<std::uint16_t>{0x1234});
  CHECK(observed == 2);
  CHECK(run(p, 0, {0x0F, 0, 0, 0, 2, 1, 3}).empty());
  CHECK(d2->coils()->getValues(0, 2) == std::vector<bool>{true, true});
}

TEST_CASE("with broadcastEnable a unit 0 read is ignored") {
  RequestProcessor p(ServerContext::multiple({{1, device()}}), ProcessorOptions{.broadcastEnable = true});
  CHECK(run(p, 0, {0x03, 0, 0, 0, 1}).empty());
}

TEST_CASE("a device shared by several unit ids is written once by a broadcast") {
  auto d = device();
  RequestProcessor p(ServerContext::multiple({{1, d}, {2, d}}), ProcessorOptions{.broadcastEnable = true});
  // FC22 applied twice would differ: AND 0, OR +1 bits on a changing value stays equal, so count writes.
  int writes = 0;
  p.writeObservers().subscribe(std::nullopt, ModbusTable::HoldingRegisters, {0, 9}, [&](const WriteEvent&) { ++writes; });
  run(p, 0, {0x06, 0, 0, 0, 9});
  CHECK(writes == 1);
}

TEST_CASE("without broadcastEnable unit 0 is an ordinary unit id") {
  RequestProcessor single(ServerContext::single(device()));
  CHECK(run(single, 0, {0x03, 0, 0, 0, 1}) == Bytes{0x03, 2, 0, 0});
  RequestProcessor multiple(ServerContext::multiple({{1, device()}}));
  CHECK(run(multiple, 0, {0x03, 0, 0, 0, 1}) == Bytes{0x83, 0x0B});
}

TEST_CASE("a missing unit is answered 0x0B, 0x0A or nothing as missingUnit says, and ignoreMissingSlaves wins") {
  auto context = ServerContext::multiple({{1, device()}});
  RequestProcessor b(context);
  CHECK(run(b, 9, {0x03, 0, 0, 0, 1}) == Bytes{0x83, 0x0B});
  RequestProcessor a(context, ProcessorOptions{.missingUnit = MissingUnit::Exception0A});
  CHECK(run(a, 9, {0x03, 0, 0, 0, 1}) == Bytes{0x83, 0x0A});
  RequestProcessor silent(context, ProcessorOptions{.missingUnit = MissingUnit::Silent});
  CHECK(run(silent, 9, {0x03, 0, 0, 0, 1}).empty());
  RequestProcessor alias(context, ProcessorOptions{.ignoreMissingSlaves = true, .missingUnit = MissingUnit::Exception0A});
  CHECK(run(alias, 9, {0x03, 0, 0, 0, 1}).empty());
}

TEST_CASE("missing_unit names parse as the configuration spells them") {
  CHECK(missingUnitFromName("silent") == MissingUnit::Silent);
  CHECK(missingUnitFromName("exception_0A") == MissingUnit::Exception0A);
  CHECK(missingUnitFromName("exception_0B") == MissingUnit::Exception0B);
  CHECK_FALSE(missingUnitFromName("0x0B").has_value());
}

TEST_CASE("process() answers an asynchronous unit 0x0A: that transport cannot wait for it") {
  struct Never final : AsyncDevice {
    void submit(std::uint8_t, std::span<const std::uint8_t>, Completion) override {}
  };
  RequestProcessor p(ServerContext::multiple({{1, device()}}));
  p.setAsyncDevice(5, std::make_shared<Never>());
  CHECK(p.asyncDeviceFor(5) != nullptr);
  CHECK(p.asyncDeviceFor(1) == nullptr);
  CHECK(run(p, 5, {0x03, 0, 0, 0, 1}) == Bytes{0x83, 0x0A});
  p.setAsyncDevice(5, nullptr);
  CHECK(p.asyncDeviceFor(5) == nullptr);
}

// --- broadcast per function code (issue 8): the serial-line guide's rule on every transport ---

namespace {

// The codes a broadcast runs, written out here rather than read from the table under test: the
// writing commands of the serial-line guide (see framers/function_codes.cc for the reasoning).
bool expectedBroadcastable(std::uint8_t fc) {
  return fc == 5 || fc == 6 || fc == 15 || fc == 16 || fc == 21 || fc == 22 || fc == 23;
}

std::vector<std::uint8_t> codesUnderTest() {
  std::vector<std::uint8_t> codes;
  for (std::uint8_t fc = 1; fc <= 24; ++fc) codes.push_back(fc);
  codes.push_back(43);
  return codes;
}

// Replaces the handler of every code under test with one that counts its runs and answers.
void countEveryCode(RequestProcessor& p, std::map<std::uint8_t, int>& runs) {
  for (std::uint8_t fc : codesUnderTest()) {
    p.registerFunction(fc, [&runs, fc](DeviceContext&, std::span<const std::uint8_t> q, std::span<std::uint8_t> r) {
      ++runs[fc];
      r[0] = q[0];
      return std::size_t{1};
    });
  }
}

// A custom function code 0x41 that counts its runs and says whether it may be broadcast.
class CountingCustom final : public CustomFunction {
 public:
  CountingCustom(std::uint8_t code, bool broadcastable, int& runs) : code_(code), broadcastable_(broadcastable), runs_(runs) {}
  std::uint8_t functionCode() const override { return code_; }
  bool broadcastable() const override { return broadcastable_; }
  ExceptionCode decode(std::span<const std::uint8_t>) override { return ExceptionCode::None; }
  ExceptionCode execute(DeviceContext&) override {
    ++runs_;
    return ExceptionCode::None;
  }
  std::size_t encode(std::span<std::uint8_t>) override { return 0; }

 private:
  std::uint8_t code_;
  bool broadcastable_;
  int& runs_;
};

}  // namespace

TEST_CASE("with broadcastEnable a unit 0 request of FC 1..24 and 43 runs only for the writing commands, unanswered") {
  RequestProcessor p(ServerContext::multiple({{1, device()}, {2, device()}}), ProcessorOptions{.broadcastEnable = true});
  std::map<std::uint8_t, int> runs;
  countEveryCode(p, runs);
  for (std::uint8_t fc : codesUnderTest()) {
    CAPTURE(static_cast<int>(fc));
    CHECK(run(p, 0, {fc, 0, 0, 0, 1}).empty());            // never answered
    CHECK(runs[fc] == (expectedBroadcastable(fc) ? 2 : 0));  // on both devices, or not at all
    CHECK(p.broadcastable(Bytes{fc}) == expectedBroadcastable(fc));
  }
}

TEST_CASE("processBroadcast runs FC 1..24 and 43 only for the writing commands and says whether it ran") {
  auto d = device();
  RequestProcessor p(ServerContext::multiple({{1, d}}));
  std::map<std::uint8_t, int> runs;
  countEveryCode(p, runs);
  std::uint16_t noResponse = 0;
  for (std::uint8_t fc : codesUnderTest()) {
    CAPTURE(static_cast<int>(fc));
    const bool expected = expectedBroadcastable(fc);
    CHECK(p.processBroadcast(1, Bytes{fc, 0, 0, 0, 1}) == expected);
    CHECK(runs[fc] == (expected ? 1 : 0));
    if (expected) ++noResponse;  // executed and counted as not answered; refused: not even counted
    CHECK(d->control().counter(DiagnosticCounter::ServerNoResponse) == noResponse);
  }
  CHECK_FALSE(p.processBroadcast(9, Bytes{0x06, 0, 0, 0, 1}));  // no device
  CHECK_FALSE(p.processBroadcast(1, Bytes{}));                   // no function code
}

TEST_CASE("a custom function code is broadcast only when its CustomFunction says it may be") {
  RequestProcessor p(ServerContext::multiple({{1, device()}, {2, device()}}), ProcessorOptions{.broadcastEnable = true});
  int quietRuns = 0;
  int broadcastRuns = 0;
  p.registerCustomFunction(std::make_shared<CountingCustom>(0x41, false, quietRuns));
  p.registerCustomFunction(std::make_shared<CountingCustom>(0x42, true, broadcastRuns));
  CHECK(run(p, 0, {0x41, 1}).empty());
  CHECK_FALSE(p.processBroadcast(1, Bytes{0x41, 1}));
  CHECK(quietRuns == 0);
  CHECK(run(p, 0, {0x42, 1}).empty());
  CHECK(p.processBroadcast(1, Bytes{0x42, 1}));
  CHECK(broadcastRuns == 3);  // both devices, then unit 1
  // A custom class that replaces a built-in write decides for it too (default: not broadcast).
  int replacedRuns = 0;
  p.registerCustomFunction(std::make_shared<CountingCustom>(0x06, false, replacedRuns));
  CHECK_FALSE(p.processBroadcast(1, Bytes{0x06, 0, 0, 0, 1}));
  CHECK(replacedRuns == 0);
}

TEST_CASE("a broadcast of FC 8 force-listen-only is not executed: diagnostics are not writing commands") {
  auto d = device();
  RequestProcessor p(ServerContext::multiple({{1, d}}), ProcessorOptions{.broadcastEnable = true});
  CHECK(run(p, 0, {0x08, 0x00, 0x04, 0x00, 0x00}).empty());
  CHECK_FALSE(p.processBroadcast(1, Bytes{0x08, 0x00, 0x04, 0x00, 0x00}));
  CHECK_FALSE(d->control().listenOnly());
  CHECK(run(p, 1, {0x03, 0, 0, 0, 1}) == Bytes{0x03, 2, 0, 0});
}

TEST_CASE("without stateChangingDiagnostics FC 8/01, 03, 04, 0A and 14 are exception 01 and change nothing") {
  auto d = device();
  RequestProcessor p(ServerContext::multiple({{1, d}}), ProcessorOptions{.stateChangingDiagnostics = false});
  for (std::uint8_t sub : {0x01, 0x04, 0x0A, 0x14}) {
    CHECK(run(p, 1, {0x08, 0x00, sub, 0x00, 0x00}) == Bytes{0x88, 0x01});
  }
  CHECK(run(p, 1, {0x08, 0x00, 0x03, '!', 0x00}) == Bytes{0x88, 0x01});
  CHECK_FALSE(d->control().listenOnly());
  CHECK(d->control().asciiDelimiter() == '\n');
  // Reads and the echo still answer; the refused requests were counted as bus messages.
  CHECK(run(p, 1, {0x08, 0x00, 0x00, 0xA5, 0x37}) == Bytes{0x08, 0x00, 0x00, 0xA5, 0x37});
  CHECK(run(p, 1, {0x08, 0x00, 0x0B, 0x00, 0x00}) == Bytes{0x08, 0x00, 0x0B, 0x00, 0x07});
  CHECK(run(p, 1, {0x03, 0x00, 0x00, 0x00, 0x01}) == Bytes{0x03, 0x02, 0x00, 0x00});
}

TEST_CASE("by default FC 8/04 still puts the device in listen-only mode (the spec's behaviour)") {
  auto d = device();
  RequestProcessor p(ServerContext::multiple({{1, d}}));
  CHECK(run(p, 1, {0x08, 0x00, 0x04, 0x00, 0x00}).empty());
  CHECK(d->control().listenOnly());
}
