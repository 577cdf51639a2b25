// LineReceiver, IntNStringReceiver and NetstringReceiver (twisted.protocols.basic).
// Tests: tests/reactor/basic_test.cc
#include "reactor/basic.h"

#include <array>
#include <string>

namespace reactor {

namespace detail {

void ReceiveBuffer::append(ByteView data) {
  // Compact before growing when most of the buffer is already consumed: each byte moves at most
  // once more, so a stream of small messages costs no copy per message.
  if (start_ > 0 && start_ >= data_.size() / 2) {
    data_.erase(0, start_);
    start_ = 0;
  }
  data_.append(asText(data));
}

void ReceiveBuffer::consume(std::size_t n) {
  start_ += n;
  if (start_ >= data_.size()) clear();
}

std::string ReceiveBuffer::take() {
  std::string out(view());
  clear();
  return out;
}

void ReceiveBuffer::clear() {
  data_.clear();
  start_ = 0;
}

/// Sets a flag for the scope of a delivery loop (Twisted's _busyReceiving).
struct Busy {
  explicit Busy(bool& flag) : flag_(flag) { flag_ = true; }
  ~Busy() { flag_ = false; }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;
  bool& flag_;
};

}  // namespace detail

namespace {
bool disconnecting(const Protocol& p) { return p.transportPtr() && p.transportPtr()->disconnecting(); }
}  // namespace

// --- LineReceiver -------------------------------------------------------------------------------

void LineReceiver::dataReceived(ByteView data) {
  buffer_.append(data);
  // From inside lineReceived (setLineMode(extra), or the user's own call): the loop below is
  // already running and will get to it.
  if (busyReceiving_) return;
  detail::Busy busy(busyReceiving_);
  deliver();
}

void LineReceiver::deliver() {
  std::string piece;  // the line or raw chunk handed out: lineReceived may change the buffer
  while (!buffer_.empty() && !paused_) {
    if (!lineMode_) {
      piece = buffer_.take();
      rawDataReceived(asBytes(piece));
      continue;
    }
    const std::string_view view = buffer_.view();
    const std::size_t at = view.find(delimiter);
    if (at == std::string_view::npos) {
      // No delimiter yet. Up to maxLength + delimiter bytes may still end in a valid line.
      if (view.size() >= maxLength + delimiter.size()) {
        piece = buffer_.take();
        lineLengthExceeded(piece);
      }
      return;
    }
    if (at > maxLength) {
      piece = buffer_.take();
      lineLengthExceeded(piece);
      return;
    }
    piece.assign(view.substr(0, at));
    buffer_.consume(at + delimiter.size());
    lineReceived(piece);
    if (disconnecting(*this)) return;
  }
}

void LineReceiver::lineLengthExceeded(std::string_view line) {
  (void)line;
  if (transportPtr()) transport().loseConnection();
}

void LineReceiver::sendLine(std::string_view line) {
  const std::array<ByteView, 2> pieces{asBytes(line), asBytes(delimiter)};
  transport().writeSequence(pieces);
}

void LineReceiver::setLineMode(std::string_view extra) {
  lineMode_ = true;
  if (!extra.empty()) dataReceived(asBytes(extra));
}

void LineReceiver::setRawMode() { lineMode_ = false; }

std::string LineReceiver::clearLineBuffer() { return buffer_.take(); }

void LineReceiver::pauseProducing() {
  paused_ = true;
  if (transportPtr()) transport().pauseProducing();
}

void LineReceiver::resumeProducing() {
  paused_ = false;
  if (transportPtr()) transport().resumeProducing();
  dataReceived({});  // what was buffered while paused
}

void LineReceiver::stopProducing() {
  paused_ = true;
  if (transportPtr()) transport().stopProducing();
}

// --- IntNStringReceiver -------------------------------------------------------------------------

template <std::size_t N>
void IntNStringReceiver<N>::dataReceived(ByteView data) {
  buffer_.append(data);
  deliver();
}

template <std::size_t N>
void IntNStringReceiver<N>::deliver() {
  std::string message;
  while (buffer_.size() >= N && !paused_) {
    const std::string_view view = buffer_.view();
    std::size_t length = 0;
    for (std::size_t i = 0; i < N; ++i) length = (length << 8) | static_cast<unsigned char>(view[i]);
    if (length > maxLength) {
      // As Twisted: the bytes stay unprocessed; the default handler closes the connection.
      lengthLimitExceeded(length);
      return;
    }
    if (view.size() < N + length) return;
    message.assign(view.substr(N, length));
    buffer_.consume(N + length);
    stringReceived(asBytes(message));
  }
}

template <std::size_t N>
void IntNStringReceiver<N>::lengthLimitExceeded(std::size_t length) {
  (void)length;
  if (transportPtr()) transport().loseConnection();
}

template <std::size_t N>
void IntNStringReceiver<N>::sendString(ByteView string) {
  if (N < sizeof(std::size_t) && string.size() >= (std::size_t{1} << (8 * N))) {
    throw StringTooLongError("sendString: " + std::to_string(string.size()) + " bytes do not fit a " +
                             std::to_string(N) + "-byte length prefix");
  }
  std::array<Byte, N> prefix{};
  for (std::size_t i = 0; i < N; ++i) prefix[i] = static_cast<Byte>(string.size() >> (8 * (N - 1 - i)));
  const std::array<ByteView, 2> pieces{ByteView(prefix), string};
  transport().writeSequence(pieces);
}

template <std::size_t N>
void IntNStringReceiver<N>::resumeProducing() {
  paused_ = false;
  deliver();
}

template class IntNStringReceiver<4>;
template class IntNStringReceiver<2>;
template class IntNStringReceiver<1>;

// --- NetstringReceiver --------------------------------------------------------------------------

void NetstringReceiver::dataReceived(ByteView data) {
  if (brokenPeer) return;
  buffer_.append(data);
  const std::size_t maxDigits = std::to_string(maxLength).size();
  std::string payload;
  while (!buffer_.empty() && !brokenPeer) {
    const std::string_view view = buffer_.view();
    if (state_ == State::Length) {
      const std::size_t colon = view.find(':');
      const std::string_view digits = view.substr(0, colon);  // all of it when no colon yet
      for (char c : digits) {
        if (c < '0' || c > '9') return handleParseError("the netstring length is not a decimal number");
      }
      if (digits.size() > 1 && digits[0] == '0') return handleParseError("the netstring length has a leading zero");
      if (digits.size() > maxDigits) return handleParseError("the netstring is longer than maxLength");
      if (colon == std::string_view::npos) return;  // the length is still arriving
      if (digits.empty()) return handleParseError("the netstring has no length");
      std::size_t length = 0;
      for (char c : digits) length = length * 10 + static_cast<std::size_t>(c - '0');
      if (length > maxLength) return handleParseError("the netstring is longer than maxLength");
      expected_ = length;
      buffer_.consume(colon + 1);
      state_ = State::Payload;
      continue;
    }
    if (view.size() < expected_ + 1) return;  // the payload or its comma is still arriving
    if (view[expected_] != ',') return handleParseError("the netstring does not end with a comma");
    payload.assign(view.substr(0, expected_));
    buffer_.consume(expected_ + 1);
    state_ = State::Length;
    stringReceived(payload);
  }
}

void NetstringReceiver::sendString(std::string_view string) {
  const std::string length = std::to_string(string.size()) + ":";
  const std::array<ByteView, 3> pieces{asBytes(length), asBytes(string), asBytes(",")};
  transport().writeSequence(pieces);
}

void NetstringReceiver::handleParseError(std::string_view why) {
  (void)why;
  brokenPeer = true;
  buffer_.clear();
  if (transportPtr()) transport().loseConnection();
}

}  // namespace reactor
