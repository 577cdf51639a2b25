// Tests for the key-exchange curves and session resumption of reactor/detail/tls_config.cc, driven
// by `openssl s_client` (a client we did not write) against listenTLS on 127.0.0.1. The reactor runs
// on the test's thread while s_client runs on another; the reactor stops once s_client has exited
// (a condition, not a delay). Certificates are made with openssl at test time (tests/support/certs).
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "reactor/endpoints.h"
#include "reactor/reactor.h"
#include "reactor/tls.h"
#include "tests/reactor/tls_test_support.h"
#include "tests/reactor/when.h"
#include "tests/support/certs.h"
#include "tests/support/reactor_harness.h"

using namespace reactor;
using reactor::testing::AccumulatingProtocol;
using reactor::testing::LoopCleanCheck;
using reactor::testing::runReactor;
using reactor::testing::stopIfRunning;
using reactor::testing::TestServerFactory;
using testsupport::CommandResult;
using testsupport::testCertificates;
using reactortest::when;
using tlstest::listenLocalTLS;
using tlstest::serverOptions;
using tlstest::tlsOf;

namespace {

/// A TLS server on 127.0.0.1 whose factory keeps every protocol it built (one per handshake that
/// succeeded), so that a test can look at each connection's peer certificate.
struct SessionServer {
  explicit SessionServer(Reactor& reactor, const TlsOptions& options)
      : reactor(reactor), factory(std::make_shared<TestServerFactory<>>()) {
    factory->setup = [this](AccumulatingProtocol& p) {
      p.onMade = [this](AccumulatingProtocol& q) {
        peers.push_back(tlsOf(q).peerCertificate().has_value());
      };
    };
    port = listenLocalTLS(reactor, factory, options);
  }
  ~SessionServer() { port->stopListening(); }

  /// Runs `openssl s_client` once per entry of `runs`, one after the other, with the client
  /// certificate and that entry's extra arguments, serving them meanwhile (a reactor runs only
  /// once). Each sends nothing and closes once its handshake is done. `between` runs on the reactor
  /// after the first s_client has exited (e.g. a reload).
  std::vector<CommandResult> sClients(std::vector<std::vector<std::string>> runs, std::function<void()> between = {}) {
    std::vector<CommandResult> results;
    startNext(runs, results, between);
    CHECK(runReactor(reactor, 60));
    return results;
  }

  Reactor& reactor;
  std::shared_ptr<TestServerFactory<>> factory;
  std::shared_ptr<ITLSListeningPort> port;
  std::vector<bool> peers;  // per connection: did it have the client's certificate

