// The server-rendered HTML of pymodbus's four views: its forms (the same field names, sent back as
// the page's query) and the view's answer as tables. Plain HTML, no script: the live web UI is
// a separate piece (web/).
#include <sstream>

#include "protocols/simulator/detail/simulator_http_api.h"

namespace modbus::simulator_http {
namespace {

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #999;padding:2px 6px;text-align:left}form{margin:.5em 0;padding:.5em;"
    "border:1px solid #ccc}nav a{margin-right:1em}.error{color:#b00}label{margin-right:1em}";

std::string field(const Json& params, const char* name, const std::string& fallback = {}) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) return fallback;
  return it->dump();
}

/// result[key], or an empty array/object: a reference, never a temporary to iterate.
const Json& member(const Json& result, const char* key, bool object = false) {
  static const Json emptyArray = Json::array();
  static const Json emptyObject = Json::object();
  if (result.is_object()) {
    auto it = result.find(key);
    if (it != result.end()) return *it;
  }
  return object ? emptyObject : emptyArray;
}

std::string header(const std::string& title, int refresh) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << escapeHtml(title) << "</title>";
  if (refresh > 0) out << "<meta http-equiv=\"refresh\" content=\"" << refresh << "\">";
  out << "<style>" << kStyle << "</style></head><body>\n<nav><a href=\"/\">Home</a><a href=\"/api/registers\">Registers</a>"
      << "<a href=\"/api/calls\">Calls</a><a href=\"/api/log\">Log</a><a href=\"/api/server\">Server</a></nav>\n<h1>"
      << escapeHtml(title) << "</h1>\n";
  return out.str();
}

std::string input(const char* name, const std::string& value, const char* type = "text") {
  return std::string("<input type=\"") + type + "\" name=\"" + name + "\" value=\"" + escapeHtml(value) + "\">";
}

std::string checkbox(const char* name, bool checked) {
  return std::string("<input type=\"checkbox\" name=\"") + name + "\"" + (checked ? " checked" : "") + ">";
}

std::string submitButton(const char* value) {
  return std::string("<input type=\"submit\" name=\"submit\" value=\"") + value + "\">";
}

/// "<table><tr><th>..." with `keys` of each row of `rows` (strings).
std::string table(const Json& rows, std::initializer_list<std::pair<const char*, const char*>> columns) {
  std::ostringstream out;
  out << "<table><tr>";
  for (const auto& [title, key] : columns) out << "<th>" << title << "</th>";
  out << "</tr>\n";
  if (rows.is_array()) {
    for (const Json& row : rows) {
      out << "<tr>";
      for (const auto& [title, key] : columns) {
        (void)title;
        const Json& v = row.contains(key) ? row.at(key) : Json();
        out << "<td>" << escapeHtml(v.is_string() ? v.get<std::string>() : (v.is_null() ? "" : v.dump())) << "</td>";
      }
      out << "</tr>\n";
    }
  }
  out << "</table>\n";
  return out.str();
}

std::string resultLine(const Json& result, const char* footKey) {
  if (result.value("result", "") != "ok") {
    return "<p class=\"error\">Result of last command: " + escapeHtml(result.value("error", "error")) + "</p>\n";
  }
  return "<p>Result of last command: " + escapeHtml(result.value(footKey, "")) + "</p>\n";
}

