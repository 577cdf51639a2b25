// SimulatorHttp answered in process (no socket): pymodbus's REST JSON shapes for the four views,
// the pages' form fields, the bearer token, and the query reader. The same over the network, with
// curl and Modbus clients: tests/integration/simulator_http_test.cc.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>

#include "protocols/simulator/log_ring.h"
#include "protocols/simulator/simulator_http.h"
#include "protocols/simulator/simulator_server.h"
#include "reactor/reactor.h"
#include "tests/support/subprocess.h"

namespace {

using namespace modbus;
using Json = nlohmann::json;

std::string shippedSetup() {
  std::ifstream in(testsupport::sourceDir() + "/config/simulator.json");
  Json setup = Json::parse(in);
  setup["server_list"]["server"]["port"] = 0;
  return setup.dump();
}

struct App {
  reactor::Reactor reactor;
  std::unique_ptr<SimulatorServer> simulator = SimulatorServer::fromText(reactor, shippedSetup());
  LogRing log{100};
  std::unique_ptr<SimulatorHttp> http;
  explicit App(SimulatorHttpOptions options = {}) {
    http = std::make_unique<SimulatorHttp>(*simulator, &log, std::move(options));
  }
  http::Response request(const std::string& method, const std::string& target, const std::string& body = {},
                         const std::string& authorization = {}, const std::string& cookie = {}) {
    http::Request r;
    r.method = method;
    r.target = target;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.body = body;
    if (!authorization.empty()) r.headers.add("Authorization", authorization);
    if (!cookie.empty()) r.headers.add("Cookie", cookie);
    return http->handle(r);
  }
  Json post(const std::string& view, const Json& body) {
    http::Response r = request("POST", "/restapi/" + view, body.dump());
    REQUIRE(r.status == 200);
    return Json::parse(r.body);
  }
};

const Json* rowAt(const Json& rows, const std::string& index) {
  for (const Json& row : rows) {
    if (row["index"] == index) return &row;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("simulator http: /restapi/registers lists string-valued rows with pymodbus's keys") {
  App app;
  const Json r = app.post("registers", {{"submit", "Register"}, {"range_start", 10}, {"range_stop", 21}});
  CHECK(r["result"] == "ok");
  CHECK(r["footer"] == "Operation completed successfully");
  CHECK(r["register_types"]["float32"] == 4);
  CHECK(r["register_types"]["uint16"] == 2);
  CHECK(r["register_actions"]["null"] == 0);
  CHECK(r["register_actions"]["increment"] == 1);
  const Json* row = rowAt(r["register_rows"], "10");
  REQUIRE(row != nullptr);
  CHECK(*row == Json{{"index", "10"}, {"type", "uint16"}, {"access", "True"}, {"action", "none"}, {"value", "1234"},
                     {"count_read", "0"}, {"count_write", "0"}});
  const Json* u32 = rowAt(r["register_rows"], "20-21");
  REQUIRE(u32 != nullptr);
  CHECK((*u32)["value"] == "617001");
  CHECK(rowAt(r["register_rows"], "11") != nullptr);
  CHECK((*rowAt(r["register_rows"], "11"))["action"] == "increment");
}

TEST_CASE("simulator http: range_end is range_stop (pymodbus's documentation and code disagree)") {
  App app;
  const Json a = app.post("registers", {{"submit", "Register"}, {"range_start", 10}, {"range_stop", 13}});
  const Json b = app.post("registers", {{"submit", "Register"}, {"range_start", "10"}, {"range_end", "13"}});
  CHECK(a["register_rows"].size() == 4);
  CHECK(a["register_rows"] == b["register_rows"]);
}

TEST_CASE("simulator http: Set writes a float32 as a float across its two registers") {
  App app;
  const Json r = app.post("registers", {{"submit", "Set"}, {"register", 30}, {"value", 12.5}, {"range_start", 30}, {"range_stop", 31}});
  CHECK(r["result"] == "ok");
  CHECK((*rowAt(r["register_rows"], "30-31"))["value"] == "12.5");
  const auto& store = *app.simulator->device().store;
  CHECK(store.registerValue(30) == 0x4148);  // 12.5f, high word first
  CHECK(store.registerValue(31) == 0x0000);
  // The second register of the value names the same value.
  app.post("registers", {{"submit", "Set"}, {"register", "31"}, {"value", "-1.5"}});
  CHECK(store.number(30) == -1.5L);
}

TEST_CASE("simulator http: Set refuses what the register's type cannot hold") {
  App app;
  CHECK(app.post("registers", {{"submit", "Set"}, {"register", 10}, {"value", 70000}})["result"] == "error");
  CHECK(app.post("registers", {{"submit", "Set"}, {"register", 10}, {"value", 1.5}})["result"] == "error");
  CHECK(app.post("registers", {{"submit", "Set"}, {"register", 0}, {"value", 1}})["result"] == "error");  // invalid cell
  CHECK(app.post("registers", {{"submit", "Set"}, {"register", 100000}, {"value", 1}})["result"] == "error");
  const Json s = app.post("registers", {{"submit", "Set"}, {"register", 40}, {"value", "hello"}, {"range_start", 40}, {"range_stop", 40}});
  CHECK((*rowAt(s["register_rows"], "40-44"))["value"] == "hello     ");
}

TEST_CASE("simulator http: registers filter by type, action and writable") {
  App app;
  const Json byType = app.post("registers", {{"submit", "Register"}, {"range_start", 0}, {"range_stop", 99}, {"type", "float32"}});
  CHECK(byType["register_rows"].size() == 3);
  const Json byAction =
      app.post("registers", {{"submit", "Register"}, {"range_start", 0}, {"range_stop", 99}, {"action", "increment"}});
  CHECK(byAction["register_rows"].size() == 2);
  const Json writable = app.post("registers", {{"submit", "Register"}, {"range_start", 0}, {"range_stop", 99}, {"writeable", true}});
  for (const Json& row : writable["register_rows"]) CHECK(row["access"] == "True");
  CHECK(writable["register_rows"].size() == 6);  // 1, 2, 3, 10, 20-21, 30-31
}

TEST_CASE("simulator http: errors are {result: error, error: ...}, a body that is not JSON is 400") {
  App app;
  const Json noSubmit = app.post("registers", {{"range_start", 1}});
  CHECK(noSubmit == Json{{"result", "error"}, {"error", "submit: missing (\"Register\", \"Set\", ...)"}});
  CHECK(app.post("registers", {{"submit", "Register"}, {"range_start", "x"}})["result"] == "error");
  CHECK(app.post("calls", {{"submit", "Simulate"}})["result"] == "error");  // response_type missing
  CHECK(app.post("calls", {{"submit", "Fly"}})["result"] == "error");
  http::Response bad = app.request("POST", "/restapi/registers", "{nope");
  CHECK(bad.status == 400);
  CHECK(Json::parse(bad.body)["result"] == "error");
}

TEST_CASE("simulator http: /restapi/calls Simulate reports pymodbus's keys and the simulation") {
  App app;
  const Json r = app.post("calls", {{"submit", "Simulate"}, {"response_type", 1}, {"response_error", 8}, {"response_delay", 0},
                                    {"response_junk_datalen", 0}, {"response_clear_after", 3}, {"response_cr", true},
                                    {"response_cr_pct", 50}});
  CHECK(r["result"] == "ok");
  CHECK(r["simulation_action"] == "ACTIVE");
  CHECK(r["function_response_error_checked"] == "checked");
  CHECK(r["function_response_normal_checked"] == "");
  CHECK(r["function_response_cr_checked"] == "checked");
  CHECK(r["function_response_cr_pct"] == "50");
  CHECK(r["function_response_clear_after"] == "3");
  for (const char* key : {"range_start", "range_stop", "function_codes", "function_show_hex_checked", "function_show_decoded_checked",
                          "function_response_empty_checked", "function_response_junk_checked", "function_response_split_checked",
                          "function_response_split_delay", "function_response_delay", "function_response_junk", "function_error",
                          "call_rows", "foot"}) {
    CHECK_MESSAGE(r.contains(key), key);
  }
  bool eightSelected = false;
  for (const Json& e : r["function_error"]) eightSelected |= e["value"] == "8" && e["selected"] == true;
  CHECK(eightSelected);
  CHECK(app.simulator->calls().simulation()->errorCode == 8);
  CHECK(app.post("calls", {{"submit", "Reset"}})["simulation_action"] == "");
}

TEST_CASE("simulator http: Monitor records calls shown in hex and decoded, newest first") {
  App app;
  app.post("calls", {{"submit", "Monitor"}, {"range_start", 10}, {"range_end", 12}, {"function", {"3"}}, {"show_hex", true},
                     {"show_decoded", true}});
  std::array<std::uint8_t, 253> room{3, 2, 0x04, 0xD2};
  std::size_t length = 4;
  const std::uint8_t request[] = {3, 0, 10, 0, 1};
  app.simulator->calls().onResponse(1, request, room, length);
  const Json r = app.post("calls", {{"submit", "Refresh"}});
  REQUIRE(r["call_rows"].size() == 2);
  CHECK(r["call_rows"][0]["call"] == "response");
  CHECK(r["call_rows"][0]["data"] == "03 02 04 d2 | read_holding_registers registers=[1234]");
  CHECK(r["call_rows"][1] == Json{{"call", "request"}, {"unit", "1"}, {"fc", "3"}, {"address", "10"}, {"count", "1"},
                                  {"data", "03 00 0a 00 01 | read_holding_registers address=10 count=1"}});
  CHECK(r["range_stop"] == "12");
  app.post("calls", {{"submit", "Stop"}});
  CHECK_FALSE(app.simulator->calls().monitoring());
}

TEST_CASE("simulator http: /restapi/log lists the kept lines newest first and clears them") {
  App app;
  app.log.add(reactor::log::Level::Info, "first");
  app.log.add(reactor::log::Level::Warning, "second");
  const Json r = app.post("log", {{"submit", "Refresh"}});
  CHECK(r["result"] == "ok");
  REQUIRE(r["log_rows"].size() == 2);
  CHECK(r["log_rows"][0]["text"] == "second");
  CHECK(r["log_rows"][0]["level"] == "warning");
  CHECK(app.post("log", {{"submit", "Clear"}})["log_rows"].empty());
  app.log.add(reactor::log::Level::Info, "third");
  http::Response file = app.request("GET", "/api/log?submit=Download");
  CHECK(file.status == 200);
  CHECK(file.headers.get("Content-Disposition").value_or("").find("attachment") == 0);
  CHECK(file.body.find("third") != std::string::npos);
}

TEST_CASE("simulator http: /restapi/server reports uptime, connections, counters and restarts the Modbus side") {
  App app;
  app.simulator->runForever(/*onlyStart=*/true);
  std::array<std::uint8_t, 253> room{0x83, 2};
  std::size_t length = 2;
  const std::uint8_t request[] = {3, 0, 99, 0, 5};
  app.simulator->calls().onResponse(1, request, room, length);
  Json r = app.post("server", {{"submit", "Refresh"}});
  CHECK(r["result"] == "ok");
  CHECK(r["running"] == "True");
  CHECK(r["restarts"] == "0");
  CHECK(r["uptime"].is_string());
  CHECK(r["connections"].is_array());
  // The port actually bound, which with a configured port 0 only "listening" tells.
  REQUIRE(r["listening"].size() == 1);
  const std::string listening = r["listening"][0];
  CHECK(listening.starts_with("tcp:"));
  CHECK_FALSE(listening.ends_with(":0"));
  CHECK(r["function_counters"] == Json::array({{{"fc", "3"}, {"name", "read_holding_registers"}, {"count", "1"}}}));
  CHECK(r["exception_counters"] == Json::array({{{"code", "02"}, {"name", "IllegalDataAddress"}, {"count", "1"}}}));
  r = app.post("server", {{"submit", "Restart"}});
  CHECK(r["result"] == "ok");
  CHECK(r["restarts"] == "1");
  CHECK(app.simulator->servers().size() == 1);
  app.simulator->stop();
}

TEST_CASE("simulator http: the pages carry pymodbus's form fields") {
  App app;
  const std::string registers = app.request("GET", "/api/registers?range_start=10&range_stop=12").body;
  for (const char* name : {"range_start", "range_stop", "type", "action", "writeable", "register", "value"}) {
    CHECK_MESSAGE(registers.find(std::string("name=\"") + name + "\"") != std::string::npos, name);
  }
  CHECK(registers.find("<td>10</td><td>uint16</td>") != std::string::npos);
  const std::string calls = app.request("GET", "/api/calls").body;
  for (const char* name : {"range_start", "range_stop", "function", "show_hex", "show_decoded", "response_type", "response_split",
                           "split_delay", "response_cr", "response_cr_pct", "response_delay", "response_error",
                           "response_junk_datalen", "response_clear_after"}) {
    CHECK_MESSAGE(calls.find(std::string("name=\"") + name + "\"") != std::string::npos, name);
  }
  // The page's own form submits through the query: Simulate from the page acts like the REST call.
  app.request("GET", "/api/calls?response_type=2&response_clear_after=1&submit=Simulate");
  CHECK(app.simulator->calls().simulation()->response == SimulatedResponse::Empty);
  CHECK(app.request("GET", "/api/server").body.find("value=\"Restart\"") != std::string::npos);
  CHECK(app.request("GET", "/api/log").body.find("value=\"Download\"") != std::string::npos);
  CHECK(app.request("GET", "/api/registers?range_start=%3Cscript%3E").body.find("<script>") == std::string::npos);
  CHECK(app.request("GET", "/").body.find("/api/registers") != std::string::npos);
}

TEST_CASE("simulator http: with a token, a request without the right bearer gets 401") {
  App app(SimulatorHttpOptions{"s3cret", {}});
  CHECK(app.request("GET", "/api/server").status == 401);
  CHECK(app.request("GET", "/api/server", {}, "Bearer wrong").status == 401);
  CHECK(app.request("GET", "/api/server", {}, "Basic s3cret").status == 401);
  http::Response refused = app.request("POST", "/restapi/server", "{}", "Bearer s3cre");
  CHECK(refused.status == 401);
  CHECK(refused.headers.get("WWW-Authenticate").has_value());
  CHECK(app.request("GET", "/api/server", {}, "Bearer s3cret").status == 200);
  CHECK(app.request("GET", "/api/server", {}, "bearer s3cret").status == 200);
}

TEST_CASE("simulator http: with a token a browser logs in through a form and is then let in by its cookie") {
  App app(SimulatorHttpOptions{"s3 cret;x", {}, nullptr, true});
  // A page opened without the token shows the login form (still a 401 for anything that is not a person).
  http::Response form = app.request("GET", "/api/registers");
  CHECK(form.status == 401);
  CHECK(form.headers.get("Content-Type").value_or("").starts_with("text/html"));
  CHECK(form.body.find("action=\"/login\"") != std::string::npos);
  CHECK(app.request("GET", "/login").status == 200);
  // JSON routes never answer with a form.
  CHECK(app.request("POST", "/restapi/server", "{}").body.find("<form") == std::string::npos);
  CHECK(app.request("GET", "/api/v1/devices").body.find("<form") == std::string::npos);

  http::Response wrong = app.request("POST", "/login", "token=s3+cret%3Bz");
  CHECK(wrong.status == 401);
  CHECK_FALSE(wrong.headers.get("Set-Cookie").has_value());
  CHECK(app.request("PUT", "/login").status == 405);

  http::Response ok = app.request("POST", "/login", "token=s3+cret%3Bx");
  REQUIRE(ok.status == 303);
  CHECK(ok.headers.get("Location") == std::optional<std::string_view>("/"));
  const std::string setCookie(ok.headers.get("Set-Cookie").value_or(""));
  // The token in hex (no quoting needed), script cannot read it, no other site sends it, TLS only.
  CHECK(setCookie == "uvmodbus_token=733320637265743b78; Path=/; HttpOnly; SameSite=Strict; Secure");
  const std::string cookie = setCookie.substr(0, setCookie.find(';'));
  CHECK(app.request("GET", "/api/server", {}, {}, "theme=dark; " + cookie).status == 200);
  CHECK(app.request("POST", "/restapi/server", "{}", {}, cookie).status == 200);
  CHECK(app.request("GET", "/api/server", {}, {}, "uvmodbus_token=7333").status == 401);
  // A wrong bearer header is not rescued by a right cookie: whoever sends a header means it.
  CHECK(app.request("GET", "/api/server", {}, "Bearer nope", cookie).status == 401);
}

TEST_CASE("simulator http: without TLS the login cookie is not marked Secure") {
  App app(SimulatorHttpOptions{"t", {}});
  http::Response ok = app.request("POST", "/login", "token=t");
  CHECK(ok.headers.get("Set-Cookie") == std::optional<std::string_view>("uvmodbus_token=74; Path=/; HttpOnly; SameSite=Strict"));
}

TEST_CASE("simulator http: static files are served from their folder and never from outside it") {
  const auto base = std::filesystem::temp_directory_path() / ("uvmodbus-simhttp-" + std::to_string(::getpid()));
  std::filesystem::create_directories(base / "web");
  std::ofstream(base / "secret.txt") << "secret";
  std::ofstream(base / "web" / "hello.txt") << "hello";
  {
    App app(SimulatorHttpOptions{{}, base / "web"});
    CHECK(app.request("GET", "/hello.txt").body == "hello");
    CHECK(app.request("GET", "/../secret.txt").status == 404);
    CHECK(app.request("GET", "/%2e%2e/secret.txt").status == 404);
    CHECK(app.request("GET", "/nothing").status == 404);
  }
  std::filesystem::remove_all(base);
}

TEST_CASE("simulator http: query strings become form fields, repeated fields a list") {
  CHECK(Json::parse(*queryAsJson("a=1&b=x+y%21&f=3&f=4&empty=")) ==
        Json{{"a", "1"}, {"b", "x y!"}, {"f", {"3", "4"}}, {"empty", ""}});
  CHECK_FALSE(queryAsJson("a=%zz").has_value());
  CHECK(isLoopbackHost("127.0.0.1"));
  CHECK(isLoopbackHost("::1"));
  CHECK_FALSE(isLoopbackHost("0.0.0.0"));
  CHECK(simulatorHttpEndpoint("127.0.0.1", 8081) == "tcp:8081:interface=127.0.0.1");
  CHECK(simulatorHttpEndpoint("::1", 0) == "tcp6:0:interface=\\:\\:1");
  CHECK(simulatorHttpEndpoint("127.0.0.1", 443, "/c/cert.pem", "/c/key.pem") ==
        "tls:443:interface=127.0.0.1:cert=/c/cert.pem:key=/c/key.pem:require_client_cert=false");
}
