// redis::Client: the connection (a reactor Protocol over connectTCP), the pipelined outbox, the
// in-order reply callbacks, the command deadline and the reconnection back-off.
#include "protocols/redis/redis_client.h"

#include <algorithm>
#include <utility>

#include "reactor/log.h"

namespace redis {
namespace {

class Link final : public reactor::Protocol {
 public:
  explicit Link(std::weak_ptr<Client> client) : client_(std::move(client)) {}

  void connectionMade() override {
    if (auto c = client_.lock()) {
      c->linkMade(this);
    } else {
      transport().loseConnection();
    }
  }
  void dataReceived(reactor::ByteView data) override {
    if (auto c = client_.lock()) c->bytesReceived(data);
  }
  std::string logPrefix() const override { return "RedisLink"; }

 private:
  std::weak_ptr<Client> client_;
};

class LinkFactory final : public reactor::ClientFactory {
 public:
  explicit LinkFactory(std::weak_ptr<Client> client) : client_(std::move(client)) {}
  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address&) override {
    return std::make_shared<Link>(client_);
  }
  void clientConnectionFailed(reactor::IConnector&, const reactor::Failure& reason) override {
    if (auto c = client_.lock()) c->linkFailed(reason.getErrorMessage());
  }
  void clientConnectionLost(reactor::IConnector&, const reactor::Failure& reason) override {
    if (auto c = client_.lock()) c->linkLost(reason.getErrorMessage());
  }

 private:
  std::weak_ptr<Client> client_;
};

}  // namespace

Client::Client(reactor::Reactor& reactor, ClientOptions options, std::function<void(Client&)> onConnected)
    : reactor_(reactor),
      options_(std::move(options)),
      onConnected_(std::move(onConnected)),
      delay_(options_.initialDelay) {}

std::shared_ptr<Client> Client::create(reactor::Reactor& reactor, ClientOptions options,
                                       std::function<void(Client&)> onConnected) {
  std::shared_ptr<Client> client(new Client(reactor, std::move(options), std::move(onConnected)));
  client->factory_ = std::make_shared<LinkFactory>(client);
  // The reactor's graceful stop waits for connections: stop reconnecting before it starts waiting.
  std::weak_ptr<Client> weak = client;
  client->shutdownTrigger_ =
      reactor.addSystemEventTrigger(reactor::Phase::Before, reactor::SystemEvent::Shutdown, [weak] {
        if (auto c = weak.lock()) c->stop();
      });
  client->connect();
  return client;
}

Client::~Client() {
  reactor_.removeSystemEventTrigger(shutdownTrigger_);
  for (reactor::DelayedCall* call : {&flushCall_, &watchdog_, &retry_}) {
    if (call->active()) call->cancel();
  }
  if (link_ != nullptr) link_->transport().abortConnection();
  // Callbacks still waiting belong to Modbus clients waiting in line: they get their failure from
  // the reactor's next turn, not from inside this destructor.
  if (!pending_.empty()) {
    std::deque<Pending> waiting = std::move(pending_);
    reactor_.callLater(0, [waiting = std::move(waiting)] {
      for (const Pending& p : waiting) {
        if (p.done) p.done(nullptr);
      }
    });
  }
}

void Client::connect() {
  state_ = State::Connecting;
  reader_.reset();
  if (!connector_) {
    connector_ = options_.unixPath.empty()
                     ? reactor_.connectTCP(options_.host, options_.port, factory_, options_.timeout)
                     : reactor_.connectUNIX(options_.unixPath, factory_, options_.timeout);
  } else {
    connector_->connect();
  }
}

void Client::stop() {
  if (state_ == State::Stopped) return;
  const State was = state_;
  state_ = State::Stopped;
  if (retry_.active()) retry_.cancel();
  if (watchdog_.active()) watchdog_.cancel();
  if (link_ != nullptr) {
    link_->transport().loseConnection();
  } else if (was == State::Connecting && connector_) {
    connector_->stopConnecting();
  }
  failPending();
}

void Client::queued(ReplyCallback done) {
  pending_.push_back(Pending{std::move(done), reactor_.seconds() + options_.timeout});
  if (!watchdog_.active()) armWatchdog();
  // Everything asked for during this pass of the loop leaves in one write (pipelining across
  // requests and Modbus connections), on the next pass.
  if (!flushCall_.active()) {
    std::weak_ptr<Client> weak = weak_from_this();
    flushCall_ = reactor_.callLater(0, [weak] {
      if (auto self = weak.lock()) self->flush();
    });
  }
}

