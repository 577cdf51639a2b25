// Tests for SerialPort (reactor/serial_port.h, reactor/detail/serial_*.cc) on pseudo-terminals, and
// for the "serial:" endpoint parser (reactor/serial_options.cc).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <thread>

#include "reactor/failure.h"
#include "reactor/reactor.h"
#include "reactor/serial_options.h"
#include "reactor/serial_port.h"
#include "tests/support/pty_pair.h"
#include "tests/reactor/when.h"
#include "tests/support/reactor_harness.h"

namespace {

using reactor::FailureType;
using reactor::Reactor;
using reactor::SerialOptions;
using reactor::SerialPort;
using reactor::testing::AccumulatingProtocol;
using reactor::testing::LoopCleanCheck;
using reactor::testing::runReactor;
using reactor::testing::stopIfRunning;
using testsupport::Pty;

SerialOptions optionsFor(const Pty& pty, std::uint32_t baud = 9600) {
  SerialOptions o;
  o.device = pty.slavePath();
  o.baudrate = baud;
  return o;
}

/// Stops the reactor when the protocol loses its connection.
void stopOnLost(Reactor& reactor, AccumulatingProtocol& p) {
  p.onLost = [&reactor](AccumulatingProtocol&, const reactor::Failure&) { stopIfRunning(reactor); };
}

}  // namespace

TEST_CASE("a serial port on a pseudo-terminal receives what the other end writes") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  auto proto = std::make_shared<AccumulatingProtocol>();
  proto->onData = [&reactor](AccumulatingProtocol& self, reactor::ByteView) {
    if (self.data == "hello serial") stopIfRunning(reactor);
  };
  auto port = SerialPort::open(reactor, proto, optionsFor(pty));
  CHECK(proto->madeCount == 1);  // connectionMade runs inside open(), as in Twisted
  CHECK_FALSE(port->usesLibserialport());  // libserialport 0.1.1 does not list pseudo-terminals
  CHECK(port->getPeer().type == reactor::Address::Type::Serial);
  CHECK(port->getPeer().host == pty.slavePath());
  CHECK(port->getHost() == port->getPeer());
  CHECK(port->getPeer().toString() == pty.slavePath());
  CHECK(reactor.connectionCount() == 1);
  reactor.callLater(0.01, [&pty] { pty.write(std::string_view("hello ")); });
  reactor.callLater(0.03, [&pty] { pty.write(std::string_view("serial")); });
  runReactor(reactor, 5.0);
  CHECK(proto->data == "hello serial");
  port->abortConnection();
}

TEST_CASE("serial write reaches the other end and loseConnection closes with ConnectionDone") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  auto proto = std::make_shared<AccumulatingProtocol>();
  proto->onMade = [](AccumulatingProtocol& self) {
    self.transport().write(reactor::asBytes("ab"));
    reactor::ByteView pieces[] = {reactor::asBytes("c"), reactor::asBytes("de")};
    self.transport().writeSequence(pieces);
    self.transport().loseConnection();
    self.transport().loseConnection();  // idempotent
  };
  stopOnLost(reactor, *proto);
  auto port = SerialPort::open(reactor, proto, optionsFor(pty));
  CHECK(port->disconnecting());
  runReactor(reactor, 5.0);
  REQUIRE(proto->closedReason);
  CHECK(proto->closedReason->check(FailureType::ConnectionDone));
  CHECK(proto->lostCount == 1);
  CHECK_FALSE(proto->reentrantLoss);
  CHECK_FALSE(port->connected());
  CHECK(reactor.connectionCount() == 0);
  auto got = pty.read(5, 2.0);
  CHECK(std::string(got.begin(), got.end()) == "abcde");
  // Writes after connectionLost are ignored.
  port->write(reactor::asBytes("late"));
  CHECK(pty.readFor(0.05).empty());
}

