// Tests for protocols/console/console_protocol.h with reactor/testing.h's StringTransport and
// Clock: authentication (right, wrong, none in time), nothing executed before it, line and output
// limits, the session bound.
#include "protocols/console/console_protocol.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "reactor/testing.h"

namespace {

using modbus::ConsoleFactory;
using modbus::ConsoleOptions;
using modbus::ConsoleProtocol;
using reactor::testing::Clock;
using reactor::testing::StringTransport;

struct Fixture {
  std::shared_ptr<modbus::DeviceContext> device = std::make_shared<modbus::DeviceContext>(
      modbus::DeviceTables{.holdingRegisters = modbus::SequentialDataBlock<std::uint16_t>::create(0, 10, 5)});
  std::shared_ptr<modbus::ServerContext> context = modbus::ServerContext::single(device);
  int shutdowns = 0;
  modbus::Console console{modbus::ConsoleTarget{.context = context.get(), .shutdown = [this] { ++shutdowns; }}};
  Clock clock;
  std::shared_ptr<ConsoleFactory> factory;

  explicit Fixture(ConsoleOptions options = {})
      : factory(std::make_shared<ConsoleFactory>(console, "s3cret", options, &clock)) {}

  struct Session {
    std::shared_ptr<ConsoleProtocol> protocol;
    std::shared_ptr<StringTransport> transport = std::make_shared<StringTransport>();
    void feed(std::string_view text) { protocol->dataReceived(reactor::asBytes(text)); }
  };
  Session connect() {
    Session s;
    auto p = factory->buildProtocol(s.transport->getPeer());
    REQUIRE(p != nullptr);
    s.protocol = std::static_pointer_cast<ConsoleProtocol>(p);
    s.protocol->makeConnection(s.transport);
    return s;
  }
};

}  // namespace

TEST_CASE("console protocol: the right token opens the session, then commands run") {
  Fixture f;
  auto s = f.connect();
  s.feed("s3cret\n");
  CHECK(s.protocol->authenticated());
  CHECK(s.transport->value() == "uvmodbus console: type help\n");
  s.transport->clear();
  s.feed("read 1 hr 0 2\r\n");  // "\r\n" works as well as "\n"
  CHECK(s.transport->value() == "0 5\n1 5\nok\n");
  CHECK_FALSE(s.transport->disconnecting());
}

TEST_CASE("console protocol: a wrong token is refused and the connection closed and later lines never run") {
  Fixture f;
  auto s = f.connect();
  s.feed("guess\nshutdown\n");
  CHECK_FALSE(s.protocol->authenticated());
  CHECK(s.transport->value() == "error: wrong token\n");
  CHECK(s.transport->disconnecting());
  CHECK(f.shutdowns == 0);
}

TEST_CASE("console protocol: a command sent first is taken as a (wrong) token, never executed") {
  Fixture f;
  auto s = f.connect();
  s.feed("shutdown\n");
  CHECK(f.shutdowns == 0);
  CHECK(s.transport->value() == "error: wrong token\n");
  CHECK(s.transport->disconnecting());
  // A prefix or an extension of the token is no better.
  auto t = f.connect();
  t.feed("s3cre\n");
  CHECK(t.transport->disconnecting());
  auto u = f.connect();
  u.feed("s3cret \n");
  CHECK(u.transport->disconnecting());
}

TEST_CASE("console protocol: no token within authTimeout closes the connection but a session is not timed out") {
  Fixture f(ConsoleOptions{.authTimeout = 5});
  auto idle = f.connect();
  auto good = f.connect();
  good.feed("s3cret\n");
  idle.feed("s3c");  // half a token is still no token
  f.clock.advance(4.9);
  CHECK_FALSE(idle.transport->disconnecting());
  f.clock.advance(0.2);
  CHECK(idle.transport->disconnecting());
  CHECK_FALSE(good.transport->disconnecting());
}

TEST_CASE("console protocol: a line past maxLineLength is refused and closes the connection") {
  Fixture f(ConsoleOptions{.maxLineLength = 32});
  auto s = f.connect();
  s.feed("s3cret\n");
  s.transport->clear();
  s.feed(std::string(40, 'x'));
  CHECK(s.transport->value() == "error: line too long\n");
  CHECK(s.transport->disconnecting());
}

TEST_CASE("console protocol: a client that does not read is cut off past maxOutput") {
  Fixture f(ConsoleOptions{.maxOutput = 1000});
  auto s = f.connect();
  s.feed("s3cret\n");
  s.transport->setBufferedAmount(990);  // the kernel and libuv hold what it did not read
  s.feed("help\n");
  CHECK(s.transport->aborted());
  CHECK(s.transport->value() == "uvmodbus console: type help\n");  // nothing more was queued
}

TEST_CASE("console protocol: sessions past maxSessions are refused, and a closed one frees its place") {
  Fixture f(ConsoleOptions{.maxSessions = 2});
  auto a = f.connect();
  auto b = f.connect();
  CHECK(f.factory->buildProtocol(a.transport->getPeer()) == nullptr);
  a.transport->reportConnectionLost(*a.protocol);
  CHECK(f.factory->sessionCount() == 1);
  CHECK(f.factory->buildProtocol(a.transport->getPeer()) != nullptr);
}

TEST_CASE("console protocol: a tracing session that closes stops tracing") {
  Fixture f;
  auto s = f.connect();
  s.feed("s3cret\ntrace on\n");
  CHECK(f.console.tracingSessions() == 1);
  s.transport->reportConnectionLost(*s.protocol);
  CHECK(f.console.tracingSessions() == 0);
}
