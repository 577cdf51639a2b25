// Port of twisted.protocols.basic: LineReceiver, IntNStringReceiver (Int32/Int16/Int8StringReceiver)
// and NetstringReceiver — Protocols that turn dataReceived's arbitrary chunks into whole lines or
// length-prefixed strings.
//
// Rules they keep (Twisted's):
// - A message split across any number of dataReceived calls, at any byte, is delivered once and
//   whole; several messages in one chunk are delivered in order.
// - LineReceiver stops delivering lines once the transport is disconnecting (a line that told it to
//   close must not be followed by the rest of its packet), and while paused (pauseProducing).
//   A dataReceived from inside lineReceived (setLineMode(extra) does one) only appends to the buffer.
// - Limits: a line longer than maxLength → lineLengthExceeded(whatWasBuffered), which by default
//   loses the connection; a length prefix above maxLength → lengthLimitExceeded(length), the same;
//   a malformed or oversized netstring → the connection is lost and brokenPeer set.
// - Sending a string too long for the prefix throws StringTooLongError.
// The buffers keep a read offset and compact only when more than half is consumed: no copy per message.
// Tests: tests/reactor/basic_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "reactor/bytes.h"
#include "reactor/protocol.h"

namespace reactor {

/// sendString with a string whose length does not fit the prefix (Twisted's StringTooLongError).
class StringTooLongError : public std::length_error {
 public:
  using std::length_error::length_error;
};

namespace detail {
/// A byte buffer with a read offset: append at the end, consume from the front.
class ReceiveBuffer {
 public:
  void append(ByteView data);
  std::string_view view() const { return {data_.data() + start_, data_.size() - start_}; }
  std::size_t size() const { return data_.size() - start_; }
  bool empty() const { return size() == 0; }
  void consume(std::size_t n);
  /// Everything unread, and the buffer emptied.
  std::string take();
  void clear();

 private:
  std::string data_;
  std::size_t start_ = 0;
};
}  // namespace detail

/// Twisted's LineReceiver. Override lineReceived (and rawDataReceived if you use raw mode).
class LineReceiver : public Protocol, public IProducer {
 public:
  /// Twisted's `delimiter` (b"\r\n").
  std::string delimiter = "\r\n";
  /// Twisted's MAX_LENGTH: the longest line, delimiter excluded.
  std::size_t maxLength = 16384;

  void dataReceived(ByteView data) override;

  /// One line, delimiter stripped; valid for this call only.
  virtual void lineReceived(std::string_view line) { (void)line; }
  /// In raw mode, whatever arrives (and, on setRawMode, what was buffered behind the last line).
  virtual void rawDataReceived(ByteView data) { (void)data; }
  /// A line grew past maxLength: `line` is everything buffered (the too-long line, and with it the
  /// delimiter and what followed, when it was complete). The buffer is already cleared. Default:
  /// transport().loseConnection().
  virtual void lineLengthExceeded(std::string_view line);

  /// Writes line + delimiter.
  void sendLine(std::string_view line);
  /// Back to lines; `extra` is then handled as if just received (Twisted's setLineMode(extra)).
  void setLineMode(std::string_view extra = {});
  /// Hand the following bytes to rawDataReceived instead.
  void setRawMode();
  bool lineMode() const { return lineMode_; }
  /// Empties the buffer and returns what it held (Twisted's clearLineBuffer).
  std::string clearLineBuffer();

  /// Twisted's _PauseableMixin: stop (and later resume) both the delivery of buffered lines and the
  /// transport's reading. stopProducing pauses for good and loses the connection.
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override;
  bool paused() const { return paused_; }

 private:
  void deliver();

  detail::ReceiveBuffer buffer_;
  bool lineMode_ = true;
  bool paused_ = false;
  bool busyReceiving_ = false;
};

/// Twisted's IntNStringReceiver: each string is preceded by its length, big-endian, in
/// `PrefixBytes` bytes (4, 2 or 1). Override stringReceived.
template <std::size_t PrefixBytes>
class IntNStringReceiver : public Protocol {
  static_assert(PrefixBytes == 1 || PrefixBytes == 2 || PrefixBytes == 4);

 public:
  static constexpr std::size_t prefixLength = PrefixBytes;
  /// Twisted's MAX_LENGTH (99999): a longer announced string → lengthLimitExceeded.
  std::size_t maxLength = 99999;

  void dataReceived(ByteView data) override;
  /// One string, without its prefix; valid for this call only.
  virtual void stringReceived(ByteView string) { (void)string; }
  /// A prefix announced `length` > maxLength. Default: transport().loseConnection().
  virtual void lengthLimitExceeded(std::size_t length);
  /// Writes the prefix and the string in one write. Throws StringTooLongError when the length does
  /// not fit in PrefixBytes bytes.
  void sendString(ByteView string);
  void sendString(std::string_view string) { sendString(asBytes(string)); }

  /// Pausing stops delivery (as Twisted's `paused`); resumeProducing delivers what is buffered.
  void pauseProducing() { paused_ = true; }
  void resumeProducing();

 private:
  void deliver();

  detail::ReceiveBuffer buffer_;
  bool paused_ = false;
};

using Int32StringReceiver = IntNStringReceiver<4>;
using Int16StringReceiver = IntNStringReceiver<2>;
using Int8StringReceiver = IntNStringReceiver<1>;

extern template class IntNStringReceiver<4>;
extern template class IntNStringReceiver<2>;
extern template class IntNStringReceiver<1>;

/// Twisted's NetstringReceiver: strings as "LENGTH:DATA," (LENGTH decimal, no leading zeros).
/// Override stringReceived.
class NetstringReceiver : public Protocol {
 public:
  /// Twisted's MAX_LENGTH: a longer announced string is a parse error.
  std::size_t maxLength = 99999;
  /// Set when the peer sent something that is not a netstring (Twisted's brokenPeer).
  bool brokenPeer = false;

  void dataReceived(ByteView data) override;
  virtual void stringReceived(std::string_view string) { (void)string; }
  /// Writes "LEN:string,".
  void sendString(std::string_view string);

 protected:
  /// A malformed or too long netstring (`why` says which). Default: sets brokenPeer and loses the
  /// connection; nothing more is read.
  virtual void handleParseError(std::string_view why);

 private:
  enum class State { Length, Payload };

  detail::ReceiveBuffer buffer_;
  State state_ = State::Length;
  std::size_t expected_ = 0;
};

}  // namespace reactor
