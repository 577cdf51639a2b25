// Tests for reactor/detail/unix_port.cc and connectUNIX: Twisted's test_unix.py cases in our terms
// (UNIXTestsBuilder: addresses, the socket mode, the pid lockfile, removal on stopListening) and the
// MemoryReactor's record of listenUNIX/connectUNIX. Sockets live in a fresh temporary directory.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "reactor/reactor.h"
#include "tests/support/reactor_harness.h"
#include "tests/support/temp_dir.h"

using reactor::Address;
using reactor::asBytes;
using reactor::ByteView;
using reactor::CannotListenError;
using reactor::FailureType;
using reactor::Reactor;
using namespace reactor::testing;

namespace {

/// Echoes every chunk back.
class Echo : public AccumulatingProtocol {
 public:
  void dataReceived(ByteView bytes) override {
    AccumulatingProtocol::dataReceived(bytes);
    transport().write(bytes);
  }
};

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

unsigned permissions(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

/// A socket file left behind as a killed server leaves it: bound, then closed without unlink.
void leaveStaleSocket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
}

/// The pid of a process that has exited and been reaped: certainly dead.
pid_t deadPid() {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return child;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

}  // namespace

TEST_CASE("listenUNIX and connectUNIX carry bytes both ways with UNIX addresses") {
  LoopCleanCheck clean;
  testsupport::TempDir dir("uvm-unix");
  const std::string path = dir.file("echo.sock");
  Reactor reactor;
  auto serverFactory = std::make_shared<TestServerFactory<Echo>>();
  auto port = reactor.listenUNIX(path, serverFactory);
  CHECK(port->getHost() == Address{Address::Type::UNIX, path, 0, false});
  CHECK(port->getHost().toString() == "unix:" + path);

  auto clientFactory = std::make_shared<TestClientFactory<>>();
  clientFactory->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [](AccumulatingProtocol& self) { self.transport().write(asBytes("hello over unix")); };
    p.onData = [&](AccumulatingProtocol& self, ByteView) {
      if (self.data == "hello over unix") self.transport().loseConnection();
    };
    p.onLost = [&](AccumulatingProtocol&, const reactor::Failure&) { reactor.stop(); };
  };
  auto connector = reactor.connectUNIX(path, clientFactory, 5);
  CHECK(connector->getDestination() == Address{Address::Type::UNIX, path, 0, false});
  runReactor(reactor);

  REQUIRE(clientFactory->protocols.size() == 1);
  auto& client = *clientFactory->protocols[0];
  CHECK(client.data == "hello over unix");
  CHECK(client.lostCount == 1);
  CHECK(isOneOf(client.closedReason, {FailureType::ConnectionDone}));
  CHECK(client.transport().getPeer() == Address{Address::Type::UNIX, path, 0, false});
  REQUIRE(serverFactory->protocols.size() == 1);
  auto& server = *serverFactory->protocols[0];
  CHECK(server.data == "hello over unix");
  CHECK(server.transport().getHost() == Address{Address::Type::UNIX, path, 0, false});
  // The client end was never bound: Twisted's UNIXAddress(None).
  CHECK(server.transport().getPeer().type == Address::Type::UNIX);
  CHECK(server.transport().getPeer().host.empty());
  CHECK(serverFactory->lastAddress.type == Address::Type::UNIX);
  port->stopListening();
}

TEST_CASE("listenUNIX gives the socket file the requested mode, 0666 by default") {
  LoopCleanCheck clean;
  testsupport::TempDir dir("uvm-unix");
  Reactor reactor;
  auto factory = std::make_shared<TestServerFactory<>>();
  auto defaultPort = reactor.listenUNIX(dir.file("default.sock"), factory);
  auto privatePort = reactor.listenUNIX(dir.file("private.sock"), factory, 50, 0600);
  CHECK(permissions(dir.file("default.sock")) == 0666);
  CHECK(permissions(dir.file("private.sock")) == 0600);
  defaultPort->stopListening();
  privatePort->stopListening();
}

TEST_CASE("stopListening removes the socket file and the factory stops") {
  LoopCleanCheck clean;
  testsupport::TempDir dir("uvm-unix");
  const std::string path = dir.file("s.sock");
  Reactor reactor;
  auto factory = std::make_shared<TestServerFactory<>>();
  auto port = reactor.listenUNIX(path, factory);
  CHECK(exists(path));
  CHECK(factory->startCount == 1);
  port->stopListening();
  port->stopListening();  // idempotent
  CHECK_FALSE(exists(path));
  CHECK(factory->stopCount == 1);
  // The path is free again at once.
  auto again = reactor.listenUNIX(path, factory);
  again->stopListening();
}

