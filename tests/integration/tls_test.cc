// Modbus/TCP Security end to end: ModbusTlsServer against pymodbus 3.0's asynchronous TLS client,
// `openssl s_client`, and connectTLS clients on the server's own reactor. Certificates are made
// with openssl at test time (tests/support/certs.h). Also the bare-PDU framer, byte by byte.
#include "protocols/servers/modbus_tls_server.h"

#include <doctest/doctest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "framers/bare_pdu_framer.h"
#include "reactor/log.h"
#include "reactor/reactor.h"
#include "reactor/tls.h"
#include "tests/support/certs.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/subprocess.h"

using namespace modbus;
using reactor::testing::AccumulatingProtocol;
using reactor::testing::LoopCleanCheck;
using reactor::testing::runReactor;
using reactor::testing::stopIfRunning;
using reactor::testing::TestClientFactory;
using testsupport::CertFiles;
using testsupport::CommandResult;
using testsupport::testCertificates;

namespace {

// --- fixtures -----------------------------------------------------------------------------------

/// Log lines from any thread (the server logs on its reactor thread).
class ThreadSafeLog {
 public:
  ThreadSafeLog() {
    reactor::log::setSink([this](reactor::log::Level, std::string_view line) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~ThreadSafeLog() { reactor::log::setSink(nullptr); }
  std::size_t count(std::string_view text) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    for (const auto& l : lines_) n += l.find(text) != std::string::npos ? 1 : 0;
    return n;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

/// One device for every unit: 100 of each, holding and input registers 17.
std::shared_ptr<DeviceContext> makeDevice() {
  return std::make_shared<DeviceContext>(DeviceTables{
      .coils = SequentialBitBlock::create(0, 100),
      .discreteInputs = SequentialBitBlock::create(0, 100),
      .holdingRegisters = SequentialRegisterBlock::create(0, 100, 17),
      .inputRegisters = SequentialRegisterBlock::create(0, 100, 17),
  });
}

std::string tlsEndpoint(const std::string& extra = {}) {
  const auto& c = testCertificates();
  return "tls:0:interface=127.0.0.1:cert=" + c.server.cert + ":key=" + c.server.key + ":ca=" + c.ca.cert + extra;
}

RoleTable issueRoles(std::optional<std::string> defaultRole = std::nullopt) {
  return parseRoleTable(R"({"Operator": {"functions": [1, 2, 3, 4, 5, 6, 15, 16]},
                            "Reader": {"functions": [1, 2, 3, 4]}})",
                        std::move(defaultRole));
}

/// A ModbusTlsServer on a reactor of its own in a background thread, for clients that are
/// processes. The destructor stops it and joins the thread.
class TlsServerThread {
 public:
  TlsServerThread(std::shared_ptr<DeviceContext> device, TlsServerOptions tls, ServerOptions options = {},
                  std::string endpoint = tlsEndpoint())
      : device_(std::move(device)) {
    auto ready = std::make_shared<std::promise<std::uint16_t>>();
    auto started = ready->get_future();
    thread_ = std::thread([this, tls = std::move(tls), options, endpoint, ready]() mutable {
      bool announced = false;
      try {
        reactor::Reactor reactor;
        ModbusTlsServer server(reactor, ServerContext::single(device_), std::move(tls), options);
        std::uint16_t port = server.listen(endpoint).port;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          reactor_ = &reactor;
          server_ = &server;
        }
        reactor.callWhenRunning([&announced, ready, port] {
          announced = true;
          ready->set_value(port);
        });
        reactor.run(false);
        std::lock_guard<std::mutex> lock(mutex_);
        reactor_ = nullptr;
        server_ = nullptr;
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        reactor_ = nullptr;
        server_ = nullptr;
        if (!announced) ready->set_exception(std::current_exception());
      }
    });
    if (started.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      std::fprintf(stderr, "TlsServerThread: the server did not start within 20 s\n");
      std::abort();  // the thread holds `this`: it can be neither joined nor left behind
    }
    try {
      port_ = started.get();
    } catch (...) {
      thread_.join();
      throw;
    }
  }
  ~TlsServerThread() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (reactor_ != nullptr) {
        reactor::Reactor* r = reactor_;
        ModbusTlsServer* s = server_;
        r->callFromThread([r, s] {
          s->shutdown();
          stopIfRunning(*r);
        });
      }
    }
    thread_.join();
  }
  TlsServerThread(const TlsServerThread&) = delete;
  TlsServerThread& operator=(const TlsServerThread&) = delete;

  std::uint16_t port() const { return port_; }

  /// Runs f on the reactor thread and returns its result.
  template <class F>
  auto call(F f) -> decltype(f(std::declval<ModbusTlsServer&>())) {
    using R = decltype(f(std::declval<ModbusTlsServer&>()));
    auto done = std::make_shared<std::promise<R>>();
    auto result = done->get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      REQUIRE(reactor_ != nullptr);
      ModbusTlsServer* s = server_;
      reactor_->callFromThread([done, f, s] { done->set_value(f(*s)); });
    }
    REQUIRE(result.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    return result.get();
  }

  std::uint16_t holding(std::uint16_t address) {
    return call([this, address](ModbusTlsServer&) { return device_->holdingRegisters()->getValues(address, 1).at(0); });
  }

 private:
  std::shared_ptr<DeviceContext> device_;
  std::thread thread_;
  std::mutex mutex_;
  reactor::Reactor* reactor_ = nullptr;
  ModbusTlsServer* server_ = nullptr;
  std::uint16_t port_ = 0;
};

