// A Redis client on the reactor (hiredis gives the reply parser, the reactor the connection): one
// TCP connection with reconnection and back-off, commands pipelined (everything asked for during
// one pass of the loop goes out in one write), replies matched to callbacks in order, a deadline
// on every command, and pub/sub messages handed to a handler.
//
// Rules it keeps:
// - A command is only accepted while connected; otherwise its callback gets nullptr at once (the
//   caller answers "unavailable" rather than queueing work behind an outage).
// - A command not answered within `timeout` seconds ends the connection: Redis replies in order, so
//   every command behind it is late too. All of them get nullptr, and the client reconnects.
// - One warning when Redis becomes unreachable, one info line when it is back: not a line per
//   failed attempt.
// - Reactor thread only. Callbacks run from the reactor, never from inside command().
// Tests: tests/protocols/redis/redis_client_test.cc, tests/integration/redis_store_test.cc
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "protocols/redis/resp.h"
#include "reactor/delayed_call.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"
#include "reactor/reactor.h"

namespace redis {

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// When not empty: connect to Redis's UNIX socket at this path (connectUNIX) instead of host:port.
  std::string unixPath;
  /// Sent with AUTH first on every connection when not empty.
  std::string password;
  /// Seconds a command (and a connection attempt) may take.
  double timeout = 1.0;
  /// Reconnection back-off: initialDelay, times factor after each failure, at most maxDelay.
  double initialDelay = 0.1;
  double maxDelay = 5.0;
  double factor = 2.0;
  /// Logs the outage and recovery lines (a second connection to the same server stays quiet).
  bool logOutages = true;
};

/// The reply to a command, or nullptr when it failed (not connected, timed out, connection lost).
using ReplyCallback = std::function<void(const Reply* reply)>;
/// A pub/sub message: channel and payload.
using MessageHandler = std::function<void(std::string_view channel, std::string_view payload)>;

class Client final : public std::enable_shared_from_this<Client> {
 public:
  enum class State { Connecting, Connected, WaitingToRetry, Stopped };

  /// Starts connecting at once. `onConnected` runs after each connection is made, before any other
  /// command is sent on it (seeding, SUBSCRIBE): what it sends is first in line.
  static std::shared_ptr<Client> create(reactor::Reactor& reactor, ClientOptions options,
                                        std::function<void(Client&)> onConnected = {});
  ~Client();

  /// Sends the command `encode` appends to the string it is given (appendCommand, CommandWriter),
  /// with `done` for its reply. Not connected: `done(nullptr)` at once and nothing is encoded.
  template <class Encode>
  void command(Encode&& encode, ReplyCallback done) {
    if (state_ != State::Connected) {
      if (done) done(nullptr);
      return;
    }
    encode(outbox_);
    queued(std::move(done));
  }

  /// Pub/sub messages ("message" pushes) go to `handler` (set it before SUBSCRIBE).
  void setMessageHandler(MessageHandler handler) { onMessage_ = std::move(handler); }

  /// Disconnects for good; every waiting callback gets nullptr. Idempotent.
  void stop();

  State state() const { return state_; }
  bool connected() const { return state_ == State::Connected; }
  /// Commands sent and not answered yet.
  std::size_t inFlight() const { return pending_.size(); }
  std::size_t connectionsMade() const { return connectionsMade_; }
  std::string describe() const {
    return options_.unixPath.empty() ? options_.host + ":" + std::to_string(options_.port) : "unix:" + options_.unixPath;
  }

  // Called by the connection's protocol and factory (redis_client.cc).
  void linkMade(reactor::Protocol* link);
  void linkFailed(const std::string& reason);
  void linkLost(const std::string& reason);
  void bytesReceived(std::span<const std::uint8_t> bytes);

 private:
  Client(reactor::Reactor& reactor, ClientOptions options, std::function<void(Client&)> onConnected);

  struct Pending {
    ReplyCallback done;
    double deadline = 0;
  };

  void queued(ReplyCallback done);
  void flush();
  void connect();
  void armWatchdog();
  void watchdogFired();
  void down(const std::string& reason);
  void retryLater();
  void failPending();

  reactor::Reactor& reactor_;
  ClientOptions options_;
  std::function<void(Client&)> onConnected_;
  MessageHandler onMessage_;
  State state_ = State::Connecting;
  std::shared_ptr<reactor::IConnector> connector_;
  std::shared_ptr<reactor::ClientFactory> factory_;
  reactor::Protocol* link_ = nullptr;
  ReplyReader reader_;
  std::string outbox_;
  std::deque<Pending> pending_;
  reactor::DelayedCall flushCall_;
  reactor::DelayedCall watchdog_;
  reactor::DelayedCall retry_;
  double delay_;
  bool outage_ = false;     // an outage has been logged and not yet its end
  double outageSince_ = 0;
  std::size_t connectionsMade_ = 0;
  reactor::TriggerId shutdownTrigger_ = 0;
};

}  // namespace redis
