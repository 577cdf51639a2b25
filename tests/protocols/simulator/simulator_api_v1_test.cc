// /api/v1 answered in process (no socket): every route is in docs/openapi.json and back, errors as
// JSON with their statuses, typed get and set in the cell's order, device and register faults
// seen by SimulatorCalls, and the call stream on an HTTP connection over a StringTransport (tapped
// only while a client listens, filtered, a slow client cut off). Over the network, with curl,
// urllib, pymodbus and libmodbus: tests/integration/simulator_api_v1_test.cc.
#include <doctest/doctest.h>

#include <array>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "datastore/simulator/cell_types.h"
#include "protocols/simulator/simulator_api_v1.h"
#include "protocols/simulator/simulator_call_stream.h"
#include "protocols/simulator/simulator_http.h"
#include "protocols/simulator/simulator_server.h"
#include "reactor/reactor.h"
#include "tests/protocols/http/http_test_support.h"
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
  std::unique_ptr<SimulatorHttp> http = std::make_unique<SimulatorHttp>(*simulator, nullptr);

  http::Response request(const std::string& method, const std::string& target, const std::string& body = {}) {
    http::Request r;
    r.method = method;
    r.target = target;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.body = body;
    return http->handle(r);
  }
  /// The answer's JSON, checking its status and type.
  Json call(const std::string& method, const std::string& target, int status, const Json& body = nullptr) {
    http::Response r = request(method, target, body.is_null() ? "" : body.dump());
    INFO(method << " " << target << " → " << r.status << " " << r.body);
    CHECK(r.status == status);
    CHECK(r.headers.get("Content-Type").value_or("") == "application/json");
    return Json::parse(r.body);
  }
  /// Runs one request PDU through the call hook as a stream server would; the response PDU is `answer`.
  void serve(std::uint8_t unit, std::vector<std::uint8_t> request, std::vector<std::uint8_t> answer) {
    std::array<std::uint8_t, 253> response{};
    std::copy(answer.begin(), answer.end(), response.begin());
    std::size_t length = answer.size();
    simulator->calls().onResponse(unit, request, response, length);
  }
};

/// "/api/v1/devices/{unit}" → "/api/v1/devices/{}": documents and routes may name parameters alike.
std::string shape(const std::string& pattern) {
  std::string out;
  bool inside = false;
  for (char c : pattern) {
    if (c == '{') inside = true, out += "{}";
    else if (c == '}') inside = false;
    else if (!inside) out += c;
  }
  return out;
}

void checkError(const Json& body, const std::string& code) {
  REQUIRE(body.contains("error"));
  CHECK(body["error"]["code"] == code);
  CHECK(body["error"]["message"].is_string());
  CHECK_FALSE(body["error"]["message"].get<std::string>().empty());
}

}  // namespace

TEST_CASE("api v1: docs/openapi.json is valid JSON, built in and served at /api/v1/openapi.json") {
  std::ifstream in(testsupport::sourceDir() + "/docs/openapi.json");
  std::stringstream file;
  file << in.rdbuf();
  const Json document = Json::parse(file.str());  // throws (fails the test) if it is not JSON
  CHECK(document["openapi"].get<std::string>().rfind("3.", 0) == 0);
  CHECK(Json::parse(simulatorOpenApiDocument()) == document);
  App app;
  CHECK(app.call("GET", "/api/v1/openapi.json", 200) == document);
}

TEST_CASE("api v1: every route the server has is in the OpenAPI document, and every documented operation is a route") {
  App app;
  const Json document = Json::parse(simulatorOpenApiDocument());
  std::set<std::string> documented, served;
  for (const auto& [path, item] : document["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      if (method == "parameters") continue;
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + shape(path));
      CHECK_MESSAGE(operation.contains("responses"), path, " ", method);
    }
  }
  for (const auto& [method, pattern] : app.http->apiV1().routes()) served.insert(method + " " + shape(pattern));
  CHECK(served.size() == app.http->apiV1().routes().size());  // no route twice
  for (const std::string& route : served) CHECK_MESSAGE(documented.count(route) == 1, route, " is not documented");
  for (const std::string& op : documented) CHECK_MESSAGE(served.count(op) == 1, op, " is documented but not served");
}