TEST_CASE("a serial device that goes away ends in connectionLost with ConnectionLost") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  auto proto = std::make_shared<AccumulatingProtocol>();
  stopOnLost(reactor, *proto);
  auto port = SerialPort::open(reactor, proto, optionsFor(pty));
  reactor.callLater(0.02, [&pty] { pty.closeMaster(); });  // the "USB adapter" is pulled
  runReactor(reactor, 5.0);
  REQUIRE(proto->closedReason);
  CHECK(proto->closedReason->check(FailureType::ConnectionLost));
  CHECK(proto->closedReason->code() != 0);
  CHECK(proto->lostCount == 1);
  CHECK_FALSE(proto->reentrantLoss);
  CHECK(reactor.connectionCount() == 0);
}

TEST_CASE("abortConnection on a serial port ends in ConnectionAborted") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  auto proto = std::make_shared<AccumulatingProtocol>();
  stopOnLost(reactor, *proto);
  auto port = SerialPort::open(reactor, proto, optionsFor(pty));
  reactor.callLater(0.01, [&proto] {
    proto->busy([&] {
      proto->transport().abortConnection();
      proto->transport().abortConnection();
      proto->transport().loseConnection();
    });
  });
  runReactor(reactor, 5.0);
  REQUIRE(proto->closedReason);
  CHECK(proto->closedReason->check(FailureType::ConnectionAborted));
  CHECK(proto->lostCount == 1);
  CHECK_FALSE(proto->reentrantLoss);
}

TEST_CASE("opening a missing device throws SerialPortError naming it") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto proto = std::make_shared<AccumulatingProtocol>();
  SerialOptions o;
  o.device = "/dev/uvmodbus-no-such-tty";
  try {
    SerialPort::open(reactor, proto, o);
    FAIL("open should have thrown");
  } catch (const reactor::SerialPortError& e) {
    CHECK(std::string(e.what()).find("/dev/uvmodbus-no-such-tty") != std::string::npos);
    CHECK(e.code() < 0);
  }
  CHECK(proto->madeCount == 0);
  CHECK(reactor.connectionCount() == 0);
}

TEST_CASE("a file that is not a terminal is refused as a serial port") {
  LoopCleanCheck clean;
  Reactor reactor;
  auto proto = std::make_shared<AccumulatingProtocol>();
  try {
    SerialPort::open(reactor, proto, "/dev/null");
    FAIL("open should have thrown");
  } catch (const reactor::SerialPortError& e) {
    CHECK(std::string(e.what()).find("not a terminal") != std::string::npos);
  }
}

TEST_CASE("RS-485 mode on a device whose driver lacks it is refused with a clear message") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  auto proto = std::make_shared<AccumulatingProtocol>();
  SerialOptions o = optionsFor(pty);
  o.rs485.enabled = true;
  try {
    SerialPort::open(reactor, proto, o);
    FAIL("open should have thrown");
  } catch (const reactor::SerialPortError& e) {
    CHECK(std::string(e.what()).find("TIOCSRS485") != std::string::npos);
  }
  CHECK(proto->madeCount == 0);
}

TEST_CASE("bad serial settings are refused before the device is touched") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  auto proto = std::make_shared<AccumulatingProtocol>();
  SerialOptions o = optionsFor(pty);
  o.dataBits = 9;
  CHECK_THROWS_AS(SerialPort::open(reactor, proto, o), reactor::SerialPortError);
  o = optionsFor(pty);
  o.stopBits = 3;
  CHECK_THROWS_AS(SerialPort::open(reactor, proto, o), reactor::SerialPortError);
  o = optionsFor(pty, 12345);  // not a standard rate: termios cannot set it
  CHECK_THROWS_AS(SerialPort::open(reactor, proto, o), reactor::SerialPortError);
  CHECK_THROWS_AS(SerialPort::open(reactor, nullptr, optionsFor(pty)), std::invalid_argument);
  CHECK(proto->madeCount == 0);
}