 private:
  void startNext(const std::vector<std::vector<std::string>>& runs, std::vector<CommandResult>& results,
                 const std::function<void()>& between) {
    if (results.size() == runs.size()) {
      stopIfRunning(reactor);
      return;
    }
    if (results.size() == 1 && between) between();
    const auto& c = testCertificates();
    std::vector<std::string> argv = {"openssl", "s_client", "-connect",
                                     "127.0.0.1:" + std::to_string(port->getHost().port),
                                     "-CAfile", c.ca.cert, "-cert", c.readerClient.cert, "-key", c.readerClient.key};
    const auto& extra = runs[results.size()];
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto run = std::make_shared<std::future<CommandResult>>(
        std::async(std::launch::async, [argv] { return testsupport::runCommand(argv, {}, 30); }));
    when(
        reactor, [run] { return run->wait_for(std::chrono::seconds(0)) == std::future_status::ready; },
        [this, run, &runs, &results, &between] {
          results.push_back(run->get());
          startNext(runs, results, between);
        });
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string sessionFile(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / ("uvmodbus-tls-session-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace

TEST_CASE("a TLS server negotiates x25519 by default, not mbedTLS's secp521r1") {
  LoopCleanCheck clean;
  Reactor reactor;
  SessionServer server(reactor, serverOptions());
  CommandResult r = server.sClients({{}}).at(0);
  INFO(r.out << r.err);
  CHECK(contains(r.out, "Server Temp Key: X25519"));
  CHECK(server.peers == std::vector<bool>{true});
}

TEST_CASE("a TLS server refuses a client that offers only curves outside its list (secp521r1 by default)") {
  LoopCleanCheck clean;
  Reactor reactor;
  SessionServer server(reactor, serverOptions());
  CommandResult r = server.sClients({{"-curves", "P-521"}}).at(0);
  INFO(r.out << r.err);
  CHECK(r.exitCode != 0);
  CHECK(server.peers.empty());
  CHECK(server.port->handshakesFailed() == 1);
}

TEST_CASE("the curves option chooses the key exchange, and an unknown curve name is refused") {
  LoopCleanCheck clean;
  Reactor reactor;
  TlsOptions options = serverOptions();
  options.curves = {"secp384r1"};
  SessionServer server(reactor, options);
  CommandResult r = server.sClients({{}}).at(0);
  INFO(r.out << r.err);
  CHECK(contains(r.out, "Server Temp Key: ECDH, secp384r1"));

  options.curves = {"x25519", "curve-of-doom"};
  CHECK_THROWS_WITH_AS(TlsContext::create(TlsSide::Server, options),
                       doctest::Contains("unknown curve 'curve-of-doom'"), TlsError);
}

TEST_CASE("a TLS session is resumed by session ticket, and the resumed connection keeps its client certificate") {
  LoopCleanCheck clean;
  Reactor reactor;
  SessionServer server(reactor, serverOptions());
  const std::string session = sessionFile("ticket.pem");
  auto runs = server.sClients({{"-sess_out", session}, {"-sess_in", session}});
  const CommandResult& first = runs.at(0);
  const CommandResult& again = runs.at(1);
  INFO(first.out << first.err);
  CHECK(contains(first.out, "New, TLSv1.2"));
  CHECK(contains(first.out, "TLS session ticket lifetime hint: 3600"));
  INFO(again.out << again.err);
  CHECK(contains(again.out, "Reused, TLSv1.2"));
  CHECK(server.peers == std::vector<bool>{true, true});
  CHECK(server.port->handshakesCompleted() == 2);
}

TEST_CASE("a TLS session is resumed by session id for a client without tickets") {
  LoopCleanCheck clean;
  Reactor reactor;
  SessionServer server(reactor, serverOptions());
  const std::string session = sessionFile("id.pem");
  auto runs = server.sClients({{"-no_ticket", "-sess_out", session}, {"-no_ticket", "-sess_in", session}});
  const CommandResult& first = runs.at(0);
  const CommandResult& again = runs.at(1);
  INFO(first.out << first.err);
  CHECK(contains(first.out, "New, TLSv1.2"));
  INFO(again.out << again.err);
  CHECK(contains(again.out, "Reused, TLSv1.2"));
  CHECK(server.peers == std::vector<bool>{true, true});
}

TEST_CASE("session_lifetime 0 turns resumption off: every handshake is a full one") {
  LoopCleanCheck clean;
  Reactor reactor;
  TlsOptions options = serverOptions();
  options.sessionLifetime = 0;
  SessionServer server(reactor, options);
  const std::string session = sessionFile("off.pem");
  auto runs = server.sClients({{"-sess_out", session}, {"-sess_in", session}});
  const CommandResult& again = runs.at(1);
  INFO(again.out << again.err);
  CHECK(contains(again.out, "New, TLSv1.2"));
  CHECK_FALSE(contains(again.out, "Reused"));
}

TEST_CASE("a session made before a certificate reload is not resumed after it") {
  LoopCleanCheck clean;
  Reactor reactor;
  SessionServer server(reactor, serverOptions());
  const std::string session = sessionFile("reload.pem");
  auto runs = server.sClients({{"-sess_out", session}, {"-sess_in", session}}, [&server] { server.port->reload(); });
  const CommandResult& again = runs.at(1);
  INFO(again.out << again.err);
  CHECK(contains(again.out, "New, TLSv1.2"));
}

TEST_CASE("the tls endpoint string takes curves, session_lifetime and session_cache") {
  const auto& c = testCertificates();
  const std::string files = ":cert=" + c.server.cert + ":key=" + c.server.key + ":ca=" + c.ca.cert;
  TlsOptions o = tlsOptionsFromEndpoint(
      parseEndpoint("tls:0" + files + ":curves=secp256r1,x25519:session_lifetime=600:session_cache=10"));
  CHECK(o.curves == std::vector<std::string>{"secp256r1", "x25519"});
  CHECK(o.sessionLifetime == 600);
  CHECK(o.sessionCacheSize == 10);
  TlsOptions d = tlsOptionsFromEndpoint(parseEndpoint("tls:0" + files));
  CHECK(d.curves.empty());  // the fast default list
  CHECK(d.sessionLifetime == 3600);
  CHECK(d.sessionCacheSize == 1024);
  CHECK_THROWS_AS(tlsOptionsFromEndpoint(parseEndpoint("tls:0" + files + ":session_lifetime=700000")), EndpointError);
}