std::string registersPage(const Json& params, const Json& result) {
  std::ostringstream out;
  const std::string type = field(params, "type", "Any"), action = field(params, "action", "Any");
  out << "<form method=\"get\" action=\"/api/registers\"><b>Filter registers</b> "
      << "<label>Start " << input("range_start", field(params, "range_start", result.contains("range_start") ? result["range_start"].dump() : ""))
      << "</label><label>Stop " << input("range_stop", field(params, "range_stop", result.contains("range_stop") ? result["range_stop"].dump() : ""))
      << "</label><label>Type <select name=\"type\"><option>Any</option>";
  for (const auto& [name, number] : member(result, "register_types", true).items()) {
    (void)number;
    if (name == "next") continue;
    out << "<option" << (name == type ? " selected" : "") << ">" << escapeHtml(name) << "</option>";
  }
  out << "</select></label><label>Action <select name=\"action\"><option>Any</option><option"
      << (action == "none" ? " selected" : "") << ">none</option>";
  for (const auto& [name, number] : member(result, "register_actions", true).items()) {
    (void)number;
    if (name == "null") continue;
    out << "<option" << (name == action ? " selected" : "") << ">" << escapeHtml(name) << "</option>";
  }
  out << "</select></label><label>Writeable " << checkbox("writeable", !field(params, "writeable").empty())
      << "</label>" << submitButton("Add") << submitButton("Clear") << "</form>\n"
      << "<form method=\"get\" action=\"/api/registers\"><b>Set</b> <label>Register "
      << input("register", field(params, "register")) << "</label><label>Value " << input("value", field(params, "value"))
      << "</label>";
  for (const char* keep : {"range_start", "range_stop", "type", "action"}) {
    if (params.contains(keep)) out << input(keep, field(params, keep), "hidden");
  }
  out << submitButton("Set") << "</form>\n" << resultLine(result, "footer");
  out << table(member(result, "register_rows"), {{"Register", "index"}, {"Type", "type"}, {"Write", "access"},
                                                           {"Action", "action"}, {"Value", "value"},
                                                           {"# read", "count_read"}, {"# write", "count_write"}});
  return out.str();
}

std::string callsPage(const Json& result) {
  std::ostringstream out;
  auto text = [&](const char* key) { return result.contains(key) && result[key].is_string() ? result[key].get<std::string>() : ""; };
  auto checked = [&](const char* key) { return text(key) == "checked"; };
  out << "<form method=\"get\" action=\"/api/calls\"><b>Monitor</b> <label>Register range "
      << input("range_start", text("range_start")) << " - " << input("range_stop", text("range_stop"))
      << "</label><label>Function <select name=\"function\" multiple size=\"4\">";
  for (const Json& fc : member(result, "function_codes")) {
    out << "<option value=\"" << escapeHtml(fc.value("value", "")) << "\"" << (fc.value("selected", false) ? " selected" : "")
        << ">" << escapeHtml(fc.value("value", "") + " " + fc.value("text", "")) << "</option>";
  }
  out << "</select></label><label>Hex " << checkbox("show_hex", checked("function_show_hex_checked"))
      << "</label><label>Decoded " << checkbox("show_decoded", checked("function_show_decoded_checked")) << "</label>"
      << submitButton("Monitor") << submitButton("Stop") << " " << (result.value("monitor_active", false) ? "monitoring" : "stopped")
      << "</form>\n<form method=\"get\" action=\"/api/calls\"><b>Simulate</b> ";
  const char* kinds[] = {"Normal", "Error", "Empty", "Junk"};
  const char* keys[] = {"function_response_normal_checked", "function_response_error_checked",
                        "function_response_empty_checked", "function_response_junk_checked"};
  for (int i = 0; i < 4; ++i) {
    out << "<label><input type=\"radio\" name=\"response_type\" value=\"" << i << "\"" << (checked(keys[i]) ? " checked" : "")
        << ">" << kinds[i] << "</label>";
  }
  out << "<br><label>Split response " << checkbox("response_split", checked("function_response_split_checked"))
      << " delay " << input("split_delay", text("function_response_split_delay")) << "</label>"
      << "<label>Change rate " << checkbox("response_cr", checked("function_response_cr_checked")) << " % "
      << input("response_cr_pct", text("function_response_cr_pct")) << "</label><br>"
      << "<label>Delay response (s) " << input("response_delay", text("function_response_delay")) << "</label>"
      << "<label>Error code <select name=\"response_error\">";
  for (const Json& e : member(result, "function_error")) {
    out << "<option value=\"" << escapeHtml(e.value("value", "")) << "\"" << (e.value("selected", false) ? " selected" : "")
        << ">" << escapeHtml(e.value("text", "")) << "</option>";
  }
  out << "</select></label><label>Junk data length " << input("response_junk_datalen", text("function_response_junk"))
      << "</label><label>Clear after N requests " << input("response_clear_after", text("function_response_clear_after"))
      << "</label>" << submitButton("Simulate") << submitButton("Reset") << " " << escapeHtml(text("simulation_action"))
      << "</form>\n" << resultLine(result, "foot");
  out << table(member(result, "call_rows"),
               {{"Call/Response", "call"}, {"Unit", "unit"}, {"Function", "fc"}, {"Address", "address"}, {"Count", "count"}, {"Data", "data"}});
  return out.str();
}

