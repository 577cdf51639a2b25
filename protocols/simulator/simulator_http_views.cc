// The Calls, Log and Server views (pymodbus's /restapi/calls, /restapi/log, /restapi/server).
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "datastore/exception_code.h"
#include "framers/function_codes.h"
#include "protocols/servers/server_metrics.h"
#include "protocols/simulator/detail/simulator_http_api.h"
#include "protocols/simulator/log_ring.h"
#include "protocols/simulator/simulator_server.h"

namespace modbus::simulator_http {
namespace {

/// The function codes the Calls form offers (the public codes our servers answer).
constexpr std::uint8_t kFunctionCodes[] = {1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43};
/// The exception codes the Error select offers: pymodbus's list with the 08 it leaves out.
constexpr std::uint8_t kErrorCodes[] = {1, 2, 3, 4, 5, 6, 8, 10, 11};

std::string hex2(unsigned v) {
  char text[8];
  std::snprintf(text, sizeof text, "%02X", v & 0xffu);
  return text;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

/// "function": 3, "3", [3, 4], ["3", "4"] or "0x03".
std::vector<std::uint8_t> functionList(const Json& params) {
  std::vector<std::uint8_t> out;
  auto it = params.find("function");
  if (it == params.end() || it->is_null()) return out;
  const Json list = it->is_array() ? *it : Json::array({*it});
  for (const Json& item : list) {
    long long fc = -1;
    if (item.is_string()) {
      const std::string& s = item.get_ref<const std::string&>();
      if (s.empty() || s == "Any") continue;
      fc = std::strtoll(s.c_str(), nullptr, 0);
    } else if (item.is_number_integer()) {
      fc = item.get<long long>();
    }
    if (fc < 1 || fc > 127) throw FieldError("function: " + item.dump() + " is not a function code (1-127)");
    out.push_back(static_cast<std::uint8_t>(fc));
  }
  return out;
}

CallSimulation simulationFrom(const Json& params) {
  CallSimulation sim;
  const std::optional<long long> type = intField(params, "response_type");
  if (!type) throw FieldError("response_type: missing (0 Normal, 1 Error, 2 Empty, 3 Junk)");
  if (*type < 0 || *type > 3) throw FieldError("response_type: " + std::to_string(*type) + " is not 0-3");
  sim.response = static_cast<SimulatedResponse>(*type);
  const long long error = intField(params, "response_error").value_or(4);
  if (error < 1 || error > 255) throw FieldError("response_error: " + std::to_string(error) + " is not an exception code (1-255)");
  sim.errorCode = static_cast<std::uint8_t>(error);
  const long long junk = intField(params, "response_junk_datalen").value_or(0);
  if (junk < 0 || junk > 4096) throw FieldError("response_junk_datalen: " + std::to_string(junk) + " is not 0-4096");
  sim.junkBytes = static_cast<std::size_t>(junk);
  const double delay = numberField(params, "response_delay").value_or(0);
  if (!(delay >= 0 && delay <= 3600)) throw FieldError("response_delay: seconds 0-3600 are required");
  sim.delay = delay;
  sim.split = flagField(params, "response_split");
  const double splitDelay = numberField(params, "split_delay").value_or(0);
  if (!(splitDelay >= 0 && splitDelay <= 3600)) throw FieldError("split_delay: seconds 0-3600 are required");
  sim.splitDelay = splitDelay;
  if (flagField(params, "response_cr")) {
    const double pct = numberField(params, "response_cr_pct").value_or(100);
    if (!(pct >= 0 && pct <= 100)) throw FieldError("response_cr_pct: 0-100 is required");
    sim.changeRatePct = pct;
  }
  const long long clear = intField(params, "response_clear_after").value_or(0);
  if (clear < 0) throw FieldError("response_clear_after: a count of requests (0: never) is required");
  sim.clearAfter = static_cast<std::size_t>(clear);
  return sim;
}

}  // namespace

Json callsView(SimulatorServer& simulator, const Json& params) {
  if (!params.is_object()) return errorResult("the request must be a JSON object");
  SimulatorCalls& calls = simulator.calls();
  std::string foot;
  try {
    const std::string submit = stringField(params, "submit").value_or("");
    if (submit == "Monitor") {
      CallFilter filter;
      filter.rangeStart = static_cast<std::uint32_t>(std::clamp<long long>(intField(params, "range_start").value_or(0), 0, 65535));
      std::optional<long long> stop = intField(params, "range_stop");
      if (!stop) stop = intField(params, "range_end");
      filter.rangeStop = static_cast<std::uint32_t>(std::clamp<long long>(stop.value_or(65535), filter.rangeStart, 65535));
      filter.functionCodes = functionList(params);
      filter.showHex = flagField(params, "show_hex") || !params.contains("show_decoded");
      filter.showDecoded = flagField(params, "show_decoded");
      calls.clearRecords();
      calls.startMonitor(filter);
      foot = "Monitoring";
    } else if (submit == "Stop") {
      calls.stopMonitor();
      foot = "Monitor stopped";
    } else if (submit == "Simulate") {
      calls.simulate(simulationFrom(params));
      foot = "Simulating";
    } else if (submit == "Reset") {
      calls.reset();
      foot = "Simulation reset";
    } else if (submit == "Clear") {
      calls.clearRecords();
      foot = "Calls cleared";
    } else if (!submit.empty() && submit != "Refresh" && submit != "Add") {
      throw FieldError("submit: \"" + submit + "\" is not Monitor, Stop, Simulate, Reset, Clear or Refresh");
    }
  } catch (const FieldError& e) {
    return errorResult(e.what());
  }
  const CallFilter& filter = calls.filter();
  const std::optional<CallSimulation>& sim = calls.simulation();
  const CallSimulation shown = sim.value_or(CallSimulation{});
  Json functionCodes = Json::array();
  for (std::uint8_t fc : kFunctionCodes) {
    const bool selected = std::find(filter.functionCodes.begin(), filter.functionCodes.end(), fc) != filter.functionCodes.end();
    functionCodes.push_back(Json{{"value", std::to_string(fc)}, {"text", functionCodeSnakeName(fc)}, {"selected", selected}});
  }
  Json errors = Json::array();
  for (std::uint8_t code : kErrorCodes) {
    errors.push_back(Json{{"value", std::to_string(code)},
                          {"text", hex2(code) + " " + exceptionCodeName(static_cast<ExceptionCode>(code))},
                          {"selected", code == shown.errorCode}});
  }
  Json rows = Json::array();
  const auto& records = calls.records();
  for (auto it = records.rbegin(); it != records.rend(); ++it) {  // newest first
    std::string data;
    if (filter.showHex) data = hexBytes(it->pdu);
    if (filter.showDecoded) {
      if (!data.empty()) data += " | ";
      data += decodePdu(it->response, it->pdu);
    }
    if (it->response && it->pdu.empty()) {
      data = it->junkBytes > 0 ? "(junk: " + std::to_string(it->junkBytes) + " random bytes)" : "(no answer)";
    }
    rows.push_back(Json{{"call", it->response ? "response" : "request"},
                        {"unit", std::to_string(it->unitId)},
                        {"fc", std::to_string(it->functionCode)},
                        {"address", std::to_string(it->address)},
                        {"count", std::to_string(it->count)},
                        {"data", data}});
  }
  if (foot.empty()) foot = calls.monitoring() ? "Monitoring" : "Monitor stopped";
  return Json{{"result", "ok"},
              {"simulation_action", sim ? "ACTIVE" : ""},
              {"monitor_active", calls.monitoring()},
              {"range_start", std::to_string(filter.rangeStart)},
              {"range_stop", std::to_string(filter.rangeStop)},
              {"function_codes", std::move(functionCodes)},
              {"function_show_hex_checked", filter.showHex ? "checked" : ""},
              {"function_show_decoded_checked", filter.showDecoded ? "checked" : ""},
              {"function_response_normal_checked", shown.response == SimulatedResponse::Normal ? "checked" : ""},
              {"function_response_error_checked", shown.response == SimulatedResponse::Error ? "checked" : ""},
              {"function_response_empty_checked", shown.response == SimulatedResponse::Empty ? "checked" : ""},
              {"function_response_junk_checked", shown.response == SimulatedResponse::Junk ? "checked" : ""},
              {"function_response_split_checked", shown.split ? "checked" : ""},
              {"function_response_split_delay", number(shown.splitDelay)},
              {"function_response_cr_checked", shown.changeRatePct ? "checked" : ""},
              {"function_response_cr_pct", number(shown.changeRatePct.value_or(100))},
              {"function_response_delay", number(shown.delay)},
              {"function_response_junk", std::to_string(shown.junkBytes)},
              {"function_error", std::move(errors)},
              {"function_response_clear_after", std::to_string(shown.clearAfter)},
              {"simulated_requests", std::to_string(sim ? calls.simulatedRequests() : 0)},
              {"call_rows", std::move(rows)},
              {"foot", foot}};
}

Json logView(LogRing* log, const Json& params) {
  if (!params.is_object()) return errorResult("the request must be a JSON object");
  if (log == nullptr) return errorResult("this server keeps no log");
  std::string foot = "Operation completed successfully";
  try {
    const std::string submit = stringField(params, "submit").value_or("");
    if (submit == "Clear") {
      log->clear();
      foot = "Log cleared";
    } else if (!submit.empty() && submit != "Refresh" && submit != "Monitor" && submit != "Download") {
      throw FieldError("submit: \"" + submit + "\" is not Refresh, Download or Clear");
    }
  } catch (const FieldError& e) {
    return errorResult(e.what());
  }
  Json rows = Json::array();
  for (const LogLine& line : log->newestFirst()) {
    rows.push_back(Json{{"number", std::to_string(line.number)},
                        {"time", isoTime(line.time)},
                        {"level", reactor::log::toString(line.level)},
                        {"text", line.text}});
  }
  return Json{{"result", "ok"}, {"log_rows", std::move(rows)}, {"capacity", std::to_string(log->capacity())}, {"foot", foot}};
}

Json serverView(SimulatorServer& simulator, const Json& params) {
  if (!params.is_object()) return errorResult("the request must be a JSON object");
  std::string foot = "Operation completed successfully";
  try {
    const std::string submit = stringField(params, "submit").value_or("");
    if (submit == "Restart") {
      simulator.restart();
      foot = "Modbus server restarted";
    } else if (!submit.empty() && submit != "Refresh") {
      throw FieldError("submit: \"" + submit + "\" is not Refresh or Restart");
    }
  } catch (const FieldError& e) {
    return errorResult(e.what());
  } catch (const std::exception& e) {
    return errorResult(std::string("restart failed: ") + e.what());
  }
  SimulatorCalls& calls = simulator.calls();
  Json connections = Json::array();
  for (const std::string& peer : calls.peers()) connections.push_back(Json{{"peer", peer}});
  Json functions = Json::array();
  for (unsigned fc = 1; fc < 256; ++fc) {
    if (calls.requestCount(static_cast<std::uint8_t>(fc)) == 0) continue;
    functions.push_back(Json{{"fc", std::to_string(fc)},
                             {"name", functionCodeSnakeName(static_cast<std::uint8_t>(fc))},
                             {"count", std::to_string(calls.requestCount(static_cast<std::uint8_t>(fc)))}});
  }
  Json exceptions = Json::array();
  for (unsigned code = 1; code < 256; ++code) {
    if (calls.exceptionCount(static_cast<std::uint8_t>(code)) == 0) continue;
    exceptions.push_back(Json{{"code", hex2(code)},
                              {"name", exceptionCodeName(static_cast<ExceptionCode>(code))},
                              {"count", std::to_string(calls.exceptionCount(static_cast<std::uint8_t>(code)))}});
  }
  const double uptime = simulator.reactor().seconds() - simulator.startedAt();
  // "endpoint" is the configured one (pymodbus's field); with port 0 only "listening" tells the port.
  Json listening = Json::array();
  for (const auto& server : simulator.servers()) listening.push_back(serverMetricsLabel(*server));
  return Json{{"result", "ok"},
              {"uptime", number(static_cast<double>(static_cast<long long>(uptime)))},
              {"endpoint", simulator.serverEntry().entry.endpoint},
              {"listening", std::move(listening)},
              {"running", simulator.servers().empty() ? "False" : "True"},
              {"restarts", std::to_string(simulator.restartCount())},
              {"connections", std::move(connections)},
              {"connections_total", std::to_string(calls.connectionsSeen())},
              {"requests_total", std::to_string(calls.totalRequests())},
              {"function_counters", std::move(functions)},
              {"exception_counters", std::move(exceptions)},
              {"foot", foot}};
}

}  // namespace modbus::simulator_http