/// pymodbus 3.0's asynchronous TLS client (tests/integration/py/tls_client.py).
CommandResult pymodbusClient(std::uint16_t port, const CertFiles& cert, const std::string& framer = "mbap",
                             const std::string& ops = "read,write") {
  return testsupport::runCommand({"/usr/bin/python3", testsupport::sourceDir() + "/tests/integration/py/tls_client.py",
                                  "--port", std::to_string(port), "--ca", testCertificates().ca.cert, "--cert", cert.cert,
                                  "--key", cert.key, "--framer", framer, "--ops", ops},
                                 {}, 60);
}

/// `openssl s_client` sending `input` and printing what comes back (it stays until the server
/// closes: the servers in these tests have a short idle timeout).
CommandResult sClient(std::uint16_t port, const CertFiles* cert, std::string_view input,
                      std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-quiet",
                                   "-ign_eof", "-CAfile", testCertificates().ca.cert};
  if (cert != nullptr) argv.insert(argv.end(), {"-cert", cert->cert, "-key", cert->key});
  argv.insert(argv.end(), extra.begin(), extra.end());
  return testsupport::runCommand(argv, input, 30);
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

/// Read holding registers 0..1 of unit 1, transaction id `tid` (MBAP).
std::string mbapRead(int tid) { return bytes({0, tid, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2}); }
/// Its answer when both registers hold 17.
std::string mbapReadAnswer(int tid) { return bytes({0, tid, 0, 0, 0, 7, 1, 3, 4, 0, 17, 0, 17}); }

ServerOptions shortIdle() {
  ServerOptions o;
  o.idleTimeout = 1.0;  // s_client leaves when we close
  return o;
}

void checkRefusedBySClient(const CertFiles* cert, std::vector<std::string> extra = {}) {
  ThreadSafeLog log;
  TlsServerThread server(makeDevice(), TlsServerOptions{.roles = issueRoles()}, shortIdle());
  CommandResult r = sClient(server.port(), cert, mbapRead(1), std::move(extra));
  CHECK_FALSE(r.timedOut);
  CHECK(r.exitCode != 0);
  CHECK(r.out.find(mbapReadAnswer(1)) == std::string::npos);
  CHECK(server.call([](ModbusTlsServer& s) { return s.ports().at(0)->handshakesFailed(); }) == 1);
  CHECK(server.call([](ModbusTlsServer& s) { return s.ports().at(0)->handshakesCompleted(); }) == 0);
  CHECK(server.call([](ModbusTlsServer& s) { return s.factory().connectionCount(); }) == 0);
  CHECK(log.count("TLS handshake with 127.0.0.1") == 1);
}

}  // namespace

// --- pymodbus 3.0 -------------------------------------------------------------------------------

TEST_CASE("pymodbus 3.0 TLS client with MBAP: a Reader can read and cannot write") {
  ThreadSafeLog log;
  TlsServerThread server(makeDevice(), TlsServerOptions{.roles = issueRoles()});
  CommandResult r = pymodbusClient(server.port(), testCertificates().readerClient);
  INFO(r.out << r.err);
  CHECK(r.exitCode == 0);
  CHECK(r.out == "connected\nread 17 17 17\nwrite exception 1\n");
  CHECK(server.holding(0) == 17);  // nothing executed
  CHECK(log.count("refused function 6 for unit 1 from 127.0.0.1") == 1);
  CHECK(log.count("role Reader: function code not allowed") == 1);
}