std::string logPage(const Json& result) {
  std::ostringstream out;
  out << "<form method=\"get\" action=\"/api/log\">" << submitButton("Refresh") << submitButton("Download")
      << submitButton("Clear") << "</form>\n" << resultLine(result, "foot")
      << table(member(result, "log_rows"), {{"#", "number"}, {"Time", "time"}, {"Level", "level"}, {"Text", "text"}});
  return out.str();
}

std::string serverPage(const Json& result) {
  std::ostringstream out;
  out << "<form method=\"get\" action=\"/api/server\">" << submitButton("Refresh") << submitButton("Restart") << "</form>\n"
      << resultLine(result, "foot");
  if (result.value("result", "") == "ok") {
    out << "<table><tr><th>Uptime (s)</th><td>" << escapeHtml(result.value("uptime", "")) << "</td></tr><tr><th>Endpoint</th><td>"
        << escapeHtml(result.value("endpoint", "")) << "</td></tr><tr><th>Running</th><td>" << escapeHtml(result.value("running", ""))
        << "</td></tr><tr><th>Restarts</th><td>" << escapeHtml(result.value("restarts", "")) << "</td></tr><tr><th>Requests</th><td>"
        << escapeHtml(result.value("requests_total", "")) << "</td></tr><tr><th>Connections since start</th><td>"
        << escapeHtml(result.value("connections_total", "")) << "</td></tr></table>\n<h2>Connections</h2>\n"
        << table(member(result, "connections"), {{"Peer", "peer"}}) << "<h2>Requests per function code</h2>\n"
        << table(member(result, "function_counters"), {{"Function", "fc"}, {"Name", "name"}, {"Count", "count"}})
        << "<h2>Exceptions</h2>\n"
        << table(member(result, "exception_counters"), {{"Code", "code"}, {"Name", "name"}, {"Count", "count"}});
  }
  return out.str();
}

}  // namespace

std::string escapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string renderIndex() {
  return header("uvmodbus simulator", 0) +
         "<p>pymodbus's simulator views, served by uvmodbus-simulator:</p><ul>"
         "<li><a href=\"/api/registers\">Registers</a>: list, filter and set values</li>"
         "<li><a href=\"/api/calls\">Calls</a>: monitor requests and responses, simulate faulty answers</li>"
         "<li><a href=\"/api/log\">Log</a>: the server's log, newest first</li>"
         "<li><a href=\"/api/server\">Server</a>: uptime, connections, counters, restart</li></ul>"
         "<p>Scripts: POST JSON to /restapi/registers, /restapi/calls, /restapi/log, /restapi/server.</p></body></html>\n";
}

std::string renderPage(const std::string& view, const Json& params, const Json& result, int refresh) {
  std::string body;
  if (view == "registers") {
    body = registersPage(params, result);
  } else if (view == "calls") {
    body = callsPage(result);
  } else if (view == "log") {
    body = logPage(result);
  } else {
    body = serverPage(result);
  }
  std::string title = view;
  if (!title.empty()) title[0] = static_cast<char>(title[0] - 'a' + 'A');
  return header(title, refresh) + body + "</body></html>\n";
}

}  // namespace modbus::simulator_http
