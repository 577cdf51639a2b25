// One console connection: a LineReceiver whose first line is the token, then commands for Console.
// Rules:
// - Lines end with "\n" ("\r\n" works: the "\r" is dropped).
// - The first line is compared with the token (constant time). Wrong: "error: wrong token", a
//   warning naming the peer, and the connection closed; nothing after it is read. No line is ever
//   executed before the token matched.
// - No token within authTimeout seconds: closed (a connection cannot sit unauthenticated).
// - A line longer than maxLineLength: "error: line too long", closed.
// - Output is bounded: once more than maxOutput bytes wait unsent (a client that does not read,
//   or trace on a busy server), the connection is aborted and a warning logged. Nothing blocks:
//   the reactor thread only writes to the transport's buffer.
// Tests: tests/protocols/console/console_protocol_test.cc, tests/integration/console_test.cc
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/console/console.h"
#include "reactor/basic.h"
#include "reactor/delayed_call.h"
#include "reactor/protocol.h"

namespace modbus {

/// The console's limits.
struct ConsoleOptions {
  std::size_t maxLineLength = 4096;
  std::size_t maxOutput = 256 * 1024;
  double authTimeout = 30;
  /// Sessions open at once (authenticated or not); a newcomer past it is refused.
  std::size_t maxSessions = 8;
};

class ConsoleFactory;

class ConsoleProtocol : public reactor::LineReceiver, public ConsoleSession {
 public:
  void connectionMade() override;
  void lineReceived(std::string_view line) override;
  void lineLengthExceeded(std::string_view line) override;
  void connectionLost(const reactor::Failure& reason) override;
  std::string logPrefix() const override { return "ConsoleProtocol"; }

  // ConsoleSession
  void sendLine(std::string_view line) override;
  void close() override;

  bool authenticated() const { return authenticated_; }

 private:
  ConsoleFactory& consoleFactory();

  bool authenticated_ = false;
  bool cutOff_ = false;
  reactor::DelayedCall authTimer_;
};

/// Builds ConsoleProtocols for one Console, with its token and limits.
class ConsoleFactory : public reactor::ServerFactory {
 public:
  /// `clock` times the authentication deadline (null: none). `console` must outlive the factory's
  /// connections (ConsoleServer owns both).
  ConsoleFactory(Console& console, std::string token, ConsoleOptions options, reactor::IReactorTime* clock);

  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address& addr) override;

  /// Null once the console is gone (ConsoleServer::~ConsoleServer detaches it).
  Console* console() { return console_; }
  const std::string& token() const { return token_; }
  const ConsoleOptions& options() const { return options_; }
  reactor::IReactorTime* clock() const { return clock_; }
  std::size_t sessionCount() const { return sessions_; }

  /// loseConnection on every open session (the console is stopping).
  void closeAll();
  /// Forget the console: sessions still closing no longer reach it.
  void detach() { console_ = nullptr; }

  // Called by the protocols.
  void sessionEnded(ConsoleProtocol* p);

 private:
  Console* console_;
  std::vector<std::weak_ptr<ConsoleProtocol>> live_;
  std::string token_;
  ConsoleOptions options_;
  reactor::IReactorTime* clock_;
  std::size_t sessions_ = 0;
};

}  // namespace modbus
