// /api/v1 faults: per register (the store's cell fault: an exception code) and per device
// (SimulatorCalls' device fault: exception, no answer, junk, delay, split). See simulator_api_v1.h.
#include <cmath>

#include "protocols/simulator/detail/simulator_api_v1_detail.h"
#include "protocols/simulator/detail/simulator_api_v1_tables.h"
#include "protocols/simulator/simulator_server.h"

namespace modbus::api_v1 {
namespace {

const char* responseName(SimulatedResponse response) {
  switch (response) {
    case SimulatedResponse::Normal: return "normal";
    case SimulatedResponse::Error: return "exception";
    case SimulatedResponse::Empty: return "no_answer";
    case SimulatedResponse::Junk: return "junk";
  }
  return "normal";
}

Json deviceFaultJson(SimulatorCalls& calls, const Unit& unit) {
  const CallSimulation* f = calls.deviceFault(unit.faultKey);
  Json out{{"unit", unit.id}, {"fault", nullptr}};
  if (f == nullptr) return out;
  out["fault"] = Json{{"response", responseName(f->response)},
                      {"exception_code", f->errorCode},
                      {"junk_bytes", f->junkBytes},
                      {"delay", f->delay},
                      {"split", f->split},
                      {"split_delay", f->splitDelay},
                      {"change_rate_pct", f->changeRatePct ? Json(*f->changeRatePct) : Json(nullptr)},
                      {"clear_after", f->clearAfter},
                      {"requests_seen", calls.deviceFaultRequests(unit.faultKey)}};
  return out;
}

double numberIn(const Json& body, const char* name, double min, double max, double otherwise) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return otherwise;
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < min || it->get<double>() > max) {
    throw ApiError(422, std::string(name) + ": a number in " + std::to_string(static_cast<long long>(min)) + "-" +
                            std::to_string(static_cast<long long>(max)) + " is required, not " + it->dump());
  }
  return it->get<double>();
}

long long wholeIn(const Json& body, const char* name, long long min, long long max, long long otherwise) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return otherwise;
  if (!it->is_number_integer() || it->get<long long>() < min || it->get<long long>() > max) {
    throw ApiError(422, std::string(name) + ": a whole number in " + std::to_string(min) + "-" + std::to_string(max) +
                            " is required, not " + it->dump());
  }
  return it->get<long long>();
}

CallSimulation parseDeviceFault(const Json& body) {
  CallSimulation f;
  auto response = body.find("response");
  if (response == body.end() || !response->is_string()) {
    throw ApiError(422, "response: one of \"exception\", \"no_answer\", \"junk\", \"normal\" is required");
  }
  const std::string& kind = response->get_ref<const std::string&>();
  if (kind == "exception") {
    f.response = SimulatedResponse::Error;
  } else if (kind == "no_answer") {
    f.response = SimulatedResponse::Empty;
  } else if (kind == "junk") {
    f.response = SimulatedResponse::Junk;
  } else if (kind == "normal") {
    f.response = SimulatedResponse::Normal;  // with delay or split: the right answer, late or in two writes
  } else {
    throw ApiError(422, "response: \"" + kind + "\" is not exception, no_answer, junk or normal");
  }
  f.errorCode = static_cast<std::uint8_t>(wholeIn(body, "exception_code", 1, 255, 4));
  f.junkBytes = static_cast<std::size_t>(wholeIn(body, "junk_bytes", 1, 256, 8));
  f.delay = numberIn(body, "delay", 0, 60, 0);
  auto split = body.find("split");
  if (split != body.end() && !split->is_null() && !split->is_boolean()) throw ApiError(422, "split: true or false is required");
  f.split = split != body.end() && split->is_boolean() && split->get<bool>();
  f.splitDelay = numberIn(body, "split_delay", 0, 60, 0);
  auto rate = body.find("change_rate_pct");
  if (rate != body.end() && !rate->is_null()) f.changeRatePct = numberIn(body, "change_rate_pct", 0, 100, 100);
  f.clearAfter = static_cast<std::size_t>(wholeIn(body, "clear_after", 0, 1000000000, 0));
  return f;
}

}  // namespace

http::Response deviceFault(SimulatorServer& simulator, http::Request& request) {
  const Unit unit = unitParam(simulator, request);
  SimulatorCalls& calls = simulator.calls();
  if (request.method == "PUT") {
    calls.setDeviceFault(unit.faultKey, parseDeviceFault(objectBody(request)));
  } else if (request.method == "DELETE") {
    calls.clearDeviceFault(unit.faultKey);
  }
  return json(deviceFaultJson(calls, unit));
}

http::Response registerFault(SimulatorServer& simulator, http::Request& request) {
  const Unit unit = unitParam(simulator, request);
  const Table table = tableParam(request, *unit.device);
  const std::uint32_t address = addressParam(request, table);
  if (request.method == "PUT") {
    const Json body = objectBody(request);
    auto code = body.find("exception_code");
    if (code == body.end() || !code->is_number_integer() || code->get<long long>() < 1 || code->get<long long>() > 255) {
      throw ApiError(422, "exception_code: a whole number in 1-255 is required");
    }
    simulator.setFault(unit.id, table.which, static_cast<std::uint16_t>(address), static_cast<ExceptionCode>(code->get<int>()));
  } else if (request.method == "DELETE") {
    simulator.setFault(unit.id, table.which, static_cast<std::uint16_t>(address), ExceptionCode::None);
  }
  const simulator::Cell& cell = unit.device->store->cell(table.cellOf(address));
  Json out{{"unit", unit.id}, {"table", table.name}, {"address", address}, {"fault", faultJson(cell.fault)}};
  if (table.bits) out["shared_by_bits"] = Json::array({address - address % 16, address - address % 16 + 15});
  return json(out);
}

http::Response listFaults(SimulatorServer& simulator, http::Request& request) {
  const Unit unit = unitParam(simulator, request);
  const SimulatorDevice& device = *unit.device;
  const simulator::SimulatorStore& store = *device.store;
  const simulator::SimulatorLayout& l = device.layout;
  const Table tables[] = {
      {"coils", SimulatorTable::Coils, true, l.coilsOffset(), l.coilsSize()},
      {"discrete_inputs", SimulatorTable::DiscreteInputs, true, l.discreteInputsOffset(), l.discreteInputsSize()},
      {"holding_registers", SimulatorTable::HoldingRegisters, false, l.holdingRegistersOffset(), l.holdingRegistersSize()},
      {"input_registers", SimulatorTable::InputRegisters, false, l.inputRegistersOffset(), l.inputRegistersSize()},
  };
  Json registers = Json::array();
  for (std::uint32_t cell = 0; cell < store.size(); ++cell) {
    const ExceptionCode fault = store.cell(cell).fault;
    if (fault == ExceptionCode::None) continue;
    // With shared blocks a cell is every table's: the fault shows under each.
    for (const Table& t : tables) {
      if (cell < t.offset || cell >= t.offset + t.cells) continue;
      Json entry = faultJson(fault);
      entry["table"] = t.name;
      entry["address"] = t.bits ? (cell - t.offset) * 16 : cell - t.offset;
      if (t.bits) entry["bits"] = 16;
      registers.push_back(std::move(entry));
    }
  }
  Json out = deviceFaultJson(simulator.calls(), unit);
  return json(Json{{"unit", unit.id}, {"device_fault", out["fault"]}, {"register_faults", std::move(registers)}});
}

}  // namespace modbus::api_v1
