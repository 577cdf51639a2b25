// Tests for reactor/client_endpoints.cc: Twisted's clientFromString (tcp, unix, tls/ssl) and
// serverFromString's "unix" parser, driven through real sockets on loopback and in a temporary
// directory.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <memory>
#include <string>

#include "reactor/endpoints.h"
#include "reactor/reactor.h"
#include "reactor/tls.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/temp_dir.h"

using reactor::asBytes;
using reactor::ByteView;
using reactor::clientFromString;
using reactor::EndpointError;
using reactor::Reactor;
using reactor::serverFromString;
using namespace reactor::testing;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

/// Connects through `endpoint`, sends "ping", and runs until the server has it; returns what it got.
std::string pingThrough(Reactor& reactor, reactor::IStreamClientEndpoint& endpoint,
                        TestServerFactory<AccumulatingProtocol>& server) {
  server.setup = [&](AccumulatingProtocol& p) {
    p.onData = [&](AccumulatingProtocol& self, ByteView) {
      if (self.data == "ping") reactor.stop();
    };
  };
  auto client = std::make_shared<TestClientFactory<>>();
  client->setup = [](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& self) { self.transport().write(asBytes("ping")); };
  };
  endpoint.connect(client);
  runReactor(reactor);
  return server.protocols.empty() ? std::string() : server.protocols[0]->data;
}

}  // namespace

TEST_CASE("serverFromString unix: listens with the mode, the lockfile and the backlog given") {
  LoopCleanCheck clean;
  testsupport::TempDir dir("uvm-ep");
  const std::string path = dir.file("m.sock");
  Reactor reactor;
  auto endpoint = serverFromString(reactor, "unix:" + reactor::quoteStringArgument(path) + ":mode=0600:backlog=5");
  auto factory = std::make_shared<TestServerFactory<>>();
  auto port = endpoint->listen(factory);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(exists(path + ".lock"));  // lockfile defaults to on, as in Twisted
  port->stopListening();
  CHECK_FALSE(exists(path));
  CHECK_FALSE(exists(path + ".lock"));

  auto noLock = serverFromString(reactor, "unix:" + path + ":lockfile=0");
  auto second = noLock->listen(factory);
  CHECK_FALSE(exists(path + ".lock"));
  second->stopListening();
}

TEST_CASE("serverFromString unix: bad fields are EndpointErrors") {
  Reactor reactor;
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:mode=0999"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:mode=rw"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:lockfile=maybe"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:backlog=0"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:/tmp/x.sock:colour=red"), EndpointError);
  CHECK_THROWS_AS(serverFromString(reactor, "unix:"), EndpointError);
}

TEST_CASE("clientFromString tcp:host=H:port=P connects, and tcp:H:P too") {
  for (const char* form : {"tcp:host=127.0.0.1:port=%d:timeout=5", "tcp:127.0.0.1:%d"}) {
    CAPTURE(form);
    LoopCleanCheck clean;
    Reactor reactor;
    auto server = std::make_shared<TestServerFactory<>>();
    auto port = listenLocal(reactor, server);
    char text[80];
    std::snprintf(text, sizeof text, form, static_cast<int>(port->getHost().port));
    auto endpoint = clientFromString(reactor, text);
    CHECK(endpoint->describe() == "tcp:127.0.0.1:" + std::to_string(port->getHost().port));
    CHECK(pingThrough(reactor, *endpoint, *server) == "ping");
    port->stopListening();
  }
}

TEST_CASE("clientFromString unix:path=P and unix:P connect to a listenUNIX port") {
  testsupport::TempDir dir("uvm-ep");
  const std::string path = dir.file("c.sock");
  for (std::string form : {"unix:path=" + path + ":timeout=2", "unix:" + path}) {
    CAPTURE(form);
    LoopCleanCheck clean;
    Reactor reactor;
    auto server = std::make_shared<TestServerFactory<>>();
    auto port = reactor.listenUNIX(path, server);
    auto endpoint = clientFromString(reactor, form);
    CHECK(endpoint->describe() == "unix:" + path);
    CHECK(pingThrough(reactor, *endpoint, *server) == "ping");
    port->stopListening();
  }
}

TEST_CASE("clientFromString refuses what it cannot connect to, naming the problem") {
  Reactor reactor;
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "udp:host=1.2.3.4:port=5"), doctest::Contains("unknown client endpoint"),
                       EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "tcp:host=127.0.0.1"), doctest::Contains("port"), EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "tcp:port=502"), doctest::Contains("host"), EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "tcp:host=h:port=502:timeout=-1"), doctest::Contains("timeout"),
                       EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "tcp:host=h:port=70000"), doctest::Contains("port"), EndpointError);
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "unix:timeout=3"), doctest::Contains("path"), EndpointError);
  CHECK_THROWS_AS(clientFromString(reactor, "tcp:host=h:port=502:colour=red"), EndpointError);
}

TEST_CASE("clientFromString ssl: is tls:, and needs a CA unless verify=false") {
  Reactor reactor;
  CHECK_THROWS_WITH_AS(clientFromString(reactor, "ssl:host=127.0.0.1:port=802"), doctest::Contains("caCertsFile"),
                       EndpointError);
  auto endpoint = clientFromString(reactor, "ssl:host=127.0.0.1:port=802:verify=false");
  CHECK(endpoint->describe() == "tls:127.0.0.1:802");
  CHECK_THROWS_AS(clientFromString(reactor, "tls:host=127.0.0.1:port=802:caCertsFile=/nonexistent/ca.pem"),
                  reactor::TlsError);
}