TEST_CASE("the termios fallback sets stop bits, rate, flow control and raw mode") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  auto proto = std::make_shared<AccumulatingProtocol>();
  SerialOptions o = optionsFor(pty, 1200);
  o.dataBits = 7;
  o.parity = reactor::Parity::Even;
  o.stopBits = 2;
  o.flowControl = reactor::FlowControl::XonXoff;
  o.exclusive = false;
  auto port = SerialPort::open(reactor, proto, o);
  int fd = ::open(pty.slavePath().c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
  REQUIRE(fd >= 0);
  termios t{};
  REQUIRE(::tcgetattr(fd, &t) == 0);
  // The pty driver forces CS8 and no parity whatever is asked (pty_set_termios); the rest sticks.
  CHECK((t.c_cflag & CSIZE) == CS8);
  CHECK((t.c_cflag & CSTOPB) != 0);
  CHECK((t.c_iflag & IXON) != 0);
  CHECK((t.c_lflag & (ICANON | ECHO)) == 0);  // raw
  CHECK((t.c_iflag & ICRNL) == 0);            // CR reaches the ASCII framer as CR
  CHECK(t.c_cc[VMIN] == 1);
  CHECK(cfgetospeed(&t) == B1200);
  port->setBaudRate(19200);
  CHECK(port->options().baudrate == 19200);
  REQUIRE(::tcgetattr(fd, &t) == 0);
  CHECK(cfgetospeed(&t) == B19200);
  CHECK_THROWS_AS(port->setBaudRate(12345), reactor::SerialPortError);
  ::close(fd);
  stopOnLost(reactor, *proto);
  port->abortConnection();
  runReactor(reactor, 5.0);
  CHECK(proto->lostCount == 1);
}

TEST_CASE("a serial port is opened exclusively unless told otherwise") {
  LoopCleanCheck clean;
  for (bool exclusive : {true, false}) {
    CAPTURE(exclusive);
    Reactor reactor;
    Pty pty;
    auto proto = std::make_shared<AccumulatingProtocol>();
    SerialOptions o = optionsFor(pty);
    o.exclusive = exclusive;
    auto port = SerialPort::open(reactor, proto, o);
    int fd = ::open(pty.slavePath().c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      // Without CAP_SYS_ADMIN, TIOCEXCL refuses the second open.
      CHECK(exclusive);
      CHECK(errno == EBUSY);
    } else {
      int excl = -1;
      REQUIRE(::ioctl(fd, TIOCGEXCL, &excl) == 0);
      CHECK(excl == (exclusive ? 1 : 0));
      ::close(fd);
    }
    stopOnLost(reactor, *proto);
    port->abortConnection();
    runReactor(reactor, 5.0);
    CHECK(proto->lostCount == 1);
  }
}

TEST_CASE("reactor.stop closes an open serial port with ConnectionDone") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  auto proto = std::make_shared<AccumulatingProtocol>();
  auto port = SerialPort::open(reactor, proto, optionsFor(pty));
  reactor.callLater(0.01, [&reactor] { reactor.stop(); });
  runReactor(reactor, 5.0);
  REQUIRE(proto->closedReason);
  CHECK(proto->closedReason->check(FailureType::ConnectionDone));
  CHECK(reactor.connectionCount() == 0);
}

TEST_CASE("pauseProducing on a serial port holds input until resumeProducing") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  auto proto = std::make_shared<AccumulatingProtocol>();
  proto->onData = [&reactor](AccumulatingProtocol& self, reactor::ByteView) {
    if (self.data == "xy") stopIfRunning(reactor);
  };
  auto port = SerialPort::open(reactor, proto, optionsFor(pty));
  port->pauseProducing();
  std::string seenWhilePaused = "unset";
  REQUIRE(pty.write(std::string_view("xy")));
  // Once both bytes wait in the driver (a condition, not a delay), nothing may have been read.
  reactortest::when(
      reactor, [&] { return port->inWaiting() == 2; },
      [&] {
        seenWhilePaused = proto->data;
        CHECK(port->inWaiting() == 2);
        port->resumeProducing();
      });
  runReactor(reactor, 5.0);
  CHECK(seenWhilePaused.empty());
  CHECK(proto->data == "xy");
  port->abortConnection();
}