TEST_CASE("listenUNIX without wantPID refuses a path that exists, naming it") {
  LoopCleanCheck clean;
  testsupport::TempDir dir("uvm-unix");
  const std::string path = dir.file("taken.sock");
  leaveStaleSocket(path);
  Reactor reactor;
  auto factory = std::make_shared<TestServerFactory<>>();
  try {
    reactor.listenUNIX(path, factory);
    FAIL("listenUNIX on an existing path did not throw");
  } catch (const CannotListenError& e) {
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK(e.code() == UV_EADDRINUSE);
  }
  CHECK(exists(path));  // not ours: left alone
  CHECK(factory->startCount == 0);
}

TEST_CASE("wantPID: a stale socket whose lock names a dead process is removed and reused") {
  LoopCleanCheck clean;
  testsupport::TempDir dir("uvm-unix");
  const std::string path = dir.file("s.sock");
  leaveStaleSocket(path);
  {
    std::ofstream lock(path + ".lock");
    lock << deadPid() << "\n";
  }
  Reactor reactor;
  auto factory = std::make_shared<TestServerFactory<>>();
  auto port = reactor.listenUNIX(path, factory, 50, 0666, true);
  CHECK(readFile(path + ".lock") == std::to_string(::getpid()));
  port->stopListening();
  CHECK_FALSE(exists(path));
  CHECK_FALSE(exists(path + ".lock"));
}

TEST_CASE("wantPID: a socket locked by a live process refuses with a clear error") {
  LoopCleanCheck clean;
  testsupport::TempDir dir("uvm-unix");
  const std::string path = dir.file("s.sock");
  Reactor reactor;
  auto factory = std::make_shared<TestServerFactory<>>();
  auto first = reactor.listenUNIX(path, factory, 50, 0666, true);
  try {
    reactor.listenUNIX(path, factory, 50, 0666, true);
    FAIL("a second wantPID listener on a live lock did not throw");
  } catch (const CannotListenError& e) {
    const std::string what = e.what();
    CHECK(what.find("live process " + std::to_string(::getpid())) != std::string::npos);
    CHECK(what.find(path + ".lock") != std::string::npos);
  }
  // The refused listener touched neither file.
  CHECK(exists(path));
  CHECK(readFile(path + ".lock") == std::to_string(::getpid()));
  first->stopListening();
  CHECK_FALSE(exists(path + ".lock"));
}

TEST_CASE("connectUNIX to a path nobody listens on fails with ConnectionRefused") {
  LoopCleanCheck clean;
  testsupport::TempDir dir("uvm-unix");
  Reactor reactor;
  auto factory = std::make_shared<TestClientFactory<>>();
  factory->onFailed = [&](reactor::IConnector&, const reactor::Failure&) { reactor.stop(); };
  reactor.connectUNIX(dir.file("nobody.sock"), factory, 5);
  runReactor(reactor);
  REQUIRE(factory->failures.size() == 1);
  CHECK(factory->failures[0].check(FailureType::ConnectionRefused));
  CHECK(factory->buildCalls == 0);
}

TEST_CASE("a UNIX socket path longer than sun_path is refused, not truncated") {
  LoopCleanCheck clean;
  Reactor reactor;
  const std::string path = "/tmp/" + std::string(200, 'x');
  auto factory = std::make_shared<TestServerFactory<>>();
  CHECK_THROWS_AS(reactor.listenUNIX(path, factory), CannotListenError);
  auto client = std::make_shared<TestClientFactory<>>();
  client->onFailed = [&](reactor::IConnector&, const reactor::Failure&) { reactor.stop(); };
  reactor.connectUNIX(path, client, 5);
  runReactor(reactor);
  REQUIRE(client->failures.size() == 1);
  CHECK(client->failures[0].getErrorMessage().find("longer than") != std::string::npos);
}

TEST_CASE("MemoryReactor records listenUNIX and connectUNIX") {
  MemoryReactor memory;
  auto factory = std::make_shared<TestServerFactory<>>();
  auto port = memory.listenUNIX("/run/x.sock", factory, 7, 0600, true);
  REQUIRE(memory.unixServers.size() == 1);
  CHECK(memory.unixServers[0].address == "/run/x.sock");
  CHECK(memory.unixServers[0].backlog == 7);
  CHECK(memory.unixServers[0].mode == 0600);
  CHECK(memory.unixServers[0].wantPID);
  CHECK(port->getHost() == Address{Address::Type::UNIX, "/run/x.sock", 0, false});
  auto client = std::make_shared<TestClientFactory<>>();
  auto connector = memory.connectUNIX("/run/x.sock", client, 3);
  REQUIRE(memory.unixClients.size() == 1);
  CHECK(memory.unixClients[0].timeout == 3);
  CHECK(connector->getDestination().type == Address::Type::UNIX);
}