TEST_CASE("api v1: errors are JSON with their status: 400, 404, 405 with Allow, 409, 413, 422") {
  App app;
  checkError(app.call("GET", "/api/v1/devices/x", 400), "bad_request");
  checkError(app.call("GET", "/api/v1/devices/300", 400), "bad_request");
  checkError(app.call("GET", "/api/v1/nothing/here", 404), "not_found");
  checkError(app.call("GET", "/api/v1/devices/1/registers/nope/1", 404), "not_found");
  checkError(app.call("GET", "/api/v1/devices/1/registers/holding_registers/100", 404), "not_found");
  checkError(app.call("DELETE", "/api/v1/connections/12345", 404), "not_found");
  http::Response r = app.request("POST", "/api/v1/devices");
  CHECK(r.status == 405);
  CHECK(r.headers.get("Allow").value_or("") == "GET, HEAD");
  checkError(Json::parse(r.body), "method_not_allowed");
  checkError(app.call("PUT", "/api/v1/devices/1/registers/holding_registers/31", 409, {{"value", 1.5}}), "conflict");
  checkError(app.call("PUT", "/api/v1/devices/1/registers/holding_registers/0", 409, {{"value", 1}}), "conflict");
  checkError(app.call("PUT", "/api/v1/devices/1/registers/holding_registers/30", 413, {{"value", std::string(70000, 'x')}}),
             "payload_too_large");
  checkError(app.call("PUT", "/api/v1/devices/1/registers/holding_registers/10", 422, {{"value", 70000}}), "unprocessable");
  checkError(app.call("PUT", "/api/v1/devices/1/registers/holding_registers/10", 422, {{"value", 1.5}}), "unprocessable");
  checkError(app.call("PUT", "/api/v1/devices/1/registers/holding_registers/40", 422, {{"value", 5}}), "unprocessable");
  checkError(app.call("GET", "/api/v1/devices/1/registers/holding_registers/90?count=20", 422), "unprocessable");
  checkError(app.call("PUT", "/api/v1/devices/1", 422, {{"online", "no"}}), "unprocessable");
  checkError(app.call("PUT", "/api/v1/devices/1/fault", 422, {{"response", "explode"}}), "unprocessable");
  http::Response notJson = app.request("PUT", "/api/v1/devices/1", "{not json");
  CHECK(notJson.status == 400);
  checkError(Json::parse(notJson.body), "bad_request");
}

TEST_CASE("api v1: the bearer token guards /api/v1 too, and its 401 is JSON") {
  reactor::Reactor reactor;
  auto simulator = SimulatorServer::fromText(reactor, shippedSetup());
  SimulatorHttpOptions options;
  options.token = "s3cret";
  SimulatorHttp app(*simulator, nullptr, options);
  http::Request r;
  r.method = "GET";
  r.target = r.path = "/api/v1/devices";
  http::Response refused = app.handle(r);
  CHECK(refused.status == 401);
  checkError(Json::parse(refused.body), "unauthorized");
  r.headers.add("Authorization", "Bearer s3cret");
  CHECK(app.handle(r).status == 200);
}

