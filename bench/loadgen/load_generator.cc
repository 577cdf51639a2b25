// LoadGenerator: paced connects, warmup, the measured window and the idle / first-reply modes, on
// our reactor; runLoad() is the one-call entry point.
#include "bench/loadgen/load_generator.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "bench/loadgen/load_client.h"
#include "bench/loadgen/udp_client.h"
#include "reactor/log.h"
#include "reactor/tls.h"

namespace bench {
namespace {

double ownCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// Builds the connections: PipelinedClient, or SlowClient for the slow factory.
class LoadFactory final : public reactor::ClientFactory {
 public:
  LoadFactory(LoadGenerator& generator, bool slow, std::size_t& nextOffset)
      : gen_(generator), slow_(slow), nextOffset_(nextOffset) {}

  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address&) override {
    std::shared_ptr<reactor::Protocol> p;
    if (slow_) {
      p = std::make_shared<SlowClient>(gen_, gen_.options().slowInterval);
    } else {
      p = std::make_shared<PipelinedClient>(gen_, gen_.options().depth, nextOffset_++);
    }
    adopt(*p);
    return p;
  }
  void clientConnectionFailed(reactor::IConnector&, const reactor::Failure& reason) override {
    gen_.connectionFailed(&reason);
  }

 private:
  LoadGenerator& gen_;
  bool slow_;
  std::size_t& nextOffset_;
};

}  // namespace

LoadGenerator::LoadGenerator(const LoadOptions& options) : options_(options) {
  if (options_.connections == 0) throw std::invalid_argument("connections must be at least 1");
  if (options_.depth == 0 || options_.depth > 1024) throw std::invalid_argument("depth must be 1..1024");
  if (options_.mix.empty()) throw std::invalid_argument("the request mix is empty");
  if (!(options_.duration > 0) || !(options_.warmup >= 0)) {
    throw std::invalid_argument("duration must be > 0 and warmup >= 0");
  }
  if (!(options_.connectRate >= 0) || !(options_.connectTimeout > 0) || !(options_.settleTimeout > 0)) {
    throw std::invalid_argument("connect rate must be >= 0, connect and settle timeouts > 0");
  }
  if (options_.slowClients > 0 && options_.mode != LoadMode::ClosedLoop) {
    throw std::invalid_argument("slow clients run only in the closed-loop mode");
  }
  if (options_.slowClients > 0 && !(options_.slowInterval > 0)) {
    throw std::invalid_argument("the slow interval must be > 0");
  }
  if (options_.transport == LoadTransport::Udp) {
    if (options_.mode != LoadMode::ClosedLoop) throw std::invalid_argument("UDP runs only in the closed-loop mode");
    if (options_.slowClients > 0) throw std::invalid_argument("UDP has no slow clients");
    if (!(options_.udpTimeout > 0)) throw std::invalid_argument("the UDP timeout must be > 0");
  }
  if (options_.transport == LoadTransport::Tls) {
    reactor::TlsOptions tls;
    tls.caFile = options_.tlsCaFile;
    tls.certFile = options_.tlsCertFile;
    tls.keyFile = options_.tlsKeyFile;
    tls.serverName = options_.tlsServerName;
    tlsContext_ = reactor::TlsContext::create(reactor::TlsSide::Client, std::move(tls));  // throws TlsError
  }
  for (const auto& spec : options_.mix) templates_.emplace_back(spec, options_.unit);
  schedule_ = weightedSchedule(options_.mix);
  scratch_.resize(static_cast<std::size_t>(options_.depth) * RequestTemplate::kMaxAdu);
  factory_ = std::make_shared<LoadFactory>(*this, false, nextOffset_);
  slowFactory_ = std::make_shared<LoadFactory>(*this, true, nextOffset_);
  totalConnections_ = options_.connections + options_.slowClients;
  result_.mode = options_.mode;
  result_.transport = options_.transport;
  result_.connectionsRequested = totalConnections_;
}

LoadGenerator::~LoadGenerator() = default;

LoadResult LoadGenerator::run() {
  reactor_.setShutdownGracePeriod(1.0);
  if (options_.serverPid > 0) {
    serverAtStart_ = sampleProcess(options_.serverPid);
    if (serverAtStart_) result_.serverRssBeforeKb = serverAtStart_->rssKb;
  }
  double bound = options_.connectTimeout + 2.0;
  if (options_.connectRate > 0) bound += totalConnections_ / options_.connectRate;
  const bool timed = options_.mode == LoadMode::ClosedLoop || options_.mode == LoadMode::Reconnect;
  bound += timed ? options_.warmup + options_.duration + 5.0 : options_.settleTimeout;
  watchdog_ = reactor_.callLater(bound, [this] {
    result_.timedOut = true;
    finish();
  });
  reactor_.callWhenRunning([this] {
    openStart_ = reactor_.seconds();
    startNanos_ = nowNanos();
    if (options_.transport == LoadTransport::Udp) {
      double interval = std::min(0.01, options_.udpTimeout / 4);
      udpExpiry_.emplace(reactor_, [this] { expireDatagrams(); });
      udpExpiry_->start(interval, false);
    }
    if (options_.mode == LoadMode::Reconnect) {
      // No connecting phase: each of the N "connections" is a loop of connect, request, close.
      phase_ = Phase::Running;
      for (unsigned i = 0; i < options_.connections; ++i) connectOne(false);
      if (options_.warmup > 0) {
        reactor_.callLater(options_.warmup, [this] { beginMeasuring(); });
      } else {
        beginMeasuring();
      }
      return;
    }
    if (options_.connectRate <= 0) {
      while (opened_ < totalConnections_ && phase_ == Phase::Connecting) openOne();
      return;
    }
    opener_.emplace(reactor_, [this] { openSome(); });
    opener_->start(0.005, true);
  });
  reactor_.setBusyPolling(options_.busyPoll);
  reactor_.run(false);
  return result_;
}

