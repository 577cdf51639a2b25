// libFuzzer target: arbitrary bytes through the HTTP server's request path minus the socket — the
// libhttp-parser wrapper (protocols/http/detail/request_parser) and HttpServerProtocol with a
// router, embedded assets and an event stream, on an in-memory transport and a ManualClock.
// The first input byte picks how the rest is split into reads (1..64 bytes) and whether the limits
// are tight; at the end the clock runs past every deadline and the client goes away.
// Invariants ("no crash or stall on any input"): whatever the server writes starts with a status
// line; a refused request closes the connection; the parser never consumes more than it was given,
// and never reports NeedMore without consuming everything; nothing is answered after the close.
// Built with clang -fsanitize=fuzzer (tests/fuzz/CMakeLists.txt, -DUVMODBUS_FUZZ=ON): run it as
//   build-fuzz/tests/fuzz/fuzz_http -max_total_time=60 CORPUS_DIR   (docs/http.md has the configure line)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "protocols/http/detail/request_parser.h"
#include "protocols/http/event_stream.h"
#include "protocols/http/http_server.h"
#include "protocols/http/router.h"
#include "protocols/http/static_files.h"
#include "reactor/delayed_call.h"
#include "reactor/detail/access.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Records writes; never calls the protocol back (as Twisted's StringTransport).
class MemoryTransport final : public reactor::ITCPTransport {
 public:
  void write(reactor::ByteView data) override {
    if (!lost_) out.append(reactor::asText(data));
    if (disconnecting_ && !data.empty()) ++writesAfterClose;
  }
  void writeSequence(std::span<const reactor::ByteView> pieces) override {
    for (auto p : pieces) write(p);
  }
  void loseConnection() override { disconnecting_ = true; }
  void abortConnection() override { disconnecting_ = true; }
  reactor::Address getPeer() const override { return {}; }
  reactor::Address getHost() const override { return {}; }
  bool connected() const override { return !lost_; }
  bool disconnecting() const override { return disconnecting_; }
  std::size_t bufferedAmount() const override { return 0; }
  void setWriteHighWaterMark(std::size_t) override {}
  void registerProducer(std::shared_ptr<reactor::IProducer>, bool) override {}
  void unregisterProducer() override {}
  void pauseProducing() override {}
  void resumeProducing() override {}
  void stopProducing() override { disconnecting_ = true; }
  void setTcpNoDelay(bool) override {}
  bool getTcpNoDelay() const override { return true; }
  void setTcpKeepAlive(bool) override {}
  bool getTcpKeepAlive() const override { return false; }

  void lose(reactor::Protocol& p) {
    lost_ = true;
    reactor::detail::ProtocolAccess::markDisconnected(p);
    p.connectionLost(reactor::Failure::connectionDone());
  }

  std::string out;
  int writesAfterClose = 0;

 private:
  bool disconnecting_ = false;
  bool lost_ = false;
};

std::shared_ptr<http::Router> makeRouter() {
  static const char kIndex[] = "<h1>index</h1>";
  http::EmbeddedAssets assets;
  assets.add("index.html", kIndex);
  auto router = std::make_shared<http::Router>();
  router->get("/", assets.handler());
  router->get("/static/*", assets.handler());
  router->get("/api/v1/devices/{id}", [](http::Request& r) { return http::Response::text(200, std::string(r.param("id"))); });
  router->post("/api/v1/echo", [](http::Request& r) { return http::Response::text(200, r.body); });
  router->get("/events", [](http::Request&) {
    return http::Response::events([](std::shared_ptr<http::EventStream> s) { s->send("hello\nworld", "tick", "1"); });
  });
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static auto router = makeRouter();
  const std::size_t step = 1 + data[0] % 64;
  http::HttpOptions options;
  if (data[0] & 0x80) {
    options.maxHeaderBytes = 64;
    options.maxHeaderCount = 4;
    options.maxBodyBytes = 16;
  }
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

  // The parser alone: its accounting.
  {
    http::detail::RequestParser parser({options.maxHeaderBytes, options.maxHeaderCount, options.maxBodyBytes});
    std::string_view input = rest;
    for (int guard = 0; guard < 100000 && !input.empty(); ++guard) {
      auto r = parser.feed(input);
      check(r.consumed <= input.size());
      if (r.status == http::detail::RequestParser::Status::NeedMore) check(r.consumed == input.size());
      if (r.status == http::detail::RequestParser::Status::Error) {
        check(r.errorStatus == 400 || r.errorStatus == 413 || r.errorStatus == 431);
        break;
      }
      if (r.status == http::detail::RequestParser::Status::Request) {
        (void)parser.takeRequest();
        if (parser.upgraded()) break;
      }
      input.remove_prefix(r.consumed);
    }
  }

  // The protocol over an in-memory connection.
  reactor::ManualClock clock;
  auto transport = std::make_shared<MemoryTransport>();
  auto protocol = std::make_shared<http::HttpServerProtocol>(http::Router::asHandler(router), &clock, options);
  protocol->makeConnection(transport);
  while (!rest.empty()) {
    auto chunk = rest.substr(0, step);
    protocol->dataReceived(reactor::asBytes(chunk));
    rest.remove_prefix(chunk.size());
    clock.advance(1);
  }
  clock.advance(options.idleTimeout + options.requestTimeout + 1);
  check(transport->out.empty() || transport->out.rfind("HTTP/1.1 ", 0) == 0);
  check(transport->writesAfterClose == 0 || transport->out.find("text/event-stream") != std::string::npos);
  transport->lose(*protocol);
  return 0;
}