TEST_CASE("api v1: a typed set writes a float32 in its cell's word order and reads back typed") {
  App app;
  // Cell 34 is a float32 with "word_order": "little": the low word first.
  Json r = app.call("PUT", "/api/v1/devices/1/registers/holding_registers/34", 200, {{"value", 1.5}});
  std::array<std::uint16_t, 2> expected{};
  simulator::encodeNumber(simulator::CellType::Float32, simulator::ValueOrder{true, false}, 1.5L, expected.data());
  REQUIRE(r["values"].size() == 1);
  CHECK(r["values"][0]["type"] == "float32");
  CHECK(r["values"][0]["word_order"] == "little");
  CHECK(r["values"][0]["value"] == 1.5);
  CHECK(r["values"][0]["registers"] == Json::array({expected[0], expected[1]}));
  CHECK(app.simulator->device().store->registerValue(34) == expected[0]);
  CHECK(expected[0] == 0);  // 1.5f is 0x3FC00000: the low word, 0, comes first
  // Several values at once, an int16 and a string, and bits.
  r = app.call("PUT", "/api/v1/devices/1/registers/holding_registers/10", 200, {{"values", {4321}}});
  CHECK(r["values"][0]["value"] == 4321);
  CHECK(app.call("PUT", "/api/v1/devices/1/registers/holding_registers/15", 200, {{"value", -7}})["values"][0]["value"] == -7);
  CHECK(app.call("PUT", "/api/v1/devices/1/registers/holding_registers/40", 200, {{"value", "hello"}})["values"][0]["value"] ==
        "hello     ");
  r = app.call("PUT", "/api/v1/devices/1/registers/coils/17", 200, {{"values", {false, true}}});
  CHECK(r["values"][0]["value"] == false);
  CHECK(r["values"][1]["value"] == true);
  // A read from inside a value answers the whole value; count covers addresses.
  r = app.call("GET", "/api/v1/devices/1/registers/holding_registers/31?count=3", 200);
  REQUIRE(r["values"].size() == 2);
  CHECK(r["values"][0]["address"] == 30);
  CHECK(r["values"][1]["address"] == 32);
}

TEST_CASE("api v1: devices go off line and back, and register and device faults reach the call hook") {
  App app;
  Json d = app.call("GET", "/api/v1/devices", 200);
  REQUIRE(d["devices"].size() == 1);
  CHECK(d["devices"][0]["every_unit"] == true);
  CHECK(d["devices"][0]["tables"]["holding_registers"] == 100);
  CHECK(app.call("PUT", "/api/v1/devices/1", 200, {{"online", false}})["online"] == false);
  CHECK(app.simulator->context()->find(1)->offline());
  CHECK(app.call("PUT", "/api/v1/devices/1", 200, {{"online", true}})["online"] == true);
  CHECK_FALSE(app.simulator->context()->find(1)->offline());

  Json f = app.call("PUT", "/api/v1/devices/1/faults/holding_registers/10", 200, {{"exception_code", 4}});
  CHECK(f["fault"]["exception_code"] == 4);
  CHECK(app.simulator->device().store->cell(10).fault == ExceptionCode::ServerDeviceFailure);
  CHECK(app.call("GET", "/api/v1/devices/1/faults", 200)["register_faults"].size() == 4);  // shared blocks: every table
  CHECK(app.call("DELETE", "/api/v1/devices/1/faults/holding_registers/10", 200)["fault"].is_null());
  CHECK(app.simulator->device().store->cell(10).fault == ExceptionCode::None);

  f = app.call("PUT", "/api/v1/devices/1/fault", 200, {{"response", "exception"}, {"exception_code", 6}, {"clear_after", 2}});
  CHECK(f["fault"]["response"] == "exception");
  std::array<std::uint8_t, 253> response{0x03, 0x02, 0x00, 0x01};
  std::size_t length = 4;
  const std::vector<std::uint8_t> request{0x03, 0x00, 0x0a, 0x00, 0x01};
  app.simulator->calls().onResponse(9, request, response, length);
  CHECK(length == 2);
  CHECK(response[0] == 0x83);
  CHECK(response[1] == 0x06);
  CHECK(app.call("GET", "/api/v1/devices/1/fault", 200)["fault"]["requests_seen"] == 1);
  length = 4;
  app.simulator->calls().onResponse(9, request, response, length);  // the second: clear_after reached
  CHECK(app.call("GET", "/api/v1/devices/1/fault", 200)["fault"].is_null());
  Json counters = app.call("GET", "/api/v1/counters", 200);
  CHECK(counters["requests_total"] == 2);
  CHECK(counters["exceptions"][0]["code"] == 6);
  CHECK(counters["exceptions"][0]["count"] == 2);
  CHECK(counters["devices"][0]["diagnostics"].size() == 8);
}

