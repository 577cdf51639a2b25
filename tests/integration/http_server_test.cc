// The HTTP server on a real listening socket, driven by clients we did not write: curl and
// Python's urllib. The server runs on its own reactor thread bound to 127.0.0.1:0 (the port is read
// back); every client process is bounded by its own timeout and always reaped. No sleeps.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>

#include "protocols/http/detail/json_body.h"
#include "protocols/http/event_stream.h"
#include "protocols/http/http_server.h"
#include "protocols/http/router.h"
#include "protocols/http/static_files.h"
#include "reactor/reactor.h"
#include "tests/support/subprocess.h"

using namespace http;
namespace fs = std::filesystem;

namespace {

// A Router served on "tcp:0:interface=127.0.0.1" by a reactor on a thread of its own; the reactor is
// built, run and destroyed on that thread. The destructor stops it (at most 30 s, then crash).
class HttpServerThread {
 public:
  explicit HttpServerThread(std::shared_ptr<Router> router) {
    std::promise<std::uint16_t> ready;
    auto port = ready.get_future();
    thread_ = std::thread([this, router, &ready] {
      try {
        reactor::Reactor reactor;
        auto factory = std::make_shared<HttpServerFactory>(Router::asHandler(router), &reactor);
        auto listening = listenHTTP(reactor, "tcp:0:interface=127.0.0.1", factory);
        reactor_ = &reactor;
        ready.set_value(listening->getHost().port);
        reactor::DelayedCall limit = reactor.callLater(30, [&reactor] { reactor.crash(); });
        reactor.run(false);
        if (limit.active()) limit.cancel();
        listening->stopListening();
      } catch (...) {
        ready.set_exception(std::current_exception());
      }
    });
    port_ = port.get();
  }
  ~HttpServerThread() {
    reactor_->callFromThread([r = reactor_] {
      try {
        r->stop();
      } catch (const reactor::ReactorNotRunning&) {
      }
    });
    thread_.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  std::thread thread_;
  reactor::Reactor* reactor_ = nullptr;
  std::uint16_t port_ = 0;
};

struct Site {
  Site() {
    base = fs::temp_directory_path() / ("uvmodbus-http-it-" + std::to_string(::getpid()));
    fs::remove_all(base);
    fs::create_directories(base / "www");
    std::ofstream(base / "secret.txt") << "secret";
    std::ofstream(base / "www" / "index.html") << "<h1>uvmodbus</h1>";
  }
  ~Site() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  fs::path base;
};

std::shared_ptr<Router> makeRouter(const fs::path& www) {
  auto router = std::make_shared<Router>();
  router->get("/api/v1/hello", [](Request&) { return jsonResponse({{"hello", "world"}}); });
  router->get("/api/v1/devices/{id}", [](Request& r) { return jsonResponse({{"id", std::string(r.param("id"))}}); });
  router->post("/api/v1/sum", [](Request& r) {
    auto body = parseJsonBody(r);
    if (!body || !body->contains("values")) return jsonError(400, "no values");
    long long sum = 0;
    for (const auto& v : (*body)["values"]) sum += v.get<long long>();
    return jsonResponse({{"sum", sum}});
  });
  router->get("/events", [](Request&) {
    return Response::events([](std::shared_ptr<EventStream> s) {
      for (int i = 1; i <= 3; ++i) s->send("{\"n\":" + std::to_string(i) + "}", "tick");
      s->close();
    });
  });
  router->get("/static/*", StaticFiles(www).handler());
  return router;
}

// Runs a client to completion (at most 20 s); returns its exit code (-1 on timeout) and output.
std::pair<int, std::string> run(std::vector<std::string> argv) {
  testsupport::Subprocess p(std::move(argv));
  auto code = p.wait(20);
  return {code.value_or(-1), p.output()};
}

}  // namespace

TEST_CASE("curl: a JSON GET, a path parameter, and keep-alive across two requests") {
  Site site;
  HttpServerThread server(makeRouter(site.base / "www"));
  auto [code, out] = run({"/usr/bin/curl", "-sS", "-v", "--max-time", "10", server.url("/api/v1/hello"),
                          server.url("/api/v1/devices/a%20b")});
  CHECK(code == 0);
  CHECK(out.find("{\"hello\":\"world\"}") != std::string::npos);
  CHECK(out.find("{\"id\":\"a b\"}") != std::string::npos);
  CHECK(out.find("Re-using existing connection") != std::string::npos);
}

TEST_CASE("curl: a chunked JSON POST is de-chunked and answered") {
  Site site;
  HttpServerThread server(makeRouter(site.base / "www"));
  auto [code, out] = run({"/usr/bin/curl", "-sS", "--max-time", "10", "-H", "Transfer-Encoding: chunked", "-H",
                          "Content-Type: application/json", "--data-binary", "{\"values\":[1,2,39]}",
                          server.url("/api/v1/sum")});
  CHECK(code == 0);
  CHECK(out == "{\"sum\":42}");
}

TEST_CASE("curl: 404, 405 and path traversal statuses") {
  Site site;
  HttpServerThread server(makeRouter(site.base / "www"));
  auto status = [&](std::vector<std::string> extra, const std::string& path) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(server.url(path));
    return run(argv).second;
  };
  CHECK(status({}, "/nowhere") == "404");
  CHECK(status({"-X", "DELETE"}, "/api/v1/hello") == "405");
  CHECK(status({"--path-as-is"}, "/static/../secret.txt") == "404");
  CHECK(status({"--path-as-is"}, "/static/%2e%2e/secret.txt") == "404");
  CHECK(status({}, "/static/") == "200");
  auto [code, headers] = run({"/usr/bin/curl", "-sS", "--max-time", "10", "-i", "-X", "PUT", server.url("/api/v1/sum")});
  CHECK(code == 0);
  CHECK(headers.find("Allow: POST\r\n") != std::string::npos);
}

