// Serial line settings (what Twisted's SerialPort and pyserial take as keyword arguments) and the
// "serial:" endpoint string: "serial:/dev/ttyUSB0:baudrate=19200:parity=E:stopbits=1".
// Tests: tests/reactor/serial_port_test.cc
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reactor/endpoints.h"

namespace reactor {

enum class Parity { None, Odd, Even, Mark, Space };
enum class FlowControl { None, RtsCts, XonXoff };

/// RS-485 direction control by the kernel driver (TIOCSRS485, linux/serial.h struct serial_rs485).
/// Adapters that switch direction by themselves (most USB RS-485 dongles) need none of it.
struct Rs485Options {
  bool enabled = false;
  bool rtsOnSend = true;       ///< RTS level while sending (SER_RS485_RTS_ON_SEND)
  bool rtsAfterSend = false;   ///< RTS level after sending (SER_RS485_RTS_AFTER_SEND)
  bool rxDuringTx = false;     ///< keep receiving while sending: we then hear our own echo
  std::uint32_t delayBeforeSendMs = 0;
  std::uint32_t delayAfterSendMs = 0;
};

/// How to open and configure a serial port. Defaults: 19200 8N1, no flow control (pymodbus's
/// serial defaults), opened for exclusive use (TIOCEXCL).
struct SerialOptions {
  /// "/dev/ttyUSB0", "/dev/serial/by-id/...", or a pseudo-terminal's slave path.
  std::string device;
  /// Any rate the driver takes (libserialport sets non-standard rates on Linux too).
  std::uint32_t baudrate = 19200;
  int dataBits = 8;  ///< 5..8
  Parity parity = Parity::None;
  int stopBits = 1;  ///< 1 or 2
  FlowControl flowControl = FlowControl::None;
  Rs485Options rs485;
  /// TIOCEXCL: a second open of the device fails (EBUSY) while we hold it.
  bool exclusive = true;

  /// "/dev/ttyUSB0 19200 8E1" (for log lines).
  std::string toString() const;
};

/// 'N', 'O', 'E', 'M', 'S'.
char parityLetter(Parity parity) noexcept;
/// From 'N'/'O'/'E'/'M'/'S' or "none"/"odd"/"even"/"mark"/"space" (any case); nullopt otherwise.
std::optional<Parity> parityFromName(std::string_view name) noexcept;

/// A "serial" endpoint: "serial:DEVICE" with keywords
///   baudrate= (1..4000000), bytesize= or databits= (5..8), parity= (N, E, O, M, S),
///   stopbits= (1, 2), flowcontrol= (none, rtscts, xonxoff) or Twisted's rtscts=1 / xonxoff=1,
///   rs485= (0/1), rs485_rts_on_send=, rs485_rts_after_send=, rs485_rx_during_tx= (0/1),
///   rs485_delay_before=, rs485_delay_after= (milliseconds), exclusive= (0/1).
/// The device may also come as device= or port=. Boolean values: 1/0, true/false, yes/no, on/off.
/// A ':' inside the device path must be escaped ("serial:/dev/serial/by-path/pci-0000\:00...").
/// Throws EndpointError for another type, a missing device, an unknown keyword or a bad value.
SerialOptions parseSerialEndpoint(const EndpointDescription& description);

}  // namespace reactor