TEST_CASE("pymodbus 3.0 TLS client with MBAP: an Operator can read and write") {
  TlsServerThread server(makeDevice(), TlsServerOptions{.roles = issueRoles()});
  CommandResult r = pymodbusClient(server.port(), testCertificates().operatorClient);
  INFO(r.out << r.err);
  CHECK(r.exitCode == 0);
  CHECK(r.out == "connected\nread 17 17 17\nwrite ok\n");
  CHECK(server.holding(0) == 42);
}

TEST_CASE("pymodbus 3.0 TLS client with its own bare-PDU framing works with tls_framing bare_pdu") {
  TlsServerOptions tls{.roles = issueRoles(), .framing = TlsFraming::BarePdu, .barePduUnit = 1};
  TlsServerThread server(makeDevice(), std::move(tls));
  CommandResult r = pymodbusClient(server.port(), testCertificates().operatorClient, "tls");
  INFO(r.out << r.err);
  CHECK(r.exitCode == 0);
  CHECK(r.out == "connected\nread 17 17 17\nwrite ok\n");
  CHECK(server.holding(0) == 42);
}

TEST_CASE("a certificate without a role gets the configured default role, or nothing without one") {
  {
    TlsServerThread server(makeDevice(), TlsServerOptions{.roles = issueRoles("Reader")});
    CommandResult r = pymodbusClient(server.port(), testCertificates().noRoleClient);
    INFO(r.out << r.err);
    CHECK(r.out == "connected\nread 17 17 17\nwrite exception 1\n");
    CHECK(server.holding(0) == 17);
  }
  {
    TlsServerThread server(makeDevice(), TlsServerOptions{.roles = issueRoles()});
    CommandResult r = pymodbusClient(server.port(), testCertificates().noRoleClient);
    INFO(r.out << r.err);
    CHECK(r.out == "connected\nread exception 1\nwrite exception 1\n");
  }
}

TEST_CASE("without a roles table every client with a valid certificate may write") {
  TlsServerThread server(makeDevice(), TlsServerOptions{});
  CommandResult r = pymodbusClient(server.port(), testCertificates().noRoleClient);
  INFO(r.out << r.err);
  CHECK(r.out == "connected\nread 17 17 17\nwrite ok\n");
}

// --- openssl s_client ---------------------------------------------------------------------------

TEST_CASE("openssl s_client: the MBAP ADU travels inside TLS and pipelined requests are all answered") {
  TlsServerThread server(makeDevice(), TlsServerOptions{.roles = issueRoles()}, shortIdle());
  CommandResult r = sClient(server.port(), &testCertificates().readerClient, mbapRead(7) + mbapRead(8));
  INFO(r.err);
  CHECK_FALSE(r.timedOut);
  CHECK(r.exitCode == 0);
  CHECK(r.out == mbapReadAnswer(7) + mbapReadAnswer(8));
  // A write from the Reader: exception 01 in MBAP, transaction id kept.
  CommandResult w = sClient(server.port(), &testCertificates().readerClient, bytes({0, 9, 0, 0, 0, 6, 1, 6, 0, 0, 0, 5}));
  CHECK(w.out == bytes({0, 9, 0, 0, 0, 3, 1, 0x86, 1}));
  CHECK(server.holding(0) == 17);
}

TEST_CASE("openssl s_client without a client certificate is refused") { checkRefusedBySClient(nullptr); }

TEST_CASE("openssl s_client with a certificate from a foreign CA is refused") {
  checkRefusedBySClient(&testCertificates().foreignClient);
}

TEST_CASE("openssl s_client with an expired certificate is refused") {
  checkRefusedBySClient(&testCertificates().expiredClient);
}

