// The device-level function codes and the per-device request accounting (counters, event log,
// listen-only mode) of the Modbus over Serial Line guide v1.02.
#include "protocols/application/device_functions.h"

#include <cstring>
#include <deque>
#include <optional>
#include <string>

#include "protocols/application/exception_response.h"
#include "protocols/application/pdu.h"

namespace modbus {
namespace {

using Request = std::span<const std::uint8_t>;
using Response = std::span<std::uint8_t>;
using namespace pdu;

constexpr std::size_t kSubRequestHeader = 7;  // FC 20/21: type, file (2), record (2), length (2)
constexpr std::uint16_t kMaxRecordNumber = 9999;
constexpr std::uint8_t kMinReadByteCount = 0x07;
constexpr std::uint8_t kMaxReadByteCount = 0xF5;
constexpr std::uint8_t kMinWriteByteCount = 0x09;
constexpr std::uint8_t kMaxWriteByteCount = 0xFB;
constexpr std::uint16_t kClearLogData = 0xFF00;

/// The room for a response: the buffer, but never more than a PDU.
std::size_t room(Response response) { return std::min(response.size(), kMaxPduSize); }

// The send-event flags for an exception code (Application Protocol §6.13).
std::uint8_t sendEventFlags(std::uint8_t code) {
  if (code >= 1 && code <= 3) return ControlBlock::kSendReadException;
  if (code == 4) return ControlBlock::kSendAbortException;
  if (code == 5 || code == 6) return ControlBlock::kSendBusyException;
  if (code == 7) return ControlBlock::kSendNakException;
  return 0;
}

// One FC 20 / 21 sub-request, decoded.
struct SubRequest {
  std::uint8_t referenceType;
  std::uint16_t file;
  std::uint16_t record;
  std::uint16_t length;
};

SubRequest decodeSubRequest(const std::uint8_t* p) {
  return SubRequest{p[0], readU16BE(p + 1), readU16BE(p + 3), readU16BE(p + 5)};
}

bool addressable(const FileRecords& files, const SubRequest& s) {
  return s.referenceType == kFileReferenceType && s.file != 0 && s.record <= kMaxRecordNumber && s.length != 0 &&
         files.validate(s.file, s.record, s.length);
}

// FC 8 sub-functions whose request data must be 0000 and whose answer is a 16-bit value.
std::optional<std::uint16_t> diagnosticValue(const ControlBlock& control, std::uint16_t sub) {
  if (sub == kReturnDiagnosticRegister) return control.diagnosticRegister();
  if (sub >= kReturnBusMessageCount && sub <= kReturnBusCharacterOverrunCount) {
    return control.counter(static_cast<DiagnosticCounter>(sub - kReturnBusMessageCount));
  }
  return std::nullopt;
}

bool isDefinedSubFunction(std::uint16_t sub) {
  return sub <= kForceListenOnlyMode || (sub >= kClearCountersAndDiagnosticRegister && sub <= kReturnBusCharacterOverrunCount) ||
         sub == kClearOverrunCounterAndFlag;
}

}  // namespace

std::span<const DeviceFunction> deviceFunctions() noexcept {
  static constexpr DeviceFunction kFunctions[] = {
      {kReadExceptionStatus, readExceptionStatus}, {kDiagnostics, diagnostics},
      {kGetCommEventCounter, getCommEventCounter}, {kGetCommEventLog, getCommEventLog},
      {kReportServerId, reportServerId},           {kReadFileRecord, readFileRecord},
      {kWriteFileRecord, writeFileRecord},         {kReadFifoQueue, readFifoQueue},
      {kEncapsulatedInterface, encapsulatedInterface},
  };
  return kFunctions;
}

// --- FC 7, 11, 12, 17 ---

std::size_t readExceptionStatus(DeviceContext& device, Request request, Response response) {
  if (request.size() != 1) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  if (room(response) < 2) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  response[0] = request[0];
  response[1] = device.control().exceptionStatus();
  return 2;
}

std::size_t getCommEventCounter(DeviceContext& device, Request request, Response response) {
  if (request.size() != 1) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  if (room(response) < 5) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  const ControlBlock& control = device.control();
  response[0] = request[0];
  writeU16BE(&response[1], control.statusWord());
  writeU16BE(&response[3], control.eventCounter());
  return 5;
}

std::size_t getCommEventLog(DeviceContext& device, Request request, Response response) {
  if (request.size() != 1) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const ControlBlock& control = device.control();
  const std::size_t length = 8 + control.eventCount();
  if (room(response) < length) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  response[0] = request[0];
  response[1] = static_cast<std::uint8_t>(6 + control.eventCount());
  writeU16BE(&response[2], control.statusWord());
  writeU16BE(&response[4], control.eventCounter());
  writeU16BE(&response[6], control.counter(DiagnosticCounter::BusMessage));
  control.copyEvents(response.subspan(8, control.eventCount()));
  return length;
}

std::size_t reportServerId(DeviceContext& device, Request request, Response response) {
  if (request.size() != 1) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const ControlBlock& control = device.control();
  const auto& id = control.serverId();
  const auto& data = control.additionalData();
  const std::size_t byteCount = id.size() + 1 + data.size();
  if (byteCount > ControlBlock::kMaxServerIdLength || room(response) < 2 + byteCount) {
    return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  }
  response[0] = request[0];
  response[1] = static_cast<std::uint8_t>(byteCount);
  std::uint8_t* out = response.data() + 2;
  if (!id.empty()) std::memcpy(out, id.data(), id.size());
  out[id.size()] = control.runIndicator() ? 0xFF : 0x00;
  if (!data.empty()) std::memcpy(out + id.size() + 1, data.data(), data.size());
  return 2 + byteCount;
}

// --- FC 8 ---

std::size_t diagnostics(DeviceContext& device, Request request, Response response) {
  if (request.size() < 3) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t sub = readU16BE(&request[1]);
  if (!isDefinedSubFunction(sub)) return exceptionFor(request, ExceptionCode::IllegalFunction, response);
  ControlBlock& control = device.control();
  auto echo = [&] {
    if (room(response) < request.size()) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
    std::memcpy(response.data(), request.data(), request.size());
    return request.size();
  };
  if (sub == kReturnQueryData) return echo();
  if (request.size() != 5) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t data = readU16BE(&request[3]);
  if (room(response) < 5) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  switch (sub) {
    case kRestartCommunications:
      if (data != 0x0000 && data != kClearLogData) {
        return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
      }
      control.setPendingAction(data == kClearLogData ? ControlBlock::PendingAction::RestartClearingLog
                                                     : ControlBlock::PendingAction::Restart);
      return echo();
    case kChangeAsciiInputDelimiter:
      if ((data & 0xFF) != 0) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
      control.setAsciiDelimiter(request[3]);
      return echo();
    default: break;
  }
  if (data != 0x0000) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  switch (sub) {
    case kForceListenOnlyMode:
      control.setPendingAction(ControlBlock::PendingAction::ForceListenOnly);
      return 0;  // the guide: no response
    case kClearCountersAndDiagnosticRegister:
      control.setPendingAction(ControlBlock::PendingAction::ClearCounters);
      return echo();
    case kClearOverrunCounterAndFlag:
      control.clearOverrunCounter();
      return echo();
    default: break;
  }
  const std::optional<std::uint16_t> value = diagnosticValue(control, sub);
  if (!value) return exceptionFor(request, ExceptionCode::IllegalFunction, response);  // unreachable: sub is defined
  std::memcpy(response.data(), request.data(), 3);
  writeU16BE(&response[3], *value);
  return 5;
}

bool changesDeviceState(Request request) noexcept {
  if (request.size() < 3 || request[0] != kDiagnostics) return false;
  switch (readU16BE(&request[1])) {
    case kRestartCommunications:
    case kChangeAsciiInputDelimiter:
    case kForceListenOnlyMode:
    case kClearCountersAndDiagnosticRegister:
    case kClearOverrunCounterAndFlag: return true;
    default: return false;
  }
}

// --- FC 20, 21 ---

std::size_t readFileRecord(DeviceContext& device, Request request, Response response) {
  if (request.size() < 2) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::size_t byteCount = request[1];
  if (byteCount < kMinReadByteCount || byteCount > kMaxReadByteCount || byteCount % kSubRequestHeader != 0 ||
      request.size() != 2 + byteCount) {
    return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  }
  const FileRecords& files = device.files();
  std::size_t length = 2;
  for (std::size_t at = 2; at < request.size(); at += kSubRequestHeader) {
    const SubRequest s = decodeSubRequest(&request[at]);
    if (!addressable(files, s)) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
    length += 2 + 2u * s.length;
  }
  if (length > kMaxPduSize) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  if (room(response) < length) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  std::size_t out = 2;
  for (std::size_t at = 2; at < request.size(); at += kSubRequestHeader) {
    const SubRequest s = decodeSubRequest(&request[at]);
    response[out] = static_cast<std::uint8_t>(1 + 2u * s.length);
    response[out + 1] = kFileReferenceType;
    const ExceptionCode code = files.readRecords(s.file, s.record, s.length, &response[out + 2]);
    if (code != ExceptionCode::None) return exceptionFor(request, code, response);
    out += 2 + 2u * s.length;
  }
  response[0] = request[0];
  response[1] = static_cast<std::uint8_t>(length - 2);
  return length;
}

std::size_t writeFileRecord(DeviceContext& device, Request request, Response response) {
  if (request.size() < 2) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::size_t byteCount = request[1];
  if (byteCount < kMinWriteByteCount || byteCount > kMaxWriteByteCount || request.size() != 2 + byteCount) {
    return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  }
  // Pass 1: the sub-requests tile the data exactly (03 otherwise).
  for (std::size_t at = 2; at < request.size();) {
    if (request.size() - at < kSubRequestHeader) {
      return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
    }
    const SubRequest s = decodeSubRequest(&request[at]);
    const std::size_t size = kSubRequestHeader + 2u * s.length;
    if (request.size() - at < size) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
    at += size;
  }
  // Pass 2: every sub-request addresses records that exist (02 otherwise), before anything is written.
  FileRecords& files = device.files();
  for (std::size_t at = 2; at < request.size();) {
    const SubRequest s = decodeSubRequest(&request[at]);
    if (!addressable(files, s)) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
    at += kSubRequestHeader + 2u * s.length;
  }
  if (room(response) < request.size()) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  for (std::size_t at = 2; at < request.size();) {
    const SubRequest s = decodeSubRequest(&request[at]);
    const ExceptionCode code = files.writeRecords(s.file, s.record, s.length, &request[at + kSubRequestHeader]);
    if (code != ExceptionCode::None) return exceptionFor(request, code, response);
    at += kSubRequestHeader + 2u * s.length;
  }
  std::memcpy(response.data(), request.data(), request.size());
  return request.size();
}

// --- FC 24 ---

std::size_t readFifoQueue(DeviceContext& device, Request request, Response response) {
  if (request.size() != 3) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::deque<std::uint16_t>* queue = device.fifos().queue(readU16BE(&request[1]));
  if (queue == nullptr) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
  if (queue->size() > FifoQueues::kMaxReadCount) {
    return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  }
  const std::size_t length = 5 + 2 * queue->size();
  if (room(response) < length) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  response[0] = request[0];
  writeU16BE(&response[1], static_cast<std::uint16_t>(2 + 2 * queue->size()));
  writeU16BE(&response[3], static_cast<std::uint16_t>(queue->size()));
  std::size_t out = 5;
  for (std::uint16_t value : *queue) {
    writeU16BE(&response[out], value);
    out += 2;
  }
  return length;
}

// --- FC 43 ---

std::size_t encapsulatedInterface(DeviceContext& device, Request request, Response response) {
  if (request.size() < 2) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  if (request[1] == kMeiReadDeviceIdentification) return readDeviceIdentification(device, request, response);
  return exceptionFor(request, ExceptionCode::IllegalFunction, response);  // CANopen (0x0D) and unknown MEI types
}

std::size_t readDeviceIdentification(DeviceContext& device, Request request, Response response) {
  constexpr std::size_t kHeader = 7;  // fc, MEI, code, conformity, more follows, next id, count
  if (request.size() != 4) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint8_t code = request[2];
  const std::uint8_t objectId = request[3];
  if (code < 1 || code > 4) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const ModbusDeviceIdentification& identity = device.identity();
  const std::size_t limit = room(response);
  if (limit < kHeader) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  response[0] = request[0];
  response[1] = request[1];
  response[2] = code;
  response[3] = identity.conformityLevel();
  response[4] = 0x00;  // more follows
  response[5] = 0x00;  // next object id
  response[6] = 0;     // number of objects
  std::size_t out = kHeader;
  auto put = [&](std::uint8_t id, const std::string& value) {
    if (out + 2 + value.size() > limit) return false;
    response[out] = id;
    response[out + 1] = static_cast<std::uint8_t>(value.size());
    if (!value.empty()) std::memcpy(&response[out + 2], value.data(), value.size());
    out += 2 + value.size();
    ++response[6];
    return true;
  };
  if (code == 4) {
    const std::string* value = identity.find(objectId);
    if (value == nullptr) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
    if (!put(objectId, *value)) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
    return out;
  }
  const std::uint8_t last = code == 1 ? ModbusDeviceIdentification::kLastBasic
                            : code == 2 ? ModbusDeviceIdentification::kLastRegular
                                        : std::uint8_t{0xFF};
  unsigned from = objectId;
  if (objectId > last || !identity.has(objectId)) from = 0;  // "as if object 0 were pointed out"
  for (auto id = identity.nextObject(from, last); id; id = identity.nextObject(*id + 1u, last)) {
    if (!put(*id, *identity.find(*id))) {
      response[4] = 0xFF;
      response[5] = *id;
      break;
    }
  }
  return out;
}

// --- accounting ---

bool beginDeviceRequest(ControlBlock& control, Request request, bool broadcast) {
  control.countBusMessage();
  const bool listenOnly = control.listenOnly();
  control.addEvent(static_cast<std::uint8_t>(ControlBlock::kReceiveEvent |
                                             (listenOnly ? ControlBlock::kReceiveListenOnly : 0) |
                                             (broadcast ? ControlBlock::kReceiveBroadcast : 0)));
  if (!listenOnly) return true;
  // Listen-only mode: only "restart communications" is executed.
  return request.size() >= 3 && request[0] == kDiagnostics && readU16BE(&request[1]) == kRestartCommunications;
}

std::size_t endDeviceRequest(ControlBlock& control, Request request, std::span<const std::uint8_t> answer,
                             bool broadcast, bool executed) {
  const bool listenOnly = control.listenOnly();  // a restart asked for now is still pending
  const bool exception = executed && answer.size() >= 2 && (answer[0] & kExceptionFlag) != 0;
  const std::uint8_t code = exception ? answer[1] : 0;
  if (executed) control.count(DiagnosticCounter::ServerMessage);
  if (exception) {
    control.count(DiagnosticCounter::BusExceptionError);
    if (code == static_cast<std::uint8_t>(ExceptionCode::ServerDeviceBusy)) control.count(DiagnosticCounter::ServerBusy);
    if (code == 7) control.count(DiagnosticCounter::ServerNak);
  }
  const bool sent = !answer.empty() && !broadcast && !listenOnly;
  if (!sent) control.count(DiagnosticCounter::ServerNoResponse);
  if (executed && !exception && !request.empty() && request[0] != kGetCommEventCounter) control.countEvent();
  control.addEvent(static_cast<std::uint8_t>(ControlBlock::kSendEvent | sendEventFlags(code) |
                                             (listenOnly ? ControlBlock::kSendListenOnly : 0)));
  control.applyPendingAction();
  return sent ? answer.size() : 0;
}

}  // namespace modbus
