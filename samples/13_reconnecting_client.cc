// Port of Twisted's ReconnectingClientFactory example, as a Modbus poller: a client that connects
// to a Modbus/TCP server (any endpoint clientFromString reads: tcp:, unix:, tls:), reads holding
// registers 0..1 of unit 1 every `interval` seconds, prints each answer, and when the server goes
// away (a restart) connects again with Twisted's back-off until it is back.
// Usage: 13_reconnecting_client [ENDPOINT] [INTERVAL] [READS]
//   ENDPOINT default "tcp:host=127.0.0.1:port=5020"; INTERVAL seconds (default 1); READS: exit 0
//   after that many answers (default 0 = forever; SIGINT/SIGTERM stop it).
// Prints "connected to ...", "read unit 1 hr 0..1: A B", "connection lost: ..." and
// "retrying in S s" lines (stdout, flushed).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "reactor/endpoints.h"
#include "reactor/looping_call.h"
#include "reactor/reactor.h"
#include "reactor/reconnecting_client_factory.h"

namespace {

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

/// Sends FC 3 (2 registers at 0, unit 1) every interval; prints each MBAP answer.
class Poller final : public reactor::Protocol {
 public:
  Poller(reactor::Reactor& reactor, double interval, int* answersLeft)
      : reactor_(reactor), interval_(interval), answersLeft_(answersLeft), poll_(reactor, [this] { send(); }) {}

  void connectionMade() override {
    say("connected to " + transport().getPeer().toString());
    poll_.start(interval_);
  }
  void dataReceived(reactor::ByteView data) override {
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    // MBAP: 7-byte header whose length field counts the unit id and the PDU.
    while (buffer_.size() >= 7) {
      std::size_t frame = 6 + (std::size_t(buffer_[4]) << 8 | buffer_[5]);
      if (buffer_.size() < frame) break;
      if (frame >= 13 && buffer_[7] == 3 && buffer_[8] == 4) {
        unsigned a = unsigned(buffer_[9]) << 8 | buffer_[10];
        unsigned b = unsigned(buffer_[11]) << 8 | buffer_[12];
        say("read unit 1 hr 0..1: " + std::to_string(a) + " " + std::to_string(b));
        if (*answersLeft_ > 0 && --*answersLeft_ == 0 && reactor_.running()) reactor_.stop();
      } else if (frame >= 9) {
        say("exception answer: function " + std::to_string(buffer_[7]) + " code " + std::to_string(buffer_[8]));
      }
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(frame));
    }
  }
  void connectionLost(const reactor::Failure& reason) override {
    poll_.stop();
    say("connection lost: " + reason.getErrorMessage());
  }

 private:
  void send() {
    ++transaction_;
    const std::uint8_t request[12] = {std::uint8_t(transaction_ >> 8), std::uint8_t(transaction_), 0, 0, 0, 6, 1, 3,
                                      0, 0, 0, 2};
    transport().write(reactor::ByteView(request, sizeof request));
  }

  reactor::Reactor& reactor_;
  double interval_;
  int* answersLeft_;
  reactor::LoopingCall poll_;
  std::uint16_t transaction_ = 0;
  std::vector<std::uint8_t> buffer_;
};

/// Twisted's example factory: resetDelay() once connected, report every retry.
class PollerFactory final : public reactor::ReconnectingClientFactory {
 public:
  PollerFactory(reactor::Reactor& reactor, double interval, int* answersLeft)
      : ReconnectingClientFactory(reactor), reactor_(reactor), interval_(interval), answersLeft_(answersLeft) {}
  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address&) override {
    resetDelay();
    auto p = std::make_shared<Poller>(reactor_, interval_, answersLeft_);
    adopt(*p);
    return p;
  }
  void clientConnectionFailed(reactor::IConnector& c, const reactor::Failure& reason) override {
    say("connection failed: " + reason.getErrorMessage());
    ReconnectingClientFactory::clientConnectionFailed(c, reason);
    announce();
  }
  void clientConnectionLost(reactor::IConnector& c, const reactor::Failure& reason) override {
    ReconnectingClientFactory::clientConnectionLost(c, reason);
    announce();
  }

 private:
  void announce() {
    const auto& pending = pendingRetry();
    if (pending.active()) {
      char text[64];
      std::snprintf(text, sizeof text, "retrying in %.2f s", pending.getTime() - reactor_.seconds());
      say(text);
    }
  }
  reactor::Reactor& reactor_;
  double interval_;
  int* answersLeft_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string endpoint = argc > 1 ? argv[1] : "tcp:host=127.0.0.1:port=5020";
  const double interval = argc > 2 ? std::atof(argv[2]) : 1.0;
  int answersLeft = argc > 3 ? std::atoi(argv[3]) : 0;
  if (!(interval > 0)) {
    std::fprintf(stderr, "13_reconnecting_client: INTERVAL must be > 0 seconds\n");
    return 2;
  }
  try {
    reactor::Reactor reactor;
    auto factory = std::make_shared<PollerFactory>(reactor, interval, &answersLeft);
    // Short delays, so a restarted server is found again within a second or two.
    factory->initialDelay = 0.1;
    factory->maxDelay = 2.0;
    auto client = reactor::clientFromString(reactor, endpoint);
    say("polling " + client->describe());
    auto connector = client->connectClientFactory(factory);  // kept: the factory retries through it
    // Shutting down is not an outage: no retry once the reactor is stopping.
    reactor.addSystemEventTrigger(reactor::Phase::Before, reactor::SystemEvent::Shutdown,
                                  [&factory] { factory->stopTrying(); });
    reactor.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "13_reconnecting_client: %s\n", e.what());
    return 2;
  }
  return 0;
}