TEST_CASE("curl: a Server-Sent Events stream delivers its events and ends when the server closes it") {
  Site site;
  HttpServerThread server(makeRouter(site.base / "www"));
  auto [code, out] = run({"/usr/bin/curl", "-sS", "-N", "--max-time", "10", server.url("/events")});
  CHECK(code == 0);
  CHECK(out == "event: tick\ndata: {\"n\":1}\n\nevent: tick\ndata: {\"n\":2}\n\nevent: tick\ndata: {\"n\":3}\n\n");
}

TEST_CASE("python: urllib GETs and POSTs JSON and sees 405, a raw socket sees 413 and 431") {
  Site site;
  HttpServerThread server(makeRouter(site.base / "www"));
  const std::string script =
      "import json, socket, sys, urllib.request, urllib.error\n"
      "base = sys.argv[1]\n"
      "print(json.load(urllib.request.urlopen(base + '/api/v1/hello', timeout=10)))\n"
      "req = urllib.request.Request(base + '/api/v1/sum', data=b'{\"values\": [5, 6]}', method='POST',\n"
      "                             headers={'Content-Type': 'application/json'})\n"
      "print(json.load(urllib.request.urlopen(req, timeout=10)))\n"
      "try:\n"
      "    urllib.request.urlopen(urllib.request.Request(base + '/api/v1/hello', method='DELETE'), timeout=10)\n"
      "except urllib.error.HTTPError as e:\n"
      "    print(e.code, e.headers['Allow'])\n"
      "host, port = base[len('http://'):].split(':')\n"
      "for head in (b'POST /api/v1/sum HTTP/1.1\\r\\nContent-Length: 2000000\\r\\n\\r\\n',\n"
      "             b'GET / HTTP/1.1\\r\\nX: ' + b'v' * 10000 + b'\\r\\n\\r\\n'):\n"
      "    s = socket.create_connection((host, int(port)), timeout=10)\n"
      "    s.sendall(head)\n"
      "    answer = b''\n"
      "    while True:\n"
      "        chunk = s.recv(4096)\n"
      "        if not chunk: break\n"
      "        answer += chunk\n"
      "    print(answer.split(b'\\r\\n')[0].decode())\n";
  auto [code, out] = run({"/usr/bin/python3", "-c", script, server.url("")});
  CHECK(code == 0);
  CHECK(out ==
        "{'hello': 'world'}\n{'sum': 11}\n405 GET, HEAD\nHTTP/1.1 413 Content Too Large\n"
        "HTTP/1.1 431 Request Header Fields Too Large\n");
}
