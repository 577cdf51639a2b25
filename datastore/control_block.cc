// One device's diagnostics state: counters, event log, diagnostic register and listen-only mode.
#include "datastore/control_block.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace modbus {

void ControlBlock::countBusCommunicationError() {
  count(DiagnosticCounter::BusCommunicationError);
  addEvent(kReceiveEvent | kReceiveCommunicationError | (listenOnly_ ? kReceiveListenOnly : 0));
}

void ControlBlock::countBusCharacterOverrun() {
  count(DiagnosticCounter::BusCharacterOverrun);
  addEvent(kReceiveEvent | kReceiveCharacterOverrun | (listenOnly_ ? kReceiveListenOnly : 0));
}

void ControlBlock::clearCounters() {
  counters_.fill(0);
  eventCounter_ = 0;
}

void ControlBlock::clearCountersAndDiagnosticRegister() {
  clearCounters();
  diagnosticRegister_ = 0;
}

void ControlBlock::addEvent(std::uint8_t event) {
  log_[logHead_] = event;
  logHead_ = (logHead_ + 1) % kEventLogSize;
  if (eventCount_ < kEventLogSize) ++eventCount_;
}

std::uint8_t ControlBlock::event(std::size_t i) const {
  if (i >= eventCount_) throw std::out_of_range("modbus::ControlBlock::event: no event " + std::to_string(i));
  return log_[(logHead_ + kEventLogSize - 1 - i) % kEventLogSize];
}

std::size_t ControlBlock::copyEvents(std::span<std::uint8_t> out) const {
  const std::size_t n = out.size() < eventCount_ ? out.size() : eventCount_;
  for (std::size_t i = 0; i < n; ++i) out[i] = log_[(logHead_ + kEventLogSize - 1 - i) % kEventLogSize];
  return n;
}

std::vector<std::uint8_t> ControlBlock::events() const {
  std::vector<std::uint8_t> out(eventCount_);
  copyEvents(out);
  return out;
}

void ControlBlock::setDiagnostic(unsigned bit, bool on) {
  if (bit >= 16) return;
  const auto mask = static_cast<std::uint16_t>(1u << bit);
  diagnosticRegister_ = static_cast<std::uint16_t>(on ? (diagnosticRegister_ | mask) : (diagnosticRegister_ & ~mask));
}

void ControlBlock::forceListenOnly() {
  listenOnly_ = true;
  addEvent(kEnteredListenOnlyEvent);
}

void ControlBlock::restartCommunications(bool clearLog) {
  listenOnly_ = false;
  clearCounters();
  if (clearLog) clearEvents();
  addEvent(kCommunicationRestartEvent);
}

void ControlBlock::setServerId(std::vector<std::uint8_t> id) {
  if (id.size() + 1 + additionalData_.size() > kMaxServerIdLength) {
    throw std::invalid_argument("modbus::ControlBlock: server id, run indicator and additional data exceed " +
                                std::to_string(kMaxServerIdLength) + " bytes");
  }
  serverId_ = std::move(id);
}

void ControlBlock::setAdditionalData(std::vector<std::uint8_t> data) {
  if (serverId_.size() + 1 + data.size() > kMaxServerIdLength) {
    throw std::invalid_argument("modbus::ControlBlock: server id, run indicator and additional data exceed " +
                                std::to_string(kMaxServerIdLength) + " bytes");
  }
  additionalData_ = std::move(data);
}

void ControlBlock::applyPendingAction() {
  const PendingAction action = pending_;
  pending_ = PendingAction::None;
  switch (action) {
    case PendingAction::None: break;
    case PendingAction::Restart: restartCommunications(false); break;
    case PendingAction::RestartClearingLog: restartCommunications(true); break;
    case PendingAction::ForceListenOnly: forceListenOnly(); break;
    case PendingAction::ClearCounters: clearCountersAndDiagnosticRegister(); break;
  }
}

void ControlBlock::reset() {
  pending_ = PendingAction::None;
  clearCountersAndDiagnosticRegister();
  clearEvents();
  listenOnly_ = false;
  busy_ = false;
  asciiDelimiter_ = kDefaultDelimiter;
}

}  // namespace modbus
