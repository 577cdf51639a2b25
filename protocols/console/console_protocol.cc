// ConsoleProtocol / ConsoleFactory: authentication, limits, and lines to the Console.
#include "protocols/console/console_protocol.h"

#include <utility>

#include "protocols/console/console_token.h"
#include "reactor/log.h"

namespace modbus {

ConsoleFactory::ConsoleFactory(Console& console, std::string token, ConsoleOptions options,
                               reactor::IReactorTime* clock)
    : console_(&console), token_(std::move(token)), options_(options), clock_(clock) {}

std::shared_ptr<reactor::Protocol> ConsoleFactory::buildProtocol(const reactor::Address& addr) {
  if (sessions_ >= options_.maxSessions) {
    reactor::log::warning("console: refusing ", addr.toString(), ": ", sessions_, " sessions open");
    return nullptr;
  }
  ++sessions_;
  auto p = std::make_shared<ConsoleProtocol>();
  p->maxLength = options_.maxLineLength;
  p->delimiter = std::string(1, '\n');  // not = "\n": g++ 12 -O3 flags that -Wrestrict (a false positive)
  adopt(*p);
  live_.push_back(p);
  return p;
}

void ConsoleFactory::closeAll() {
  std::vector<std::weak_ptr<ConsoleProtocol>> now = live_;
  for (auto& w : now) {
    if (auto p = w.lock()) p->transport().loseConnection();
  }
}

void ConsoleFactory::sessionEnded(ConsoleProtocol* p) {
  --sessions_;
  std::erase_if(live_, [p](const std::weak_ptr<ConsoleProtocol>& w) {
    auto locked = w.lock();
    return !locked || locked.get() == p;
  });
}

ConsoleFactory& ConsoleProtocol::consoleFactory() { return static_cast<ConsoleFactory&>(*factory()); }

void ConsoleProtocol::connectionMade() {
  ConsoleFactory& f = consoleFactory();
  if (f.clock() != nullptr && f.options().authTimeout > 0) {
    std::weak_ptr<reactor::Protocol> self = weak_from_this();
    authTimer_ = f.clock()->callLater(f.options().authTimeout, [self] {
      auto p = std::static_pointer_cast<ConsoleProtocol>(self.lock());
      if (!p || p->authenticated_ || !p->transport().connected()) return;
      reactor::log::warning("console: no token from ", p->transport().getPeer().toString(), " in time: closing");
      p->transport().loseConnection();
    });
  }
}

void ConsoleProtocol::lineReceived(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (cutOff_) return;
  if (!authenticated_) {
    if (!consoleTokenMatches(consoleFactory().token(), line)) {
      reactor::log::warning("console: wrong token from ", transport().getPeer().toString(), ": connection closed");
      sendLine("error: wrong token");
      transport().loseConnection();  // LineReceiver delivers nothing more once disconnecting
      return;
    }
    authenticated_ = true;
    if (authTimer_.active()) authTimer_.cancel();
    reactor::log::info("console: session opened from ", transport().getPeer().toString());
    sendLine("uvmodbus console: type help");
    return;
  }
  if (Console* console = consoleFactory().console()) console->execute(line, *this);
}

void ConsoleProtocol::lineLengthExceeded(std::string_view line) {
  reactor::log::warning("console: a line of more than ", maxLength, " bytes from ", transport().getPeer().toString(),
                        ": connection closed (", line.size(), " bytes buffered)");
  sendLine("error: line too long");
  transport().loseConnection();
}

void ConsoleProtocol::sendLine(std::string_view line) {
  if (cutOff_ || !transport().connected()) return;
  const std::size_t limit = consoleFactory().options().maxOutput;
  if (transport().bufferedAmount() + line.size() + delimiter.size() > limit) {
    // The client does not read (or trace outruns it): holding more would grow without bound.
    cutOff_ = true;
    reactor::log::warning("console: ", transport().getPeer().toString(), " does not read its output (more than ",
                          limit, " bytes unsent): connection aborted");
    transport().abortConnection();
    return;
  }
  LineReceiver::sendLine(line);
}

void ConsoleProtocol::close() { transport().loseConnection(); }

void ConsoleProtocol::connectionLost(const reactor::Failure& reason) {
  (void)reason;
  if (authTimer_.active()) authTimer_.cancel();
  if (authenticated_) {
    reactor::log::info("console: session closed from ", transport().getPeer().toString());
    if (Console* console = consoleFactory().console()) console->sessionClosed(*this);
  }
  consoleFactory().sessionEnded(this);
}

}  // namespace modbus
