// A serial device's descriptor, opened and configured through libserialport (or termios for
// terminals libserialport does not list, such as pseudo-terminals), ready for the reactor to poll.
// Tests: tests/reactor/serial_port_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "reactor/serial_options.h"

struct sp_port;

namespace reactor::detail {

class SerialDevice {
 public:
  /// Opens and configures `options.device`: non-blocking, raw, VMIN 1 / VTIME 0 (so that a read
  /// with no data says EAGAIN and a read of 0 bytes means hang-up), exclusive if asked, RS-485 if
  /// asked, input and output flushed. Throws SerialPortError.
  static std::unique_ptr<SerialDevice> open(const SerialOptions& options);
  /// SerialPort::check: what open() would refuse, short of opening.
  static void check(const SerialOptions& options);
  /// Closes the device if still open (discarding unsent output, never blocking).
  ~SerialDevice();
  SerialDevice(const SerialDevice&) = delete;
  SerialDevice& operator=(const SerialDevice&) = delete;

  int fd() const { return fd_; }
  bool usesLibserialport() const { return port_ != nullptr; }
  bool rs485Active() const { return rs485_; }

  /// Closes the descriptor. With discardOutput (or when the driver still holds output), unsent
  /// bytes are flushed first so that close(2) cannot block for the driver's closing_wait.
  void close(bool discardOutput);

  /// Throws SerialPortError.
  void setBaudRate(std::uint32_t baudrate);
  std::size_t inWaiting() const;
  std::size_t outWaiting() const;
  void flushInput();
  void flushOutput();
  void setBreak(bool on);
  /// A TIOCM_* bit of the modem status.
  bool modemBit(int bit) const;
  void setModemBit(int bit, bool on);

 private:
  SerialDevice() = default;
  void configureWithLibserialport(const SerialOptions& options);
  void configureWithTermios(const SerialOptions& options);
  void finishSetup(const SerialOptions& options);

  std::string name_;
  sp_port* port_ = nullptr;  // null for the termios fallback
  int fd_ = -1;
  bool rs485_ = false;
};

}  // namespace reactor::detail