void LoadGenerator::openSome() {
  double elapsed = reactor_.seconds() - openStart_;
  double allowed = std::floor(options_.connectRate * elapsed) + 1.0;
  unsigned target = allowed >= totalConnections_ ? totalConnections_ : static_cast<unsigned>(allowed);
  while (opened_ < target && phase_ == Phase::Connecting) openOne();
  if (opened_ >= totalConnections_ && opener_ && opener_->running()) opener_->stop();
}

void LoadGenerator::openOne() {
  bool slow = opened_ >= options_.connections;
  ++opened_;
  if (options_.transport == LoadTransport::Udp) {
    openUdpClient();
    return;
  }
  connectOne(slow);
}

void LoadGenerator::connectOne(bool slow) {
  auto factory = slow ? slowFactory_ : factory_;
  if (options_.transport == LoadTransport::Tls) {
    reactor::connectTLS(reactor_, options_.host, options_.port, factory, tlsContext_, options_.connectTimeout);
  } else {
    reactor_.connectTCP(options_.host, options_.port, factory, options_.connectTimeout);
  }
}

void LoadGenerator::openUdpClient() {
  reactor::Address server{reactor::Address::Type::UDP, options_.host, options_.port, false};
  auto client = std::make_shared<UdpClient>(*this, options_.depth, nextOffset_++, server);
  try {
    client->start();
  } catch (const std::exception& e) {
    reactor::log::error("UDP client: ", e.what());
    connectionFailed();
    return;
  }
  udpClients_.push_back(client);
  ++result_.connected;
  ++settled_;
  if (phase_ != Phase::Finished) client->fillSlots();
  connectionSettled();
}

void LoadGenerator::expireDatagrams() {
  if (phase_ == Phase::Finished) return;
  const std::int64_t now = nowNanos();
  const auto timeout = static_cast<std::int64_t>(options_.udpTimeout * 1e9);
  for (auto& client : udpClients_) client->expire(now, timeout);
}

void LoadGenerator::clientConnected(const std::shared_ptr<PipelinedClient>& client) {
  ++result_.connected;
  if (options_.mode == LoadMode::Reconnect) {
    if (phase_ != Phase::Finished) client->sendOne();
    return;
  }
  ++settled_;
  clients_.push_back(client);
  if (phase_ != Phase::Finished) {
    if (options_.mode == LoadMode::ClosedLoop) {
      client->fillSlots();
    } else if (options_.mode == LoadMode::FirstReply) {
      client->sendOne();
    }
  }
  connectionSettled();
}

void LoadGenerator::slowClientConnected() {
  ++result_.connected;
  ++settled_;
  connectionSettled();
}

void LoadGenerator::connectionFailed(const reactor::Failure* reason) {
  // Reconnect: the connects under way when the run ends are aborted by the reactor's stop.
  if (options_.mode == LoadMode::Reconnect && phase_ == Phase::Finished) return;
  ++result_.connectFailed;
  // Why, for the first few: a failed connect makes the run invalid, and the report must say why.
  if (reason && result_.connectFailed <= 5) reactor::log::warning("connect failed: ", reason->getErrorMessage());
  if (options_.mode == LoadMode::Reconnect) return;
  ++settled_;
  connectionSettled();
}

void LoadGenerator::connectionLost(bool closedByUs) {
  if (phase_ == Phase::Finished) return;
  if (options_.mode == LoadMode::Reconnect && closedByUs) {
    connectOne(false);  // the next cycle
    return;
  }
  ++result_.connectionsLost;
  checkRepliesDone();
}

void LoadGenerator::connectionSettled() {
  if (phase_ == Phase::Connecting && settled_ == totalConnections_) allConnectionsSettled();
}

void LoadGenerator::allConnectionsSettled() {
  phase_ = Phase::Running;
  if (result_.connected == 0) {
    finish();
    return;
  }
  switch (options_.mode) {
    case LoadMode::ClosedLoop:
      if (options_.warmup > 0) {
        reactor_.callLater(options_.warmup, [this] { beginMeasuring(); });
      } else {
        beginMeasuring();
      }
      break;
    case LoadMode::Idle: sendIdleRequests(); break;
    case LoadMode::FirstReply: checkRepliesDone(); break;
    case LoadMode::Reconnect: break;  // never in the connecting phase
  }
}

