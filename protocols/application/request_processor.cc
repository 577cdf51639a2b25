// The Modbus application layer: decode, check, execute and encode the public function codes.
#include "protocols/application/request_processor.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "datastore/data_block.h"
#include "framers/function_codes.h"
#include "protocols/application/device_functions.h"
#include "protocols/application/exception_response.h"
#include "protocols/application/pdu.h"

namespace modbus {
namespace {

using Request = std::span<const std::uint8_t>;
using Response = std::span<std::uint8_t>;

bool badQuantity(std::uint16_t quantity, std::uint16_t max) { return quantity < 1 || quantity > max; }

// The block address of the wire range [address, address + count) in `table`, or nullopt when the
// table is absent or the range (wire or shifted by the device's offset) leaves 0..65535.
std::optional<std::uint16_t> resolve(const DeviceContext& device, const void* table, std::uint16_t address,
                                     std::uint16_t count) {
  if (table == nullptr || !fitsAddressSpace(address, count)) return std::nullopt;
  return device.blockAddress(address, count);
}

// Echoes the first `length` bytes of the request (FC 5, 6, 22; FC 15 and 16 echo address + quantity).
std::size_t echo(Request request, std::size_t length, Response response) {
  std::memcpy(response.data(), request.data(), length);
  return length;
}

// FC 1, 2: fc, address, quantity (1..2000) → fc, byte count, packed bits.
std::size_t readBits(const DeviceContext& device, BitBlock* table, Request request, Response response) {
  if (request.size() != 5) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t address = readU16BE(&request[1]);
  const std::uint16_t quantity = readU16BE(&request[3]);
  if (badQuantity(quantity, pdu::kMaxReadBits)) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const auto at = resolve(device, table, address, quantity);
  if (!at) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
  const std::size_t byteCount = (quantity + 7u) / 8u;
  if (response.size() < 2 + byteCount) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  std::memset(response.data() + 2, 0, byteCount);  // a sloppy custom block cannot leak stale bytes
  const ExceptionCode code = table->readBits(*at, quantity, response.data() + 2);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  response[0] = request[0];
  response[1] = static_cast<std::uint8_t>(byteCount);
  return 2 + byteCount;
}

// FC 3, 4: fc, address, quantity (1..125) → fc, byte count, registers.
std::size_t readRegisters(const DeviceContext& device, RegisterBlock* table, Request request, Response response) {
  if (request.size() != 5) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t address = readU16BE(&request[1]);
  const std::uint16_t quantity = readU16BE(&request[3]);
  if (badQuantity(quantity, pdu::kMaxReadRegisters)) {
    return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  }
  const auto at = resolve(device, table, address, quantity);
  if (!at) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
  const std::size_t byteCount = 2u * quantity;
  if (response.size() < 2 + byteCount) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  const ExceptionCode code = table->readRegisters(*at, quantity, response.data() + 2);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  response[0] = request[0];
  response[1] = static_cast<std::uint8_t>(byteCount);
  return 2 + byteCount;
}

// FC 5: fc, address, value (0xFF00 or 0x0000 only) → echo.
std::size_t writeSingleCoil(const DeviceContext& device, Request request, Response response) {
  if (request.size() != 5) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t address = readU16BE(&request[1]);
  const std::uint16_t value = readU16BE(&request[3]);
  if (value != pdu::kCoilOn && value != pdu::kCoilOff) {
    return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  }
  BitBlock* table = device.coils();
  const auto at = resolve(device, table, address, 1);
  if (!at) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
  if (response.size() < 5) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  const std::uint8_t bit = value == pdu::kCoilOn ? 1 : 0;
  const ExceptionCode code = table->writeBits(*at, 1, &bit);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  return echo(request, 5, response);
}

// FC 6: fc, address, value → echo.
std::size_t writeSingleRegister(const DeviceContext& device, Request request, Response response) {
  if (request.size() != 5) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t address = readU16BE(&request[1]);
  RegisterBlock* table = device.holdingRegisters();
  const auto at = resolve(device, table, address, 1);
  if (!at) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
  if (response.size() < 5) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  const ExceptionCode code = table->writeRegisters(*at, 1, &request[3]);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  return echo(request, 5, response);
}

// FC 15: fc, address, quantity (1..1968), byte count (= ceil(quantity/8)), packed bits → fc, address, quantity.
std::size_t writeMultipleCoils(const DeviceContext& device, Request request, Response response) {
  if (request.size() < 6) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t address = readU16BE(&request[1]);
  const std::uint16_t quantity = readU16BE(&request[3]);
  const std::size_t byteCount = request[5];
  if (badQuantity(quantity, pdu::kMaxWriteBits) || byteCount != (quantity + 7u) / 8u ||
      request.size() != 6 + byteCount) {
    return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  }
  BitBlock* table = device.coils();
  const auto at = resolve(device, table, address, quantity);
  if (!at) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
  if (response.size() < 5) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  const ExceptionCode code = table->writeBits(*at, quantity, &request[6]);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  return echo(request, 5, response);
}

// FC 16: fc, address, quantity (1..123), byte count (= 2*quantity), registers → fc, address, quantity.
std::size_t writeMultipleRegisters(const DeviceContext& device, Request request, Response response) {
  if (request.size() < 6) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t address = readU16BE(&request[1]);
  const std::uint16_t quantity = readU16BE(&request[3]);
  const std::size_t byteCount = request[5];
  if (badQuantity(quantity, pdu::kMaxWriteRegisters) || byteCount != 2u * quantity ||
      request.size() != 6 + byteCount) {
    return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  }
  RegisterBlock* table = device.holdingRegisters();
  const auto at = resolve(device, table, address, quantity);
  if (!at) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
  if (response.size() < 5) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  const ExceptionCode code = table->writeRegisters(*at, quantity, &request[6]);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  return echo(request, 5, response);
}

// FC 22: fc, address, AND mask, OR mask → echo. result = (current AND and) OR (or AND NOT and).
std::size_t maskWriteRegister(const DeviceContext& device, Request request, Response response) {
  if (request.size() != 7) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t address = readU16BE(&request[1]);
  const std::uint16_t andMask = readU16BE(&request[3]);
  const std::uint16_t orMask = readU16BE(&request[5]);
  RegisterBlock* table = device.holdingRegisters();
  const auto at = resolve(device, table, address, 1);
  if (!at) return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
  if (response.size() < 7) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  std::uint8_t wire[2];
  ExceptionCode code = table->readRegisters(*at, 1, wire);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  const std::uint16_t current = readU16BE(wire);
  writeU16BE(wire, static_cast<std::uint16_t>((current & andMask) | (orMask & ~andMask)));
  code = table->writeRegisters(*at, 1, wire);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  return echo(request, 7, response);
}

// FC 23: fc, read address, read quantity (1..125), write address, write quantity (1..121),
// byte count (= 2*write quantity), registers → fc, byte count, registers read. Both ranges are
// validated before anything is applied; the write happens before the read.
std::size_t readWriteMultipleRegisters(const DeviceContext& device, Request request, Response response) {
  if (request.size() < 10) return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  const std::uint16_t readAddress = readU16BE(&request[1]);
  const std::uint16_t readQuantity = readU16BE(&request[3]);
  const std::uint16_t writeAddress = readU16BE(&request[5]);
  const std::uint16_t writeQuantity = readU16BE(&request[7]);
  const std::size_t writeByteCount = request[9];
  if (badQuantity(readQuantity, pdu::kMaxReadRegisters) ||
      badQuantity(writeQuantity, pdu::kMaxReadWriteWriteRegisters) || writeByteCount != 2u * writeQuantity ||
      request.size() != 10 + writeByteCount) {
    return exceptionFor(request, ExceptionCode::IllegalDataValue, response);
  }
  RegisterBlock* table = device.holdingRegisters();
  const auto readAt = resolve(device, table, readAddress, readQuantity);
  const auto writeAt = resolve(device, table, writeAddress, writeQuantity);
  if (!readAt || !writeAt || !table->validate(*readAt, readQuantity) ||
      !table->validateWrite(*writeAt, writeQuantity)) {
    return exceptionFor(request, ExceptionCode::IllegalDataAddress, response);
  }
  const std::size_t byteCount = 2u * readQuantity;
  if (response.size() < 2 + byteCount) return exceptionFor(request, ExceptionCode::ServerDeviceFailure, response);
  ExceptionCode code = table->writeRegisters(*writeAt, writeQuantity, &request[10]);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  code = table->readRegisters(*readAt, readQuantity, response.data() + 2);
  if (code != ExceptionCode::None) return exceptionFor(request, code, response);
  response[0] = request[0];
  response[1] = static_cast<std::uint8_t>(byteCount);
  return 2 + byteCount;
}

}  // namespace

RequestProcessor::RequestProcessor(std::shared_ptr<ServerContext> context, ProcessorOptions options)
    : context_(std::move(context)), options_(options) {
  if (!context_) throw std::invalid_argument("modbus::RequestProcessor: null ServerContext");
  handlers_[pdu::kReadCoils] = [](DeviceContext& d, Request q, Response r) { return readBits(d, d.coils(), q, r); };
  handlers_[pdu::kReadDiscreteInputs] = [](DeviceContext& d, Request q, Response r) {
    return readBits(d, d.discreteInputs(), q, r);
  };
  handlers_[pdu::kReadHoldingRegisters] = [](DeviceContext& d, Request q, Response r) {
    return readRegisters(d, d.holdingRegisters(), q, r);
  };
  handlers_[pdu::kReadInputRegisters] = [](DeviceContext& d, Request q, Response r) {
    return readRegisters(d, d.inputRegisters(), q, r);
  };
  handlers_[pdu::kWriteSingleCoil] = writeSingleCoil;
  handlers_[pdu::kWriteSingleRegister] = writeSingleRegister;
  handlers_[pdu::kWriteMultipleCoils] = writeMultipleCoils;
  handlers_[pdu::kWriteMultipleRegisters] = writeMultipleRegisters;
  handlers_[pdu::kMaskWriteRegister] = maskWriteRegister;
  handlers_[pdu::kReadWriteMultipleRegisters] = readWriteMultipleRegisters;
  for (const DeviceFunction& f : deviceFunctions()) {  // FC 7, 8, 11, 12, 17, 20, 21, 24, 43
    handlers_[f.functionCode] = f.handler;
  }
}

void RequestProcessor::registerFunction(std::uint8_t functionCode, Handler handler) {
  if (functionCode == 0 || functionCode >= handlers_.size()) {
    throw std::invalid_argument("modbus::RequestProcessor: function code must be 1..127");
  }
  handlers_[functionCode] = std::move(handler);
}

bool RequestProcessor::hasFunction(std::uint8_t functionCode) const {
  return functionCode < handlers_.size() && static_cast<bool>(handlers_[functionCode]);
}

std::size_t RequestProcessor::process(std::uint8_t unitId, std::span<const std::uint8_t> request,
                                      std::span<std::uint8_t> response) {
  if (response.size() < 2) return 0;
  if (request.empty()) return exceptionResponse(0, ExceptionCode::IllegalFunction, response);
  const std::uint8_t functionCode = request[0];
  if (unitId == 0 && options_.broadcastEnable) {
    broadcast(request);
    return 0;
  }
  DeviceContext* device = context_->find(unitId);
  if (device == nullptr) {
    if (!asyncDevices_.empty() && asyncDevices_.count(unitId) != 0) {
      // An asynchronous unit reached through a transport that cannot wait for it.
      return exceptionResponse(functionCode, ExceptionCode::GatewayPathUnavailable, response);
    }
    return missingUnit(functionCode, response);
  }
  if (device->offline()) return 0;  // as if powered off: no answer, nothing counted
  // Counters, event log and listen-only mode of the device (device_functions.h).
  return superviseDeviceRequest(*device, request, response, /*broadcast=*/false,
                                [&] { return execute(*device, unitId, request, response); });
}

// --- extension points: missing units, broadcast, write observers, custom functions, async units ---

std::size_t RequestProcessor::missingUnit(std::uint8_t functionCode, std::span<std::uint8_t> response) const {
  if (options_.ignoreMissingSlaves || options_.missingUnit == MissingUnit::Silent) return 0;
  const ExceptionCode code = options_.missingUnit == MissingUnit::Exception0A
                                 ? ExceptionCode::GatewayPathUnavailable
                                 : ExceptionCode::GatewayTargetDeviceFailedToRespond;
  return exceptionResponse(functionCode, code, response);
}

std::size_t RequestProcessor::execute(DeviceContext& device, std::uint8_t unitId, std::span<const std::uint8_t> request,
                                      std::span<std::uint8_t> response) {
  const std::uint8_t functionCode = request[0];
  if (!hasFunction(functionCode) || (!options_.stateChangingDiagnostics && changesDeviceState(request))) {
    return exceptionResponse(functionCode, ExceptionCode::IllegalFunction, response);
  }
  try {
    const std::size_t length = handlers_[functionCode](device, request, response);
    if (length > response.size()) {
      return exceptionResponse(functionCode, ExceptionCode::ServerDeviceFailure, response);
    }
    if (length > 0 && response[0] == functionCode && !writeObservers_.empty()) {
      writeObservers_.notifyWrite(unitId, device, request);
    }
    return length;
  } catch (...) {
    return exceptionResponse(functionCode, ExceptionCode::ServerDeviceFailure, response);
  }
}

void RequestProcessor::broadcast(std::span<const std::uint8_t> request) {
  if (!broadcastable(request)) return;  // reads and diagnostics: nothing a broadcast may run
  std::array<std::uint8_t, kMaxPduSize> scratch{};
  std::vector<const DeviceContext*> done;  // a device shared by several unit ids is written once
  for (std::uint8_t id : context_->unitIds()) {
    DeviceContext* device = context_->find(id);
    if (device == nullptr || device->offline() || std::find(done.begin(), done.end(), device) != done.end()) continue;
    done.push_back(device);
    superviseDeviceRequest(*device, request, scratch, /*broadcast=*/true,
                           [&] { return execute(*device, id, request, scratch); });
  }
  for (const auto& [id, asyncDevice] : asyncDevices_) {
    if (id == 0 || context_->find(id) != nullptr) continue;
    try {
      asyncDevice->submit(id, request, [](std::span<const std::uint8_t>) {});
    } catch (...) {
      // a broadcast has no answer to carry the failure
    }
  }
}

bool RequestProcessor::processBroadcast(std::uint8_t unitId, std::span<const std::uint8_t> request) {
  DeviceContext* device = context_->find(unitId);
  if (device == nullptr || device->offline() || request.empty() || !broadcastable(request)) return false;
  std::array<std::uint8_t, kMaxPduSize> scratch{};
  superviseDeviceRequest(*device, request, scratch, /*broadcast=*/true,
                         [&] { return execute(*device, unitId, request, scratch); });
  return true;
}

bool RequestProcessor::broadcastable(std::span<const std::uint8_t> request) const {
  const std::uint8_t functionCode = request[0];
  if (!hasFunction(functionCode)) return false;
  auto custom = customFunctions_.find(functionCode);
  if (custom != customFunctions_.end()) return custom->second->broadcastable(request);
  return isBroadcastableFunctionCode(functionCode);
}

void RequestProcessor::registerCustomFunction(std::shared_ptr<CustomFunction> function) {
  if (!function) throw std::invalid_argument("modbus::RequestProcessor: null CustomFunction");
  const std::uint8_t code = function->functionCode();
  if (code == 0 || code >= handlers_.size()) {
    throw std::invalid_argument("modbus::RequestProcessor: function code must be 1..127");
  }
  auto& set = customFunctions_[code];
  auto candidate = set ? set : std::make_shared<CustomFunctionSet>(code);
  candidate->add(std::move(function));
  set = candidate;
  handlers_[code] = [candidate](DeviceContext& d, std::span<const std::uint8_t> q, std::span<std::uint8_t> r) {
    return candidate->handle(d, q, r);
  };
}

void RequestProcessor::configureFramer(Framer& framer) const {
  for (const auto& [code, set] : customFunctions_) {
    framer.setLengthRules(code, set->requestLength(), set->responseLength());
  }
}

void RequestProcessor::setAsyncDevice(std::uint8_t unitId, std::shared_ptr<AsyncDevice> device) {
  if (device) {
    asyncDevices_[unitId] = std::move(device);
  } else {
    asyncDevices_.erase(unitId);
  }
}

}  // namespace modbus