TEST_CASE("openssl s_client offering only TLS 1.1 is refused by the server") {
  // SECLEVEL=0 lets OpenSSL 3 offer TLS 1.1 at all; the refusal must come from our side.
  checkRefusedBySClient(&testCertificates().operatorClient, {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
}

// --- on one reactor: reload and the handshake flood ---------------------------------------------

namespace {

/// A connectTLS client that sends MBAP reads on demand and collects the answers.
struct ModbusTlsTestClient {
  std::shared_ptr<TestClientFactory<>> factory = std::make_shared<TestClientFactory<>>();
  AccumulatingProtocol* protocol() const { return factory->protocols.empty() ? nullptr : factory->protocols[0].get(); }
  std::string serverSubject() const {
    auto* p = protocol();
    if (p == nullptr) return {};
    auto& tls = dynamic_cast<reactor::ITLSTransport&>(p->transport());
    return tls.peerCertificate() ? tls.peerCertificate()->subject : std::string();
  }
};

ModbusTlsTestClient connectClient(reactor::Reactor& reactor, std::uint16_t port, const CertFiles& cert,
                                  std::function<void(AccumulatingProtocol&)> onMade) {
  ModbusTlsTestClient c;
  c.factory->setup = [onMade](AccumulatingProtocol& p) { p.onMade = onMade; };
  reactor::TlsOptions o;
  o.caFile = testCertificates().ca.cert;
  o.serverName = "localhost";
  o.certFile = cert.cert;
  o.keyFile = cert.key;
  reactor::connectTLS(reactor, "127.0.0.1", port, c.factory, o, 5);
  return c;
}

void when(reactor::Reactor& reactor, std::function<bool()> ready, std::function<void()> then) {
  if (ready()) {
    then();
    return;
  }
  reactor.callLater(0.005, [&reactor, ready = std::move(ready), then = std::move(then)]() mutable {
    when(reactor, std::move(ready), std::move(then));
  });
}

}  // namespace

TEST_CASE("certificate reload takes effect for new connections, an open connection keeps working") {
  LoopCleanCheck clean;
  reactor::Reactor reactor;
  const auto& c = testCertificates();
  const std::string cert = c.dir + "/modbus-reload.pem";
  const std::string key = c.dir + "/modbus-reload.key";
  testsupport::writeTextFile(cert, testsupport::readTextFile(c.server.cert));
  testsupport::writeTextFile(key, testsupport::readTextFile(c.server.key));
  ModbusTlsServer server(reactor, ServerContext::single(makeDevice()), TlsServerOptions{.roles = issueRoles()});
  std::uint16_t port =
      server.listen("tls:0:interface=127.0.0.1:cert=" + cert + ":key=" + key + ":ca=" + c.ca.cert).port;
  ModbusTlsTestClient second;
  ModbusTlsTestClient first = connectClient(reactor, port, c.readerClient, [](AccumulatingProtocol& p) {
    p.transport().write(reactor::asBytes(mbapRead(1)));
  });
  when(reactor, [&] { return first.protocol() && first.protocol()->data == mbapReadAnswer(1); }, [&] {
    testsupport::writeTextFile(cert, testsupport::readTextFile(c.server2.cert));
    testsupport::writeTextFile(key, testsupport::readTextFile(c.server2.key));
    server.reloadCertificates();
    second = connectClient(reactor, port, c.operatorClient, [](AccumulatingProtocol& p) {
      p.transport().write(reactor::asBytes(mbapRead(2)));
    });
    when(reactor, [&] { return second.protocol() && second.protocol()->data == mbapReadAnswer(2); }, [&] {
      first.protocol()->transport().write(reactor::asBytes(mbapRead(3)));
      when(reactor, [&] { return first.protocol()->data == mbapReadAnswer(1) + mbapReadAnswer(3); },
           [&] { stopIfRunning(reactor); });
    });
  });
  runReactor(reactor, 15);
  CHECK(first.serverSubject().find("CN=uvmodbus test server") != std::string::npos);
  CHECK(first.serverSubject().find("server 2") == std::string::npos);
  CHECK(second.serverSubject().find("CN=uvmodbus test server 2") != std::string::npos);
  REQUIRE(first.protocol() != nullptr);
  CHECK(first.protocol()->data == mbapReadAnswer(1) + mbapReadAnswer(3));
  CHECK(server.ports().at(0)->context().generation() == 1);
  // A reload whose files are broken throws and keeps the current ones.
  testsupport::writeTextFile(key, "not a key");
  CHECK_THROWS_AS(server.reloadCertificates(), reactor::TlsError);
  CHECK(server.ports().at(0)->context().generation() == 1);
}

TEST_CASE("a flood of idle half-handshakes does not stop an established client") {
  LoopCleanCheck clean;
  ThreadSafeLog log;
  reactor::Reactor reactor;
  ModbusTlsServer server(reactor, ServerContext::single(makeDevice()), TlsServerOptions{.roles = issueRoles()});
  std::uint16_t port = server.listen(tlsEndpoint(":max_handshakes=3:handshake_timeout=30")).port;
  auto& tlsPort = *server.ports().at(0);
  constexpr int kFlood = 20;
  auto idle = std::make_shared<TestClientFactory<>>();
  ModbusTlsTestClient established = connectClient(reactor, port, testCertificates().readerClient,
                                                  [](AccumulatingProtocol& p) { p.transport().write(reactor::asBytes(mbapRead(1))); });
  bool answeredDuringFlood = false;
  when(reactor, [&] { return established.protocol() && established.protocol()->data == mbapReadAnswer(1); }, [&] {
    for (int i = 0; i < kFlood; ++i) reactor.connectTCP("127.0.0.1", port, idle, 5);
    when(reactor, [&] { return tlsPort.handshakesInProgress() == 3 && tlsPort.connectionsRefused() == kFlood - 3; },
         [&] {
           established.protocol()->transport().write(reactor::asBytes(mbapRead(2)));
           when(reactor, [&] { return established.protocol()->data == mbapReadAnswer(1) + mbapReadAnswer(2); }, [&] {
             answeredDuringFlood = tlsPort.handshakesInProgress() == 3;
             stopIfRunning(reactor);
           });
         });
  });
  runReactor(reactor, 20);
  CHECK(answeredDuringFlood);
  CHECK(tlsPort.connectionsRefused() == kFlood - 3);
  CHECK(tlsPort.handshakesCompleted() == 1);
  CHECK(log.count("max_handshakes") >= 1);
}

// --- the sample -----------------------------------------------------------------------------------

TEST_CASE("samples/05_tls_server makes its certificates on first start and enforces the issue's roles") {
  const std::string binary = testsupport::buildDir() + "/samples/05_tls_server";
  if (!std::filesystem::exists(binary)) {
    MESSAGE("05_tls_server not built (UVMODBUS_SAMPLES=OFF): skipped");
    return;
  }
  const std::string dir = testCertificates().dir + "/sample";
  testsupport::Subprocess sample({binary, dir, "0"});
  auto listening = sample.waitForLine(R"(listening on tls 127\.0\.0\.1:(\d+))", 60);
  REQUIRE_MESSAGE(listening.has_value(), sample.output());
  auto port = static_cast<std::uint16_t>(std::stoi(listening->at(1)));
  CHECK(std::filesystem::exists(dir + "/ca.pem"));
  CHECK(reactor::readCertificateFile(dir + "/reader.pem").role == std::optional<std::string>("Reader"));
  CommandResult r = testsupport::runCommand(
      {"/usr/bin/python3", testsupport::sourceDir() + "/tests/integration/py/tls_client.py", "--port",
       std::to_string(port), "--ca", dir + "/ca.pem", "--cert", dir + "/reader.pem", "--key", dir + "/reader.key"},
      {}, 60);
  INFO(r.out << r.err);
  CHECK(r.out == "connected\nread 17 17 17\nwrite exception 1\n");
  sample.signal(SIGTERM);
  CHECK(sample.wait(10) == std::optional<int>(0));
}

// --- BarePduFramer --------------------------------------------------------------------------------

TEST_CASE("bare-PDU framer: each input is one PDU for the configured unit, answered without a header") {
  BarePduFramer framer(5);
  const std::uint8_t request[] = {0x03, 0x00, 0x00, 0x00, 0x02};
  DecodeResult r = framer.decode(request);
  REQUIRE(r.status == DecodeStatus::Frame);
  CHECK(r.consumed == 5);
  CHECK(r.header.unitId == 5);
  CHECK(r.pdu.size() == 5);
  CHECK(r.pdu.data() == request);
  CHECK(framer.decode({}).status == DecodeStatus::NeedMore);
  std::vector<std::uint8_t> tooLong(254, 0x03);
  DecodeResult big = framer.decode(tooLong);
  CHECK(big.status == DecodeStatus::Discard);
  CHECK(big.consumed == 254);

  Buffer out;
  const std::uint8_t response[] = {0x03, 0x04, 0x00, 0x11, 0x00, 0x11};
  framer.encode(out, r.header, response);
  CHECK(std::vector<std::uint8_t>(out.readable().begin(), out.readable().end()) ==
        std::vector<std::uint8_t>(std::begin(response), std::end(response)));
  Buffer other;
  CHECK_THROWS_AS(framer.commitFrame(other, 1), std::logic_error);
  CHECK_THROWS_AS(framer.beginFrame(out, r.header, 254), std::length_error);
}