TEST_CASE("a large serial write is queued and all of it reaches the other end") {
  LoopCleanCheck clean;
  Reactor reactor;
  Pty pty;
  constexpr std::size_t kSize = 200 * 1024;  // far beyond what a pseudo-terminal buffers
  std::string payload(kSize, '\0');
  for (std::size_t i = 0; i < kSize; ++i) payload[i] = static_cast<char>('a' + i % 26);
  testsupport::Bytes received;
  std::thread reader([&] { received = pty.read(kSize, 10.0); });
  auto proto = std::make_shared<AccumulatingProtocol>();
  proto->onMade = [&payload](AccumulatingProtocol& self) {
    self.transport().write(reactor::asBytes(payload));
    CHECK(self.transport().bufferedAmount() > 0);
    self.transport().loseConnection();
  };
  stopOnLost(reactor, *proto);
  auto port = SerialPort::open(reactor, proto, optionsFor(pty));
  runReactor(reactor, 10.0);
  reader.join();
  CHECK(received.size() == kSize);
  CHECK(std::string(received.begin(), received.end()) == payload);
  REQUIRE(proto->closedReason);
  CHECK(proto->closedReason->check(FailureType::ConnectionDone));
}

TEST_CASE("serial endpoint strings give device, rate, framing, flow control and RS-485") {
  using reactor::parseEndpoint;
  using reactor::parseSerialEndpoint;
  auto o = parseSerialEndpoint(parseEndpoint("serial:/dev/ttyUSB0:baudrate=19200:parity=E:stopbits=1"));
  CHECK(o.device == "/dev/ttyUSB0");
  CHECK(o.baudrate == 19200);
  CHECK(o.parity == reactor::Parity::Even);
  CHECK(o.stopBits == 1);
  CHECK(o.dataBits == 8);
  CHECK(o.flowControl == reactor::FlowControl::None);
  CHECK_FALSE(o.rs485.enabled);
  CHECK(o.exclusive);
  CHECK(o.toString() == "/dev/ttyUSB0 19200 8E1");

  auto d = parseSerialEndpoint(parseEndpoint("serial:device=/dev/ttyS1"));
  CHECK(d.device == "/dev/ttyS1");
  CHECK(d.baudrate == 19200);  // pymodbus's default, 8N1
  CHECK(d.parity == reactor::Parity::None);

  auto f = parseSerialEndpoint(parseEndpoint(
      "serial:/dev/ttyAMA0:baudrate=115200:bytesize=7:parity=odd:stopbits=2:flowcontrol=rtscts:rs485=1:"
      "rs485_delay_before=2:rs485_rts_after_send=yes:exclusive=0"));
  CHECK(f.baudrate == 115200);
  CHECK(f.dataBits == 7);
  CHECK(f.parity == reactor::Parity::Odd);
  CHECK(f.stopBits == 2);
  CHECK(f.flowControl == reactor::FlowControl::RtsCts);
  CHECK(f.rs485.enabled);
  CHECK(f.rs485.delayBeforeSendMs == 2);
  CHECK(f.rs485.rtsAfterSend);
  CHECK(f.rs485.rtsOnSend);
  CHECK_FALSE(f.exclusive);
  CHECK(parseSerialEndpoint(parseEndpoint("serial:/dev/x:xonxoff=1")).flowControl == reactor::FlowControl::XonXoff);
  CHECK(parseSerialEndpoint(parseEndpoint("serial:/dev/x:rtscts=true")).flowControl == reactor::FlowControl::RtsCts);
  // A path with ':' in it, escaped.
  CHECK(parseSerialEndpoint(parseEndpoint("serial:/dev/serial/by-path/pci-0000\\:00\\:14.0")).device ==
        "/dev/serial/by-path/pci-0000:00:14.0");

  using reactor::EndpointError;
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("tcp:502")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:parity=Q")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:stopbits=3")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:bytesize=9")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:baudrate=fast")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:speed=9600")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:rtscts=1:xonxoff=1")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:flowcontrol=dtrdsr")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:rs485_delay_before=1")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:device=/dev/y")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/x:exclusive=maybe")), EndpointError);
  CHECK_THROWS_AS(parseSerialEndpoint(parseEndpoint("serial:/dev/a:/dev/b")), EndpointError);
}