TEST_CASE("api v1: the call stream taps the calls only while a client listens, and filters them") {
  App app;
  SimulatorCalls& calls = app.simulator->calls();
  CHECK(calls.tap() == nullptr);
  {
    http::testing::Connection client(app.http->handler());
    client.send("GET /api/v1/calls/stream?unit=1&function_code=3 HTTP/1.1\r\n\r\n");
    CHECK(client.out().find("Content-Type: text/event-stream") != std::string::npos);
    CHECK(client.out().find(": subscribed") != std::string::npos);
    CHECK(calls.tap() != nullptr);
    CHECK(app.http->apiV1().streamSubscribers() == 1);
    app.serve(1, {0x03, 0x00, 0x0a, 0x00, 0x01}, {0x03, 0x02, 0x04, 0xd2});
    app.serve(2, {0x03, 0x00, 0x0a, 0x00, 0x01}, {0x03, 0x02, 0x04, 0xd2});  // another unit: filtered out
    app.serve(1, {0x06, 0x00, 0x0a, 0x00, 0x01}, {0x06, 0x00, 0x0a, 0x00, 0x01});  // another FC: filtered out
    const std::string out = client.out();
    CHECK(http::testing::occurrences(out, "event: call\n") == 1);
    const auto data = out.find("data: ");
    REQUIRE(data != std::string::npos);
    const Json event = Json::parse(out.substr(data + 6, out.find('\n', data) - data - 6));
    CHECK(event["unit"] == 1);
    CHECK(event["function_code"] == 3);
    CHECK(event["address"] == 10);
    CHECK(event["request"]["hex"] == "03 00 0a 00 01");
    CHECK(event["response"]["hex"] == "03 02 04 d2");
    CHECK(event["response"]["decoded"] == "read_holding_registers registers=[1234]");
    CHECK(event["delivery"] == "normal");
    client.lose();
    CHECK(app.http->apiV1().streamSubscribers() == 0);
  }
  CHECK(calls.tap() == nullptr);  // nobody listens: the Modbus path formats nothing
}

TEST_CASE("api v1: a call stream client that stops reading is cut off and the call is still answered") {
  App app;
  http::testing::Connection client(app.http->handler());
  client.send("GET /api/v1/calls/stream HTTP/1.1\r\n\r\n");
  REQUIRE(app.http->apiV1().streamSubscribers() == 1);
  client.transport->setBufferedAmount(std::size_t{1} << 30);  // the client has read nothing for a long time
  std::array<std::uint8_t, 253> response{0x03, 0x02, 0x04, 0xd2};
  std::size_t length = 4;
  const std::vector<std::uint8_t> request{0x03, 0x00, 0x0a, 0x00, 0x01};
  const ResponsePlan plan = app.simulator->calls().onResponse(1, request, response, length);
  CHECK(plan.kind == ResponsePlan::Kind::Send);
  CHECK(length == 4);  // the Modbus answer is untouched
  CHECK(client.transport->disconnecting());  // aborted
  CHECK(http::testing::occurrences(client.out(), "event: call") == 0);
  client.lose();
  CHECK(app.http->apiV1().streamSubscribers() == 0);
  CHECK(app.simulator->calls().tap() == nullptr);
}

TEST_CASE("api v1: a bad call stream filter is a 400, before any stream opens") {
  App app;
  checkError(app.call("GET", "/api/v1/calls/stream?function_code=0", 400), "bad_request");
  checkError(app.call("GET", "/api/v1/calls/stream?address_start=10&address_stop=5", 400), "bad_request");
  CHECK(app.http->apiV1().streamSubscribers() == 0);
}

TEST_CASE("api v1: CallStreamFilter passes by unit, function code and overlapping address range") {
  CallStreamFilter f;
  const std::vector<std::uint8_t> read10{0x03, 0x00, 0x0a, 0x00, 0x02};
  const std::vector<std::uint8_t> diagnostics{0x08, 0x00, 0x00, 0x12, 0x34};
  CHECK(f.passes(1, read10));
  CHECK(f.passes(1, diagnostics));
  f.byAddress = true;
  f.addressStart = 11;
  f.addressStop = 20;
  CHECK(f.passes(1, read10));  // 10-11 reaches 11
  CHECK_FALSE(f.passes(1, diagnostics));  // no address: out of any explicit range
  f.addressStart = 12;
  CHECK_FALSE(f.passes(1, read10));
  f = CallStreamFilter{};
  f.unit = 2;
  CHECK_FALSE(f.passes(1, read10));
  CHECK_FALSE(f.passes(2, std::vector<std::uint8_t>{}));
}
