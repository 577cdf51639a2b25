// Server-Sent Events (the WHATWG "text/event-stream" format): a response that stays open while a
// handler pushes events into it. A handler returns Response::events(onOpen); once the headers are
// out, onOpen receives the stream. Keep the shared_ptr as long as you want to push.
// Rules: every method is for the reactor thread; after the client goes (or close()) sends are
// ignored and return false, and the onClose callback has run exactly once. A client that does not
// read is cut off when more than the server's maxBufferedOutput is waiting for it.
// Tests: tests/protocols/http/event_stream_test.cc
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "reactor/interfaces.h"

namespace http {

class EventStream {
 public:
  EventStream(std::shared_ptr<reactor::ITransport> transport, std::size_t maxBufferedOutput);

  /// One event: "event: <event>\n" if given, "id: <id>\n" if given, a "data: " line per line of
  /// `data`, then a blank line. False when the stream is closed.
  bool send(std::string_view data, std::string_view event = {}, std::string_view id = {});
  /// A comment line (": text"), which clients ignore: keeps proxies from timing the stream out.
  bool comment(std::string_view text);
  /// Ends the response and the connection (after what was sent).
  void close();
  bool closed() const { return closed_; }
  /// Runs once when the stream ends, whoever ended it (runs at once if it already has).
  void onClose(std::function<void()> f);

  /// Framework only: the connection is gone.
  void connectionClosed();

 private:
  bool write(const std::string& text);

  std::shared_ptr<reactor::ITransport> transport_;
  std::size_t maxBufferedOutput_;
  std::function<void()> onClose_;
  bool closed_ = false;
};

/// The wire form of one event (what send writes): for tests and for callers that batch.
std::string formatEvent(std::string_view data, std::string_view event = {}, std::string_view id = {});

}  // namespace http
