// One device's diagnostics state (FC 7, 8, 11, 12, 17); ports pymodbus's ModbusControlBlock, per
// device instead of a process-wide singleton, with the counters and event log kept live as the
// Modbus over Serial Line guide v1.02 and the Application Protocol v1.1b3 prescribe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace modbus {

/// The eight diagnostic counters (Serial Line guide §6.1, CPT1..CPT8), in the order of the FC 8
/// sub-functions 0x0B..0x12 that return them.
enum class DiagnosticCounter : std::uint8_t {
  BusMessage = 0,             ///< CPT1, FC 8/0B: messages seen (bad CRC/LRC excluded)
  BusCommunicationError = 1,  ///< CPT2, FC 8/0C: CRC/LRC errors
  BusExceptionError = 2,      ///< CPT3, FC 8/0D: exception responses (broadcast ones too, though unsent)
  ServerMessage = 3,          ///< CPT4, FC 8/0E: messages addressed to the device (broadcasts too) it processed
  ServerNoResponse = 4,       ///< CPT5, FC 8/0F: messages it returned nothing for (broadcasts, listen-only)
  ServerNak = 5,              ///< CPT6, FC 8/10: exception 07 (NAK) responses
  ServerBusy = 6,             ///< CPT7, FC 8/11: exception 06 (busy) responses
  BusCharacterOverrun = 7,    ///< CPT8, FC 8/12: character overruns
};

/// The diagnostics block of one device: counters, event counter, 64-event log, diagnostic register,
/// listen-only flag, ASCII input delimiter, the FC 7 exception-status outputs and the FC 17 server
/// id. Pure state: the request processor (protocols/application/device_functions.h) drives it for every request
/// that reaches the device; the application may read and set everything. All counters are 16 bits
/// and wrap at 65535. Nothing here allocates except the application-facing vector getters and
/// the server id setters. Reactor thread only.
///
/// Event log bytes (Application Protocol §6.13):
/// - receive event, stored before a request is processed: 0x80 | kReceive* flags;
/// - send event, stored after it (response, exception or none): 0x40 | kSend* flags;
/// - 0x04 when the device enters listen-only mode; 0x00 when communications restart.
class ControlBlock {
 public:
  static constexpr std::size_t kCounterCount = 8;
  static constexpr std::size_t kEventLogSize = 64;

  static constexpr std::uint8_t kReceiveEvent = 0x80;
  static constexpr std::uint8_t kReceiveCommunicationError = 0x02;
  static constexpr std::uint8_t kReceiveCharacterOverrun = 0x10;
  static constexpr std::uint8_t kReceiveListenOnly = 0x20;
  static constexpr std::uint8_t kReceiveBroadcast = 0x40;
  static constexpr std::uint8_t kSendEvent = 0x40;
  static constexpr std::uint8_t kSendReadException = 0x01;   ///< exception 01..03
  static constexpr std::uint8_t kSendAbortException = 0x02;  ///< exception 04
  static constexpr std::uint8_t kSendBusyException = 0x04;   ///< exception 05..06
  static constexpr std::uint8_t kSendNakException = 0x08;    ///< exception 07
  static constexpr std::uint8_t kSendWriteTimeout = 0x10;
  static constexpr std::uint8_t kSendListenOnly = 0x20;
  static constexpr std::uint8_t kEnteredListenOnlyEvent = 0x04;
  static constexpr std::uint8_t kCommunicationRestartEvent = 0x00;

  /// The default ASCII input delimiter (LF).
  static constexpr std::uint8_t kDefaultDelimiter = '\n';

  // --- counters ---

  std::uint16_t counter(DiagnosticCounter which) const { return counters_[static_cast<std::size_t>(which)]; }
  /// Adds one (wrapping at 65535).
  void count(DiagnosticCounter which) { ++counters_[static_cast<std::size_t>(which)]; }
  /// CPT1: whoever sees a message's bytes calls it (the request processor does, for every
  /// message that reaches the device).
  void countBusMessage() { count(DiagnosticCounter::BusMessage); }
  /// CPT2 and a receive event with the communication-error flag: the serial protocol calls it for
  /// a frame with a bad CRC or LRC.
  void countBusCommunicationError();
  /// CPT8 and a receive event with the character-overrun flag: the serial protocol calls it when
  /// it drops input it had no room for.
  void countBusCharacterOverrun();
  /// Sets the eight counters and the event counter to 0 (FC 8/0A also clears the diagnostic
  /// register: see clearCountersAndDiagnosticRegister()).
  void clearCounters();
  /// FC 8/0A.
  void clearCountersAndDiagnosticRegister();
  /// FC 8/14: CPT8 to 0.
  void clearOverrunCounter() { counters_[static_cast<std::size_t>(DiagnosticCounter::BusCharacterOverrun)] = 0; }

  /// The FC 11 / FC 12 event counter: one per successfully completed request (not for exception
  /// responses nor FC 11 itself).
  std::uint16_t eventCounter() const { return eventCounter_; }
  void countEvent() { ++eventCounter_; }

