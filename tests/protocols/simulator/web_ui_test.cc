// WebUi answered in process: the embedded files at / and /ui/, their content types, ETags and
// revalidation (304), paths that are not in the list, and SimulatorHttp's routes with and without
// a UI. The real UI in a browser: tests/browser/simulator_ui_test.py.
#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "protocols/simulator/simulator_http.h"
#include "protocols/simulator/simulator_server.h"
#include "protocols/simulator/web_ui.h"
#include "reactor/reactor.h"
#include "tests/support/subprocess.h"

namespace {

using namespace modbus;

const WebAsset kAssets[] = {
    {"index.html", "<!doctype html><title>ui</title>", "\"aaaa\""},
    {"app.js", "export const x = 1;", "\"bbbb\""},
    {"uplot/uPlot.min.css", ".u-legend{}", "\"cccc\""},
    {"favicon.svg", "<svg/>", "\"dddd\""},
};

http::Request get(const std::string& path, const std::string& ifNoneMatch = {}) {
  http::Request r;
  r.method = "GET";
  r.target = r.path = path;
  if (!ifNoneMatch.empty()) r.headers.add("If-None-Match", ifNoneMatch);
  return r;
}

std::string header(const http::Response& r, const char* name) { return std::string(r.headers.get(name).value_or("")); }

}  // namespace

TEST_CASE("WebUi serves each file with its content type, its ETag and no-cache") {
  WebUi ui(kAssets);
  http::Response index = ui.serve("index.html", get("/"));
  CHECK(index.status == 200);
  CHECK(index.body == "<!doctype html><title>ui</title>");
  CHECK(header(index, "Content-Type") == "text/html; charset=utf-8");
  CHECK(header(index, "ETag") == "\"aaaa\"");
  CHECK(header(index, "Cache-Control") == "no-cache");
  CHECK(header(index, "X-Content-Type-Options") == "nosniff");
  http::Response js = ui.serve("app.js", get("/ui/app.js"));
  CHECK(header(js, "Content-Type") == "text/javascript; charset=utf-8");
  CHECK(header(js, "ETag") == "\"bbbb\"");
  http::Response css = ui.serve("uplot/uPlot.min.css", get("/ui/uplot/uPlot.min.css"));
  CHECK(css.body == ".u-legend{}");
  CHECK(header(css, "Content-Type") == "text/css; charset=utf-8");
}

TEST_CASE("WebUi answers 304 with no body when If-None-Match names the file's ETag") {
  WebUi ui(kAssets);
  http::Response same = ui.serve("app.js", get("/ui/app.js", "\"bbbb\""));
  CHECK(same.status == 304);
  CHECK(same.body.empty());
  CHECK(header(same, "ETag") == "\"bbbb\"");
  CHECK(ui.serve("app.js", get("/ui/app.js", "W/\"zzzz\", W/\"bbbb\"")).status == 304);
  http::Response changed = ui.serve("app.js", get("/ui/app.js", "\"aaaa\""));  // another file's tag
  CHECK(changed.status == 200);
  CHECK(changed.body == "export const x = 1;");
}

TEST_CASE("etagMatches reads a list, weak tags and the wildcard") {
  CHECK(etagMatches("\"a\"", "\"a\""));
  CHECK(etagMatches(" \"x\" ,\t\"a\" ", "\"a\""));
  CHECK(etagMatches("W/\"a\"", "\"a\""));
  CHECK(etagMatches("*", "\"a\""));
  CHECK_FALSE(etagMatches("", "\"a\""));
  CHECK_FALSE(etagMatches("\"ab\"", "\"a\""));
  CHECK_FALSE(etagMatches("a", "\"a\""));
}

TEST_CASE("WebUi answers 404 for a file not embedded and for a path leaving the folder, index.html for the folder") {
  WebUi ui(kAssets);
  CHECK(ui.serve("missing.js", get("/ui/missing.js")).status == 404);
  CHECK(ui.serve("../index.html", get("/ui/../index.html")).status == 404);
  CHECK(ui.serve("uplot/..%2Fapp.js", get("/ui/uplot/..%2Fapp.js")).status == 404);
  CHECK(ui.serve("", get("/ui/")).body == kAssets[0].bytes);  // a folder means its index.html, as for static files
  CHECK(ui.serve("%zz", get("/ui/%zz")).status == 404);
}

TEST_CASE("WebUi refuses a set of files without index.html") {
  const WebAsset noIndex[] = {{"app.js", "x", "\"1\""}};
  CHECK_THROWS_AS(WebUi{noIndex}, std::invalid_argument);
}

TEST_CASE("SimulatorHttp serves the UI at /, its files at /ui/ and its icon at /favicon.ico, and without one the index page") {
  std::ifstream in(testsupport::sourceDir() + "/config/simulator.json");
  nlohmann::json setup = nlohmann::json::parse(in);
  setup["server_list"]["server"]["port"] = 0;
  reactor::Reactor reactor;
  auto simulator = SimulatorServer::fromText(reactor, setup.dump());
  const WebUi ui(kAssets);
  SimulatorHttpOptions options;
  options.ui = &ui;
  SimulatorHttp withUi(*simulator, nullptr, options);
  http::Request root = get("/");
  CHECK(withUi.handle(root).body == "<!doctype html><title>ui</title>");
  http::Request file = get("/ui/uplot/uPlot.min.css");
  CHECK(withUi.handle(file).body == ".u-legend{}");
  http::Request icon = get("/favicon.ico");
  http::Response iconAnswer = withUi.handle(icon);
  CHECK(iconAnswer.status == 200);
  CHECK(header(iconAnswer, "Content-Type") == "image/svg+xml");
  http::Request traversal = get("/ui/%2e%2e/index.html");
  CHECK(withUi.handle(traversal).status == 404);
  http::Request view = get("/api/registers");
  CHECK(withUi.handle(view).status == 200);  // pymodbus's pages are still there

  auto plain = SimulatorServer::fromText(reactor, setup.dump());
  SimulatorHttp withoutUi(*plain, nullptr, {});
  http::Request plainRoot = get("/");
  http::Response index = withoutUi.handle(plainRoot);
  CHECK(index.status == 200);
  CHECK(index.body.find("/api/registers") != std::string::npos);
  http::Request plainFile = get("/ui/app.js");
  CHECK(withoutUi.handle(plainFile).status == 404);
}
