// Server-Sent Events on a connection's transport. See event_stream.h.
#include "protocols/http/event_stream.h"

#include <utility>

namespace http {

namespace {

// A field value must not carry a line break (it would start another field).
std::string oneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

std::string formatEvent(std::string_view data, std::string_view event, std::string_view id) {
  std::string out;
  if (!event.empty()) out += "event: " + oneLine(event) + "\n";
  if (!id.empty()) out += "id: " + oneLine(id) + "\n";
  // Each of "\r\n", "\n" and "\r" ends a data line.
  std::size_t start = 0;
  for (std::size_t i = 0; i <= data.size(); ++i) {
    if (i == data.size() || data[i] == '\n' || data[i] == '\r') {
      out += "data: ";
      out.append(data.substr(start, i - start));
      out += "\n";
      if (i + 1 < data.size() && data[i] == '\r' && data[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  out += "\n";
  return out;
}

EventStream::EventStream(std::shared_ptr<reactor::ITransport> transport, std::size_t maxBufferedOutput)
    : transport_(std::move(transport)), maxBufferedOutput_(maxBufferedOutput) {}

bool EventStream::write(const std::string& text) {
  if (closed_) return false;
  if (!transport_->connected() || transport_->disconnecting()) return false;
  if (transport_->bufferedAmount() + text.size() > maxBufferedOutput_) {
    // The client stopped reading: cut it off rather than buffer without bound.
    transport_->abortConnection();
    return false;
  }
  transport_->write(reactor::asBytes(text));
  return true;
}

bool EventStream::send(std::string_view data, std::string_view event, std::string_view id) {
  return write(formatEvent(data, event, id));
}

bool EventStream::comment(std::string_view text) { return write(": " + oneLine(text) + "\n\n"); }

void EventStream::close() {
  if (closed_) return;
  transport_->loseConnection();  // connectionLost → connectionClosed() runs onClose
}

void EventStream::onClose(std::function<void()> f) {
  if (closed_) {
    if (f) f();
    return;
  }
  onClose_ = std::move(f);
}

void EventStream::connectionClosed() {
  if (closed_) return;
  closed_ = true;
  auto f = std::move(onClose_);
  onClose_ = nullptr;
  if (f) f();
}

}  // namespace http
