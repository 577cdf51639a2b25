// SimulatorCalls: counting, monitoring and simulating answers (see the header's rules).
#include "protocols/simulator/simulator_calls.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "datastore/exception_code.h"
#include "framers/function_codes.h"

namespace modbus {
namespace {

std::uint32_t be16(std::span<const std::uint8_t> pdu, std::size_t at) {
  return (std::uint32_t{pdu[at]} << 8) | pdu[at + 1];
}

}  // namespace

std::optional<std::pair<std::uint32_t, std::uint32_t>> requestRange(std::span<const std::uint8_t> pdu) {
  if (pdu.empty()) return std::nullopt;
  switch (pdu[0]) {
    case 1: case 2: case 3: case 4: case 15: case 16: case 23:
      if (pdu.size() < 5) return std::nullopt;
      return std::make_pair(be16(pdu, 1), be16(pdu, 3));
    case 5: case 6:
      if (pdu.size() < 3) return std::nullopt;
      return std::make_pair(be16(pdu, 1), std::uint32_t{1});
    default: return std::nullopt;
  }
}

std::string hexBytes(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 3);
  char two[4];
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(two, sizeof two, "%02x", bytes[i]);
    if (i) out += ' ';
    out += two;
  }
  return out;
}

std::string functionCodeSnakeName(std::uint8_t functionCode) {
  const char* name = functionCodeInfo(functionCode).name;
  if (name == nullptr) {
    char text[8];
    std::snprintf(text, sizeof text, "fc_%02x", functionCode);
    return text;
  }
  std::string out;
  for (const char* p = name; *p; ++p) {
    const char c = *p;
    if (c == ' ' || c == '/' || c == '-') {
      if (!out.empty() && out.back() != '_') out += '_';
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    }
  }
  return out;
}

std::string decodePdu(bool response, std::span<const std::uint8_t> pdu) {
  if (pdu.empty()) return "(empty)";
  std::ostringstream out;
  const std::uint8_t fc = pdu[0] & 0x7f;
  out << functionCodeSnakeName(fc);
  if (response && (pdu[0] & pdu::kExceptionFlag)) {
    const std::uint8_t code = pdu.size() > 1 ? pdu[1] : 0;
    char hex[4];
    std::snprintf(hex, sizeof hex, "%02x", code);
    out << " exception " << exceptionCodeName(static_cast<ExceptionCode>(code)) << " (" << hex << ")";
    return out.str();
  }
  if (!response) {
    if (auto range = requestRange(pdu)) {
      out << " address=" << range->first << " count=" << range->second;
      if ((fc == 5 || fc == 6) && pdu.size() >= 5) out << " value=" << be16(pdu, 3);
    }
    return out.str();
  }
  if ((fc == 3 || fc == 4 || fc == 23) && pdu.size() >= 2) {
    out << " registers=[";
    for (std::size_t i = 2; i + 1 < pdu.size() && i < 2u + pdu[1]; i += 2) out << (i > 2 ? ", " : "") << be16(pdu, i);
    out << "]";
  } else if ((fc == 1 || fc == 2) && pdu.size() >= 2) {
    out << " bytes=[" << hexBytes(pdu.subspan(2)) << "]";
  } else if ((fc == 5 || fc == 6 || fc == 15 || fc == 16) && pdu.size() >= 5) {
    out << " address=" << be16(pdu, 1) << ((fc == 5 || fc == 6) ? " value=" : " count=") << be16(pdu, 3);
  }
  return out.str();
}

SimulatorCalls::SimulatorCalls(std::shared_ptr<const simulator::SimulatorStore> store, simulator::SimulatorLayout layout,
                               std::optional<std::uint8_t> countedUnit,
                               std::shared_ptr<simulator::RandomSource> random)
    : store_(std::move(store)),
      layout_(layout),
      countedUnit_(countedUnit),
      random_(random ? std::move(random) : simulator::defaultRandomSource()),
      reads_(store_ ? store_->size() : 0, 0),
      writes_(store_ ? store_->size() : 0, 0) {}

ResponsePlan SimulatorCalls::onResponse(std::uint8_t unitId, std::span<const std::uint8_t> request,
                                        std::span<std::uint8_t> response, std::size_t& length) {
  const bool watched = monitoring_ && !request.empty() && matches(request[0], request);
  if (watched) record(false, unitId, request, request);
  ResponsePlan result;
  auto fault = deviceFaults_.empty() ? deviceFaults_.end() : deviceFaults_.find(unitId);
  if (fault == deviceFaults_.end() && !deviceFaults_.empty()) fault = deviceFaults_.find(kEveryUnit);
  if (fault != deviceFaults_.end()) {
    result = plan(fault->second.simulation, fault->second.simulated, request, response, length);
    if (!fault->second.simulation) deviceFaults_.erase(fault);  // its "clear after" was reached
  } else if (simulation_) {
    result = plan(simulation_, simulated_, request, response, length);
  }
  count(unitId, request, response.first(length));
  if (tap_ != nullptr && !request.empty()) tap_->onCall(unitId, request, response.first(length), result);
  if (watched) {
    if (result.kind == ResponsePlan::Kind::Silence || length == 0) {
      record(true, unitId, {}, request);
    } else if (result.kind == ResponsePlan::Kind::Junk) {
      record(true, unitId, {}, request);  // the junk itself is drawn later: note its size
      records_.back().junkBytes = result.junkBytes;
    } else {
      record(true, unitId, response.first(length), request);
    }
  }
  return result;
}