void Client::flush() {
  if (link_ == nullptr || outbox_.empty()) return;
  link_->transport().write(reactor::asBytes(outbox_));
  outbox_.clear();  // keeps its capacity
}

void Client::armWatchdog() {
  if (pending_.empty() || state_ != State::Connected) return;
  const double wait = std::max(0.0, pending_.front().deadline - reactor_.seconds());
  std::weak_ptr<Client> weak = weak_from_this();
  watchdog_ = reactor_.callLater(wait, [weak] {
    if (auto self = weak.lock()) self->watchdogFired();
  });
}

void Client::watchdogFired() {
  if (pending_.empty() || state_ != State::Connected) return;
  // Re-armed lazily: replies do not move the timer; it looks again at the oldest command when due.
  if (pending_.front().deadline > reactor_.seconds()) return armWatchdog();
  down("no reply within " + std::to_string(options_.timeout) + " s");
  if (link_ != nullptr) link_->transport().abortConnection();  // linkLost follows and reconnects
}

void Client::bytesReceived(std::span<const std::uint8_t> bytes) {
  try {
    reader_.feed(bytes);
    while (reader_.next([this](const Reply& reply) {
      // A pub/sub push: ["message", channel, payload].
      if (onMessage_ && reply.type() == Reply::Type::Array && reply.size() == 3 &&
          reply.element(0).string() == "message") {
        onMessage_(reply.element(1).string(), reply.element(2).string());
        return;
      }
      if (pending_.empty()) return;  // nothing asked for this (a late subscribe confirmation)
      Pending p = std::move(pending_.front());
      pending_.pop_front();
      if (p.done) p.done(&reply);
    })) {
    }
  } catch (const ProtocolError& e) {
    down(e.what());
    if (link_ != nullptr) link_->transport().abortConnection();
  }
}

void Client::linkMade(reactor::Protocol* link) {
  if (state_ == State::Stopped) {
    link->transport().loseConnection();
    return;
  }
  link_ = link;
  state_ = State::Connected;
  delay_ = options_.initialDelay;
  ++connectionsMade_;
  if (options_.logOutages) {
    if (outage_) {
      reactor::log::warning("redis ", describe(), " reachable again after ", reactor_.seconds() - outageSince_,
                            " s; serving from it");
    } else if (connectionsMade_ == 1) {
      reactor::log::info("redis ", describe(), " connected");
    }
  }
  outage_ = false;
  if (!options_.password.empty()) {
    command([this](std::string& out) { appendCommand(out, {"AUTH", options_.password}); },
            [weak = weak_from_this()](const Reply* reply) {
              auto self = weak.lock();
              if (!self || reply == nullptr || !reply->isError()) return;
              reactor::log::error("redis ", self->describe(), " refused the password: ", reply->string());
            });
  }
  if (onConnected_) onConnected_(*this);
}

void Client::linkFailed(const std::string& reason) {
  down(reason);
  retryLater();
}

void Client::linkLost(const std::string& reason) {
  link_ = nullptr;
  if (state_ == State::Stopped) return;
  down(reason);
  retryLater();
}

void Client::down(const std::string& reason) {
  if (state_ == State::Connected) state_ = State::WaitingToRetry;  // no command accepted from here
  outbox_.clear();
  if (watchdog_.active()) watchdog_.cancel();
  if (!outage_ && state_ != State::Stopped) {
    outage_ = true;
    outageSince_ = reactor_.seconds();
    if (options_.logOutages) {
      reactor::log::warning("redis ", describe(), " unavailable (", reason,
                            "): requests answer exception 04 while reconnecting");
    }
  }
  failPending();
}

void Client::retryLater() {
  if (state_ == State::Stopped) return;
  if (!reactor_.running()) {
    state_ = State::Stopped;  // the reactor is going away: no more attempts
    return;
  }
  state_ = State::WaitingToRetry;
  const double wait = delay_;
  delay_ = std::min(options_.maxDelay, delay_ * options_.factor);
  std::weak_ptr<Client> weak = weak_from_this();
  retry_ = reactor_.callLater(wait, [weak] {
    auto self = weak.lock();
    if (self && self->state_ == State::WaitingToRetry) self->connect();
  });
}

void Client::failPending() {
  std::deque<Pending> waiting = std::move(pending_);
  pending_.clear();
  for (const Pending& p : waiting) {
    if (p.done) p.done(nullptr);
  }
}

}  // namespace redis
