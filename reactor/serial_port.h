// Port of twisted.internet.serialport.SerialPort (_posixserialport.py): a serial device as a
// stream transport. libserialport opens and configures the port, the reactor polls its descriptor
// (uv_poll_t on our own fd, never uv_tty_t: twisted-api.md §7.5). This header does not include
// <uv.h> or <libserialport.h>.
// Tests: tests/reactor/serial_port_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "reactor/interfaces.h"
#include "reactor/protocol.h"
#include "reactor/serial_options.h"

namespace reactor {

class Reactor;

/// The device could not be opened or configured. code() is a negative errno (libuv's convention)
/// or 0 when the cause has none.
class SerialPortError : public std::runtime_error {
 public:
  SerialPortError(const std::string& message, int code) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

/// A connected serial port: the protocol sees the same dataReceived / write / loseConnection /
/// connectionLost as over TCP. getPeer() and getHost() both name the device (Address::Type::Serial).
///
/// Opening: the device is opened with libserialport (sp_get_port_by_name, sp_open, sp_set_*).
/// libserialport 0.1.1 only knows devices listed under /sys/class/tty, which pseudo-terminals are
/// not; for any other terminal device the port is opened with open(2) and configured with termios
/// to the same settings (usesLibserialport() tells which). Then, as Twisted does, pending input and
/// output are flushed, protocol->makeConnection runs (so connectionMade runs inside open()), and
/// reading starts.
///
/// A device that goes away (a USB adapter pulled, a pseudo-terminal's master closed) ends in
/// connectionLost(ConnectionLost) with the errno of the failed read (EIO, ENXIO, ...) or UV_EOF.
/// loseConnection waits for queued bytes to reach the driver and for the driver's output queue
/// (TIOCOUTQ) to empty, at most 2 s plus twice the time the queue takes on the wire, then closes:
/// close(2) on a tty with unsent output may block for the driver's closing_wait (30 s), so the rest
/// is discarded. abortConnection discards pending output at once. reactor.stop() closes it like a
/// TCP connection. Reactor thread only.
class SerialPort : public ITransport {
 public:
  /// Opens `options.device`. Throws SerialPortError (with the device name and the reason: not found,
  /// busy, not a terminal, an unsupported setting, RS-485 not supported by the driver).
  static std::shared_ptr<SerialPort> open(Reactor& reactor, std::shared_ptr<Protocol> protocol,
                                          const SerialOptions& options);
  /// Twisted's SerialPort(protocol, deviceNameOrPortNumber, reactor, ...): `device` replaces
  /// options.device.
  static std::shared_ptr<SerialPort> open(Reactor& reactor, std::shared_ptr<Protocol> protocol, std::string device,
                                          SerialOptions options = {});
  /// Throws the SerialPortError open() would throw for settings out of range or a device that is
  /// missing, not a character device or not readable and writable — without opening it (opening a
  /// tty can toggle its modem lines): `uvmodbus-server --check`.
  static void check(const SerialOptions& options);

  /// The settings the port was opened with (baudrate updated by setBaudRate).
  virtual const SerialOptions& options() const = 0;
  /// True when libserialport opened the device, false for the termios fallback (pseudo-terminals).
  virtual bool usesLibserialport() const = 0;
  /// True when the kernel's RS-485 mode (TIOCSRS485) is on.
  virtual bool rs485Active() const = 0;

  // Twisted's BaseSerialPort extras.
  /// Throws SerialPortError when the driver refuses the rate.
  virtual void setBaudRate(std::uint32_t baudrate) = 0;
  /// Bytes received by the driver and not read yet (FIONREAD).
  virtual std::size_t inWaiting() const = 0;
  /// Bytes handed to the driver and not yet sent on the wire (TIOCOUTQ), plus bytes still queued here.
  virtual std::size_t outWaiting() const = 0;
  /// Discards what the driver received and we have not read.
  virtual void flushInput() = 0;
  /// Discards what is queued here and in the driver, unsent.
  virtual void flushOutput() = 0;
  /// Holds the line in break for `seconds` (without blocking the reactor).
  virtual void sendBreak(double seconds = 0.25) = 0;
  virtual bool getDSR() const = 0;
  virtual bool getCD() const = 0;
  virtual bool getRI() const = 0;
  virtual bool getCTS() const = 0;
  virtual void setDTR(bool on) = 0;
  virtual void setRTS(bool on) = 0;
};

}  // namespace reactor