  /// The FC 11 / 12 status word: 0xFFFF while the device says it is busy, else 0x0000.
  bool busy() const { return busy_; }
  void setBusy(bool busy) { busy_ = busy; }
  std::uint16_t statusWord() const { return busy_ ? 0xFFFF : 0x0000; }

  // --- event log ---

  /// Stores `event` as the newest; the oldest falls off beyond kEventLogSize.
  void addEvent(std::uint8_t event);
  /// Number of events stored (0..64).
  std::size_t eventCount() const { return eventCount_; }
  /// Event `i`, newest first (i < eventCount()).
  std::uint8_t event(std::size_t i) const;
  /// Copies the events, newest first, into `out` (at most out.size()); returns how many.
  std::size_t copyEvents(std::span<std::uint8_t> out) const;
  /// The events, newest first.
  std::vector<std::uint8_t> events() const;
  void clearEvents() { eventCount_ = 0; }

  // --- diagnostic register (FC 8/02) ---

  std::uint16_t diagnosticRegister() const { return diagnosticRegister_; }
  void setDiagnosticRegister(std::uint16_t value) { diagnosticRegister_ = value; }
  /// Sets or clears bit `bit` (0..15; others are ignored).
  void setDiagnostic(unsigned bit, bool on);
  bool diagnostic(unsigned bit) const { return bit < 16 && ((diagnosticRegister_ >> bit) & 1u) != 0; }

  // --- listen-only mode and restart (FC 8/01, 8/04) ---

  /// While set the device executes nothing but FC 8/01 and answers nothing.
  bool listenOnly() const { return listenOnly_; }
  /// Sets the flag without logging (the application's door; FC 8/04 uses forceListenOnly()).
  void setListenOnly(bool on) { listenOnly_ = on; }
  /// FC 8/04: enters listen-only mode and logs kEnteredListenOnlyEvent.
  void forceListenOnly();
  /// FC 8/01: leaves listen-only mode, clears the counters and the event counter, clears the event
  /// log when `clearLog`, then logs kCommunicationRestartEvent.
  void restartCommunications(bool clearLog);

  // --- ASCII input delimiter (FC 8/03) ---

  /// The character that ends an incoming ASCII frame after CR. The device stores it; the ASCII
  /// framer is per connection, so the serial/ASCII protocol reads it from here before decoding.
  std::uint8_t asciiDelimiter() const { return asciiDelimiter_; }
  void setAsciiDelimiter(std::uint8_t c) { asciiDelimiter_ = c; }

  // --- FC 7 exception status ---

  /// The eight exception-status outputs (bit 0 = output 1).
  std::uint8_t exceptionStatus() const { return exceptionStatus_; }
  void setExceptionStatus(std::uint8_t outputs) { exceptionStatus_ = outputs; }

  // --- FC 17 report server id ---

  /// The server id bytes (device specific; default one byte 0x00).
  const std::vector<std::uint8_t>& serverId() const { return serverId_; }
  /// The run indicator: true → 0xFF (ON), false → 0x00 (OFF). Default ON.
  bool runIndicator() const { return runIndicator_; }
  /// Bytes after the run indicator (default none).
  const std::vector<std::uint8_t>& additionalData() const { return additionalData_; }
  /// Throws std::invalid_argument when id + run indicator + additional data exceed kMaxServerIdLength.
  void setServerId(std::vector<std::uint8_t> id);
  void setRunIndicator(bool on) { runIndicator_ = on; }
  void setAdditionalData(std::vector<std::uint8_t> data);
  /// The FC 17 byte count limit: a 253-byte PDU minus function code and byte count.
  static constexpr std::size_t kMaxServerIdLength = 251;

  // --- what FC 8 does after its answer (the guide restarts "after the response is returned") ---

  /// An FC 8 action the request processor applies once the request that asked for it has been
  /// counted and logged (protocols/application/device_functions.h).
  enum class PendingAction : std::uint8_t { None, Restart, RestartClearingLog, ForceListenOnly, ClearCounters };
  void setPendingAction(PendingAction action) { pending_ = action; }
  PendingAction pendingAction() const { return pending_; }
  /// Runs the pending action (restartCommunications, forceListenOnly or
  /// clearCountersAndDiagnosticRegister) and clears it.
  void applyPendingAction();

  /// Power-up state: counters, event counter, log, diagnostic register, listen-only and delimiter
  /// (the exception status and server id, which are configuration, are kept).
  void reset();

 private:
  std::array<std::uint16_t, kCounterCount> counters_{};
  std::uint16_t eventCounter_ = 0;
  std::array<std::uint8_t, kEventLogSize> log_{};
  std::size_t logHead_ = 0;  // index of the next slot to write
  std::size_t eventCount_ = 0;
  std::uint16_t diagnosticRegister_ = 0;
  bool listenOnly_ = false;
  bool busy_ = false;
  std::uint8_t asciiDelimiter_ = kDefaultDelimiter;
  std::uint8_t exceptionStatus_ = 0;
  std::vector<std::uint8_t> serverId_{0x00};
  bool runIndicator_ = true;
  std::vector<std::uint8_t> additionalData_;
  PendingAction pending_ = PendingAction::None;
};

}  // namespace modbus
