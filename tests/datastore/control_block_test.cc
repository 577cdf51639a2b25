// Tests for datastore/control_block.h: counters, event counter, the 64-event log, the diagnostic
// register, listen-only mode, restart and the FC 17 server id limits of one device.
#include "datastore/control_block.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST_CASE("a new control block has zero counters, an empty log, LF as delimiter and server id 00 running") {
  ControlBlock c;
  for (std::size_t i = 0; i < ControlBlock::kCounterCount; ++i) {
    CHECK(c.counter(static_cast<DiagnosticCounter>(i)) == 0);
  }
  CHECK(c.eventCounter() == 0);
  CHECK(c.eventCount() == 0);
  CHECK(c.events().empty());
  CHECK(c.diagnosticRegister() == 0);
  CHECK_FALSE(c.listenOnly());
  CHECK(c.asciiDelimiter() == '\n');
  CHECK(c.statusWord() == 0x0000);
  CHECK(c.serverId() == Bytes{0x00});
  CHECK(c.runIndicator());
  CHECK(c.additionalData().empty());
}

TEST_CASE("control block counters are 16 bits and wrap from 65535 to 0") {
  ControlBlock c;
  for (int i = 0; i < 65535; ++i) c.countBusMessage();
  CHECK(c.counter(DiagnosticCounter::BusMessage) == 65535);
  c.countBusMessage();
  CHECK(c.counter(DiagnosticCounter::BusMessage) == 0);
  CHECK(c.counter(DiagnosticCounter::ServerMessage) == 0);
}

TEST_CASE("control block event log keeps the newest 64 events, newest first") {
  ControlBlock c;
  for (int i = 0; i < 70; ++i) c.addEvent(static_cast<std::uint8_t>(i));
  REQUIRE(c.eventCount() == 64);
  const Bytes events = c.events();
  REQUIRE(events.size() == 64);
  CHECK(events.front() == 69);
  CHECK(events.back() == 6);
  CHECK(c.event(0) == 69);
  CHECK(c.event(63) == 6);
  CHECK_THROWS_AS(c.event(64), std::out_of_range);
  std::array<std::uint8_t, 3> three{};
  CHECK(c.copyEvents(three) == 3);
  CHECK(three == std::array<std::uint8_t, 3>{69, 68, 67});
  c.clearEvents();
  CHECK(c.eventCount() == 0);
}

TEST_CASE("a bus communication error and a character overrun count and log a receive event") {
  ControlBlock c;
  c.countBusCommunicationError();
  c.countBusCharacterOverrun();
  CHECK(c.counter(DiagnosticCounter::BusCommunicationError) == 1);
  CHECK(c.counter(DiagnosticCounter::BusCharacterOverrun) == 1);
  CHECK(c.events() == Bytes{0x90, 0x82});
  c.setListenOnly(true);
  c.countBusCommunicationError();
  CHECK(c.event(0) == 0xA2);  // the listen-only flag is part of the receive event
}

TEST_CASE("clearing counters keeps the log, clearing the overrun counter keeps the others") {
  ControlBlock c;
  c.countBusMessage();
  c.countBusCharacterOverrun();
  c.countEvent();
  c.setDiagnosticRegister(0x00F0);
  c.clearOverrunCounter();
  CHECK(c.counter(DiagnosticCounter::BusCharacterOverrun) == 0);
  CHECK(c.counter(DiagnosticCounter::BusMessage) == 1);
  c.clearCounters();
  CHECK(c.counter(DiagnosticCounter::BusMessage) == 0);
  CHECK(c.eventCounter() == 0);
  CHECK(c.diagnosticRegister() == 0x00F0);
  c.clearCountersAndDiagnosticRegister();
  CHECK(c.diagnosticRegister() == 0);
  CHECK(c.eventCount() == 1);  // the overrun's receive event is still there
}

TEST_CASE("diagnostic register bits are set and cleared one by one") {
  ControlBlock c;
  c.setDiagnostic(0, true);
  c.setDiagnostic(15, true);
  c.setDiagnostic(16, true);  // ignored
  CHECK(c.diagnosticRegister() == 0x8001);
  CHECK(c.diagnostic(15));
  CHECK_FALSE(c.diagnostic(16));
  c.setDiagnostic(0, false);
  CHECK(c.diagnosticRegister() == 0x8000);
}

TEST_CASE("force listen-only logs event 04, restart leaves it, clears counters and logs event 00") {
  ControlBlock c;
  c.countBusMessage();
  c.countEvent();
  c.forceListenOnly();
  CHECK(c.listenOnly());
  CHECK(c.events() == Bytes{0x04});
  c.restartCommunications(/*clearLog=*/false);
  CHECK_FALSE(c.listenOnly());
  CHECK(c.counter(DiagnosticCounter::BusMessage) == 0);
  CHECK(c.eventCounter() == 0);
  CHECK(c.events() == Bytes{0x00, 0x04});
  c.restartCommunications(/*clearLog=*/true);
  CHECK(c.events() == Bytes{0x00});
}

TEST_CASE("a pending FC 8 action runs once, when applied") {
  ControlBlock c;
  c.setPendingAction(ControlBlock::PendingAction::ForceListenOnly);
  CHECK_FALSE(c.listenOnly());
  c.applyPendingAction();
  CHECK(c.listenOnly());
  CHECK(c.pendingAction() == ControlBlock::PendingAction::None);
  c.setPendingAction(ControlBlock::PendingAction::RestartClearingLog);
  c.applyPendingAction();
  CHECK_FALSE(c.listenOnly());
  CHECK(c.events() == Bytes{0x00});
  c.countBusMessage();
  c.setDiagnosticRegister(1);
  c.setPendingAction(ControlBlock::PendingAction::ClearCounters);
  c.applyPendingAction();
  CHECK(c.counter(DiagnosticCounter::BusMessage) == 0);
  CHECK(c.diagnosticRegister() == 0);
}

TEST_CASE("server id, run indicator and additional data may not exceed 251 bytes together") {
  ControlBlock c;
  c.setServerId(Bytes(200, 1));
  c.setAdditionalData(Bytes(50, 2));  // 200 + 1 + 50 = 251
  CHECK_THROWS_AS(c.setAdditionalData(Bytes(51, 2)), std::invalid_argument);
  CHECK(c.additionalData().size() == 50);
  CHECK_THROWS_AS(c.setServerId(Bytes(201, 1)), std::invalid_argument);
  CHECK(c.serverId().size() == 200);
}

TEST_CASE("reset returns the control block to power-up state but keeps its configuration") {
  ControlBlock c;
  c.setExceptionStatus(0x5A);
  c.setServerId({7});
  c.countBusMessage();
  c.forceListenOnly();
  c.setBusy(true);
  c.setAsciiDelimiter('!');
  c.setDiagnosticRegister(3);
  c.reset();
  CHECK(c.counter(DiagnosticCounter::BusMessage) == 0);
  CHECK(c.eventCount() == 0);
  CHECK_FALSE(c.listenOnly());
  CHECK_FALSE(c.busy());
  CHECK(c.asciiDelimiter() == '\n');
  CHECK(c.diagnosticRegister() == 0);
  CHECK(c.exceptionStatus() == 0x5A);
  CHECK(c.serverId() == Bytes{7});
}

}  // namespace
}  // namespace modbus
