// SerialDevice: libserialport for the ports it knows, termios for other terminals (pseudo-terminals
// have no /sys/class/tty entry, so libserialport 0.1.1's sp_get_port_by_name refuses them).
#include "reactor/detail/serial_device.h"

#include <fcntl.h>
#include <libserialport.h>
#include <linux/serial.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "reactor/log.h"
#include "reactor/serial_port.h"

namespace reactor::detail {

namespace {

[[noreturn]] void failErrno(const std::string& what, int err) {
  throw SerialPortError(what + ": " + std::strerror(err), -err);
}

/// Throws for a libserialport call that did not return SP_OK.
void checkSp(sp_return rc, const std::string& what) {
  if (rc == SP_OK) return;
  if (rc == SP_ERR_FAIL) {
    int code = sp_last_error_code();
    char* msg = sp_last_error_message();
    std::string text = msg != nullptr ? msg : "failed";
    sp_free_error_message(msg);
    throw SerialPortError(what + ": " + text, -code);
  }
  if (rc == SP_ERR_SUPP) throw SerialPortError(what + ": not supported by this port or platform", -ENOTSUP);
  if (rc == SP_ERR_MEM) throw SerialPortError(what + ": out of memory", -ENOMEM);
  throw SerialPortError(what + ": invalid argument", -EINVAL);
}

sp_parity toSp(Parity p) {
  switch (p) {
    case Parity::None: return SP_PARITY_NONE;
    case Parity::Odd: return SP_PARITY_ODD;
    case Parity::Even: return SP_PARITY_EVEN;
    case Parity::Mark: return SP_PARITY_MARK;
    case Parity::Space: return SP_PARITY_SPACE;
  }
  return SP_PARITY_NONE;
}

sp_flowcontrol toSp(FlowControl f) {
  switch (f) {
    case FlowControl::None: return SP_FLOWCONTROL_NONE;
    case FlowControl::RtsCts: return SP_FLOWCONTROL_RTSCTS;
    case FlowControl::XonXoff: return SP_FLOWCONTROL_XONXOFF;
  }
  return SP_FLOWCONTROL_NONE;
}

void validate(const SerialOptions& o) {
  if (o.device.empty()) throw SerialPortError("serial port: no device given", -EINVAL);
  if (o.dataBits < 5 || o.dataBits > 8) {
    throw SerialPortError(o.device + ": data bits must be 5..8, not " + std::to_string(o.dataBits), -EINVAL);
  }
  if (o.stopBits != 1 && o.stopBits != 2) {
    throw SerialPortError(o.device + ": stop bits must be 1 or 2, not " + std::to_string(o.stopBits), -EINVAL);
  }
  if (o.baudrate == 0) throw SerialPortError(o.device + ": baud rate 0", -EINVAL);
}

}  // namespace

std::unique_ptr<SerialDevice> SerialDevice::open(const SerialOptions& options) {
  validate(options);
  std::unique_ptr<SerialDevice> d(new SerialDevice);
  d->name_ = options.device;
  sp_port* port = nullptr;
  if (sp_get_port_by_name(options.device.c_str(), &port) == SP_OK) {
    d->port_ = port;
    d->configureWithLibserialport(options);
  } else {
    log::debug(options.device, ": not listed by libserialport; opening it with termios");
    d->configureWithTermios(options);
  }
  d->finishSetup(options);
  return d;
}

void SerialDevice::check(const SerialOptions& options) {
  validate(options);
  const std::string& n = options.device;
  struct stat st {};
  if (::stat(n.c_str(), &st) != 0) failErrno("cannot open " + n, errno);
  if (!S_ISCHR(st.st_mode)) throw SerialPortError("cannot open " + n + ": not a terminal device", -ENOTTY);
  if (::access(n.c_str(), R_OK | W_OK) != 0) failErrno("cannot open " + n, errno);
}

void SerialDevice::configureWithLibserialport(const SerialOptions& o) {
  const std::string& n = o.device;
  checkSp(sp_open(port_, SP_MODE_READ_WRITE), "cannot open " + n);
  if (sp_get_port_handle(port_, &fd_) != SP_OK || fd_ < 0) {
    throw SerialPortError("cannot open " + n + ": libserialport gave no descriptor", -EBADF);
  }
  checkSp(sp_set_baudrate(port_, static_cast<int>(o.baudrate)), n + ": baud rate " + std::to_string(o.baudrate));
  checkSp(sp_set_bits(port_, o.dataBits), n + ": data bits " + std::to_string(o.dataBits));
  checkSp(sp_set_parity(port_, toSp(o.parity)), n + std::string(": parity ") + parityLetter(o.parity));
  checkSp(sp_set_stopbits(port_, o.stopBits), n + ": stop bits " + std::to_string(o.stopBits));
  checkSp(sp_set_flowcontrol(port_, toSp(o.flowControl)), n + ": flow control");
}

void SerialDevice::configureWithTermios(const SerialOptions& o) {
  const std::string& n = o.device;
  fd_ = ::open(n.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) failErrno("cannot open " + n, errno);
  if (!::isatty(fd_)) throw SerialPortError("cannot open " + n + ": not a terminal device", -ENOTTY);
  termios t{};
  if (::tcgetattr(fd_, &t) != 0) failErrno(n + ": tcgetattr", errno);
  ::cfmakeraw(&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cflag &= ~static_cast<tcflag_t>(HUPCL | CSIZE | PARENB | PARODD | CMSPAR | CSTOPB | CRTSCTS);
  static const tcflag_t kSizes[] = {CS5, CS6, CS7, CS8};
  t.c_cflag |= kSizes[o.dataBits - 5];
  switch (o.parity) {
    case Parity::None: break;
    case Parity::Odd: t.c_cflag |= PARENB | PARODD; break;
    case Parity::Even: t.c_cflag |= PARENB; break;
    case Parity::Mark: t.c_cflag |= PARENB | CMSPAR | PARODD; break;
    case Parity::Space: t.c_cflag |= PARENB | CMSPAR; break;
  }
  if (o.stopBits == 2) t.c_cflag |= CSTOPB;
  t.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
  if (o.flowControl == FlowControl::RtsCts) t.c_cflag |= CRTSCTS;
  if (o.flowControl == FlowControl::XonXoff) t.c_iflag |= IXON | IXOFF;
  if (::cfsetspeed(&t, static_cast<speed_t>(o.baudrate)) != 0) {
    throw SerialPortError(n + ": baud rate " + std::to_string(o.baudrate) +
                              " is not a standard rate (termios takes standard rates only)",
                          -EINVAL);
  }
  if (::tcsetattr(fd_, TCSANOW, &t) != 0) failErrno(n + ": tcsetattr", errno);
}

void SerialDevice::finishSetup(const SerialOptions& o) {
  const std::string& n = o.device;
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0) failErrno(n + ": fcntl", errno);
  ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
  termios t{};
  if (::tcgetattr(fd_, &t) != 0) failErrno(n + ": tcgetattr", errno);
  // VMIN 1 / VTIME 0: with O_NONBLOCK an empty read says EAGAIN, and a read of 0 means hang-up
  // (with VMIN 0 the kernel returns 0 for "no data" too, and a vanished device could not be told).
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (::tcsetattr(fd_, TCSANOW, &t) != 0) failErrno(n + ": tcsetattr", errno);
  if (o.exclusive && ::ioctl(fd_, TIOCEXCL) != 0) failErrno(n + ": TIOCEXCL", errno);
  if (o.rs485.enabled) {
    serial_rs485 rs{};
    rs.flags = SER_RS485_ENABLED;
    if (o.rs485.rtsOnSend) rs.flags |= SER_RS485_RTS_ON_SEND;
    if (o.rs485.rtsAfterSend) rs.flags |= SER_RS485_RTS_AFTER_SEND;
    if (o.rs485.rxDuringTx) rs.flags |= SER_RS485_RX_DURING_TX;
    rs.delay_rts_before_send = o.rs485.delayBeforeSendMs;
    rs.delay_rts_after_send = o.rs485.delayAfterSendMs;
    if (::ioctl(fd_, TIOCSRS485, &rs) != 0) {
      int err = errno;
      throw SerialPortError(n + ": RS-485 mode (TIOCSRS485) is not supported by this device's driver: " +
                                std::strerror(err) +
                                " (adapters that switch direction by themselves need no rs485 option)",
                            -err);
    }
    rs485_ = true;
  }
  ::tcflush(fd_, TCIOFLUSH);  // Twisted's SerialPort: flushInput(); flushOutput()
}

SerialDevice::~SerialDevice() { close(true); }

void SerialDevice::close(bool discardOutput) {
  if (fd_ < 0 && port_ == nullptr) return;
  if (fd_ >= 0 && (discardOutput || outWaiting() > 0)) ::tcflush(fd_, TCOFLUSH);
  if (port_ != nullptr) {
    if (fd_ >= 0) sp_close(port_);
    sp_free_port(port_);
    port_ = nullptr;
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
}

void SerialDevice::setBaudRate(std::uint32_t baudrate) {
  if (fd_ < 0) throw SerialPortError(name_ + ": closed", -EBADF);
  if (baudrate == 0) throw SerialPortError(name_ + ": baud rate 0", -EINVAL);
  if (port_ != nullptr) {
    checkSp(sp_set_baudrate(port_, static_cast<int>(baudrate)), name_ + ": baud rate " + std::to_string(baudrate));
    return;
  }
  termios t{};
  if (::tcgetattr(fd_, &t) != 0) failErrno(name_ + ": tcgetattr", errno);
  if (::cfsetspeed(&t, static_cast<speed_t>(baudrate)) != 0) {
    throw SerialPortError(name_ + ": baud rate " + std::to_string(baudrate) + " is not a standard rate", -EINVAL);
  }
  if (::tcsetattr(fd_, TCSANOW, &t) != 0) failErrno(name_ + ": tcsetattr", errno);
}

std::size_t SerialDevice::inWaiting() const {
  int n = 0;
  if (fd_ < 0 || ::ioctl(fd_, FIONREAD, &n) != 0 || n < 0) return 0;
  return static_cast<std::size_t>(n);
}

std::size_t SerialDevice::outWaiting() const {
  int n = 0;
  if (fd_ < 0 || ::ioctl(fd_, TIOCOUTQ, &n) != 0 || n < 0) return 0;
  return static_cast<std::size_t>(n);
}

void SerialDevice::flushInput() {
  if (fd_ >= 0) ::tcflush(fd_, TCIFLUSH);
}

void SerialDevice::flushOutput() {
  if (fd_ >= 0) ::tcflush(fd_, TCOFLUSH);
}

void SerialDevice::setBreak(bool on) {
  if (fd_ >= 0) ::ioctl(fd_, on ? TIOCSBRK : TIOCCBRK);
}

bool SerialDevice::modemBit(int bit) const {
  int status = 0;
  if (fd_ < 0 || ::ioctl(fd_, TIOCMGET, &status) != 0) return false;
  return (status & bit) != 0;
}

void SerialDevice::setModemBit(int bit, bool on) {
  if (fd_ >= 0) ::ioctl(fd_, on ? TIOCMBIS : TIOCMBIC, &bit);
}

}  // namespace reactor::detail