void LoadGenerator::beginMeasuring() {
  if (phase_ == Phase::Finished) return;
  if (options_.serverPid > 0) serverAtStart_ = sampleProcess(options_.serverPid);
  ownCpuAtStart_ = ownCpuSeconds();
  histogram_.clear();
  result_.requests = 0;
  measuring_ = true;
  measureStartNanos_ = nowNanos();
  reactor_.callLater(options_.duration, [this] { endMeasuring(); });
}

void LoadGenerator::endMeasuring() {
  if (phase_ == Phase::Finished) return;
  std::int64_t end = nowNanos();
  measuring_ = false;
  result_.measuredSeconds = static_cast<double>(end - measureStartNanos_) / 1e9;
  result_.requestsPerSecond = static_cast<double>(result_.requests) / result_.measuredSeconds;
  result_.p50Us = histogram_.percentileMicros(50);
  result_.p99Us = histogram_.percentileMicros(99);
  result_.p999Us = histogram_.percentileMicros(99.9);
  result_.maxUs = histogram_.maxMicros();
  result_.meanUs = histogram_.meanMicros();
  result_.loadgenCpuPercent = 100.0 * (ownCpuSeconds() - ownCpuAtStart_) / result_.measuredSeconds;
  if (options_.serverPid > 0 && serverAtStart_) {
    if (auto now = sampleProcess(options_.serverPid)) {
      result_.haveServer = true;
      result_.serverCpuSeconds = now->cpuSeconds - serverAtStart_->cpuSeconds;
      result_.serverCpuPercent = 100.0 * result_.serverCpuSeconds / result_.measuredSeconds;
      if (result_.requests > 0) {
        result_.serverCpuUsPerRequest = result_.serverCpuSeconds * 1e6 / static_cast<double>(result_.requests);
      }
      result_.serverPeakRssKb = now->hwmKb;
    }
  }
  finish();
}

void LoadGenerator::sendIdleRequests() {
  for (auto& weak : clients_) {
    if (auto client = weak.lock()) client->sendOne();
  }
  checkRepliesDone();
}

void LoadGenerator::replyReceived(std::int64_t sentNanos, std::int64_t now) {
  switch (options_.mode) {
    case LoadMode::Reconnect:
    case LoadMode::ClosedLoop:
      if (measuring_) {
        histogram_.record(static_cast<std::uint64_t>(now - sentNanos));
        ++result_.requests;
      }
      return;
    case LoadMode::FirstReply: {
      double sinceStart = static_cast<double>(now - startNanos_) / 1e9;
      if (sinceStart <= options_.firstReplyDeadline) ++result_.firstReplyWithin;
      result_.slowestFirstReplyMs = std::max(result_.slowestFirstReplyMs, sinceStart * 1e3);
      break;
    }
    case LoadMode::Idle: break;
  }
  ++result_.replied;
  ++answered_;
  checkRepliesDone();
}

void LoadGenerator::replyRejected(ReplyError error) {
  ++result_.errors;
  ++result_.errorsByKind[static_cast<std::size_t>(error)];
  if ((options_.mode == LoadMode::Idle || options_.mode == LoadMode::FirstReply) &&
      error != ReplyError::UnknownTransaction) {
    ++answered_;
    checkRepliesDone();
  }
}

void LoadGenerator::checkRepliesDone() {
  if (options_.mode == LoadMode::ClosedLoop || options_.mode == LoadMode::Reconnect || phase_ != Phase::Running) {
    return;
  }
  if (answered_ + result_.connectionsLost < result_.connected) return;
  if (options_.mode == LoadMode::Idle && options_.serverPid > 0) {
    if (auto now = sampleProcess(options_.serverPid)) {
      result_.haveServer = true;
      result_.serverRssAfterKb = now->rssKb;
      result_.serverPeakRssKb = now->hwmKb;
      if (result_.connected > 0 && serverAtStart_) {
        double grown = static_cast<double>(now->rssKb) - static_cast<double>(serverAtStart_->rssKb);
        result_.bytesPerConnection = grown * 1024.0 / result_.connected;
      }
    }
  }
  finish();
}

void LoadGenerator::finish() {
  if (phase_ == Phase::Finished) return;
  phase_ = Phase::Finished;
  measuring_ = false;
  if (watchdog_.active()) watchdog_.cancel();
  if (opener_ && opener_->running()) opener_->stop();
  if (udpExpiry_ && udpExpiry_->running()) udpExpiry_->stop();
  for (auto& client : udpClients_) client->stop();
  if (reactor_.running()) reactor_.stop();
}

LoadResult runLoad(const LoadOptions& options) {
  LoadGenerator generator(options);
  return generator.run();
}

}  // namespace bench