ResponsePlan SimulatorCalls::plan(std::optional<CallSimulation>& simulation, std::size_t& simulated,
                                  std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                                  std::size_t& length) {
  const CallSimulation sim = *simulation;  // a copy: clearAfter may end it below
  ++simulated;
  if (sim.clearAfter > 0 && simulated >= sim.clearAfter) simulation.reset();
  ResponsePlan result;
  if (sim.changeRatePct && random_->uniform() * 100.0 >= *sim.changeRatePct) return result;
  switch (sim.response) {
    case SimulatedResponse::Normal: break;
    case SimulatedResponse::Error:
      // An answer the server would not send (a broadcast, listen-only) stays unsent.
      if (!request.empty() && length > 0 && response.size() >= 2) {
        response[0] = static_cast<std::uint8_t>((request[0] & 0x7f) | pdu::kExceptionFlag);
        response[1] = sim.errorCode;
        length = 2;
      }
      break;
    case SimulatedResponse::Empty: result.kind = ResponsePlan::Kind::Silence; return result;
    case SimulatedResponse::Junk:
      result.kind = ResponsePlan::Kind::Junk;
      result.junkBytes = sim.junkBytes;
      return result;
  }
  if (sim.split) {
    result.kind = ResponsePlan::Kind::Split;
    result.delay = sim.splitDelay;
  } else if (sim.delay > 0) {
    result.kind = ResponsePlan::Kind::Delay;
    result.delay = sim.delay;
  }
  return result;
}

void SimulatorCalls::fillJunk(std::span<std::uint8_t> bytes) {
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(random_->uniform() * 256.0);
}

void SimulatorCalls::count(std::uint8_t unitId, std::span<const std::uint8_t> request,
                           std::span<const std::uint8_t> response) {
  if (request.empty()) return;
  ++totalRequests_;
  ++requests_[request[0]];
  if (response.size() >= 2 && (response[0] & pdu::kExceptionFlag)) {
    ++exceptions_[response[1]];
    return;
  }
  if (countedUnit_ && *countedUnit_ != unitId) return;
  const std::uint8_t fc = request[0];
  const auto range = requestRange(request);
  if (!range) return;
  switch (fc) {
    case 1: case 2: case 3: case 4: countCells(reads_, fc, range->first, range->second); break;
    case 5: case 6: case 15: case 16: countCells(writes_, fc, range->first, range->second); break;
    case 23:
      countCells(reads_, 3, range->first, range->second);
      if (request.size() >= 9) countCells(writes_, 16, be16(request, 5), be16(request, 7));
      break;
    default: break;
  }
}

void SimulatorCalls::countCells(std::vector<std::uint32_t>& cells, std::uint8_t functionCode, std::uint32_t address,
                                std::uint32_t quantity) {
  if (quantity == 0) return;
  std::uint32_t offset = 0, first = address, last = address + quantity - 1;
  switch (functionCode) {
    case 1: case 5: case 15:
      offset = layout_.coilsOffset(); first /= 16; last /= 16; break;
    case 2: offset = layout_.discreteInputsOffset(); first /= 16; last /= 16; break;
    case 4: offset = layout_.inputRegistersOffset(); break;
    default: offset = layout_.holdingRegistersOffset(); break;
  }
  for (std::uint32_t cell = offset + first; cell <= offset + last && cell < cells.size(); ++cell) ++cells[cell];
}

bool SimulatorCalls::matches(std::uint8_t functionCode, std::span<const std::uint8_t> request) const {
  if (!filter_.functionCodes.empty() &&
      std::find(filter_.functionCodes.begin(), filter_.functionCodes.end(), functionCode) == filter_.functionCodes.end())
    return false;
  const auto range = requestRange(request);
  if (!range) return true;  // a call without an address (diagnostics, identity) is in any range
  const std::uint32_t first = range->first, last = range->first + std::max<std::uint32_t>(range->second, 1) - 1;
  return first <= filter_.rangeStop && last >= filter_.rangeStart;
}

void SimulatorCalls::record(bool response, std::uint8_t unitId, std::span<const std::uint8_t> pdu,
                            std::span<const std::uint8_t> request) {
  CallRecord& r = records_.emplace_back();
  r.response = response;
  r.unitId = unitId;
  r.functionCode = request[0];
  if (auto range = requestRange(request)) {
    r.address = range->first;
    r.count = range->second;
  }
  r.pdu.assign(pdu.begin(), pdu.end());
  if (records_.size() > kMaxCallRecords) records_.pop_front();
}

void SimulatorCalls::startMonitor(CallFilter filter) {
  filter_ = std::move(filter);
  monitoring_ = true;
}

void SimulatorCalls::simulate(CallSimulation simulation) {
  simulation_ = simulation;
  simulated_ = 0;
}

void SimulatorCalls::setDeviceFault(std::uint16_t unit, CallSimulation fault) {
  DeviceFault& f = deviceFaults_[unit];
  f.simulation = fault;
  f.simulated = 0;
}

const CallSimulation* SimulatorCalls::deviceFault(std::uint16_t unit) const {
  auto it = deviceFaults_.find(unit);
  return it == deviceFaults_.end() || !it->second.simulation ? nullptr : &*it->second.simulation;
}

std::size_t SimulatorCalls::deviceFaultRequests(std::uint16_t unit) const {
  auto it = deviceFaults_.find(unit);
  return it == deviceFaults_.end() ? 0 : it->second.simulated;
}

void SimulatorCalls::connectionChanged(bool connected, const reactor::Address& peer) {
  const std::string name = peer.toString();
  if (connected) {
    ++connectionsSeen_;
    peers_.push_back(name);
    return;
  }
  auto it = std::find(peers_.begin(), peers_.end(), name);
  if (it != peers_.end()) peers_.erase(it);
}

}  // namespace modbus
