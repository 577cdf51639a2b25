// LoadGenerator: drives one load run on our reactor (connectTCP) — paced connects, warmup, the
// measured window, the idle and first-reply modes — and gathers the LoadResult.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/load_options.h"
#include "bench/loadgen/modbus_request.h"
#include "bench/loadgen/proc_stats.h"
#include "reactor/looping_call.h"
#include "reactor/reactor.h"

namespace reactor {
class TlsContext;
}

namespace bench {

class PipelinedClient;
class UdpClient;

/// Runs `options` to completion on a reactor of its own (blocking; bounded by the options'
/// timeouts plus warmup and duration) and returns what it measured. Throws std::invalid_argument
/// for options out of range.
LoadResult runLoad(const LoadOptions& options);

/// The state one run shares with its connections. Single-threaded: everything runs on the reactor.
class LoadGenerator {
 public:
  explicit LoadGenerator(const LoadOptions& options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  /// Blocks until the run is over.
  LoadResult run();

  // --- for the connections ----------------------------------------------------------------------
  const LoadOptions& options() const { return options_; }
  reactor::Reactor& reactor() { return reactor_; }
  const RequestTemplate& requestTemplate(std::uint32_t op) const { return templates_[op]; }
  /// The op to send at position `index` of the weighted schedule (wraps around).
  std::uint32_t scheduledOp(std::size_t index) const {
    return static_cast<std::uint32_t>(schedule_[index % schedule_.size()]);
  }
  /// Room for a whole window of requests (depth × the largest ADU), reused by every connection.
  std::uint8_t* scratch() { return scratch_.data(); }
  /// Closed loop: may connections send new requests?
  bool refilling() const { return phase_ != Phase::Finished && options_.mode == LoadMode::ClosedLoop; }

  void clientConnected(const std::shared_ptr<PipelinedClient>& client);
  void slowClientConnected();
  /// A valid reply to a request sent at `sentNanos`, received at `nowNanos`.
  void replyReceived(std::int64_t sentNanos, std::int64_t now);
  void slowReplyReceived() { ++result_.slowReplies; }
  void replyRejected(ReplyError error);
  /// `reason`: the connect attempt's failure (logged for the first few), null for a UDP socket.
  void connectionFailed(const reactor::Failure* reason = nullptr);
  /// `closedByUs`: the Reconnect mode closed it after its reply (expected, not a loss).
  void connectionLost(bool closedByUs = false);
  /// Udp: `n` requests went unanswered past the timeout (they are re-issued).
  void datagramsLost(std::size_t n) { result_.udpLost += n; }
  /// Udp: a valid reply to a request already declared lost.
  void lateReplyReceived() { ++result_.udpLate; }

 private:
  enum class Phase { Connecting, Running, Finished };

  void openSome();
  void openOne();
  void connectOne(bool slow);
  void openUdpClient();
  void expireDatagrams();
  void connectionSettled();
  void allConnectionsSettled();
  void beginMeasuring();
  void endMeasuring();
  void sendIdleRequests();
  void checkRepliesDone();
  void finish();

  LoadOptions options_;
  reactor::Reactor reactor_;
  std::vector<RequestTemplate> templates_;
  std::vector<std::size_t> schedule_;
  std::vector<std::uint8_t> scratch_;
  std::shared_ptr<reactor::ClientFactory> factory_;
  std::shared_ptr<reactor::ClientFactory> slowFactory_;
  std::vector<std::weak_ptr<PipelinedClient>> clients_;
  std::optional<reactor::LoopingCall> opener_;
  std::vector<std::shared_ptr<UdpClient>> udpClients_;
  std::optional<reactor::LoopingCall> udpExpiry_;
  std::shared_ptr<reactor::TlsContext> tlsContext_;
  reactor::DelayedCall watchdog_;

  Phase phase_ = Phase::Connecting;
  bool measuring_ = false;
  unsigned opened_ = 0;       ///< connect attempts started (normal + slow)
  unsigned settled_ = 0;      ///< attempts that connected or failed
  unsigned totalConnections_ = 0;
  unsigned answered_ = 0;     ///< Idle/FirstReply: connections whose one request was answered
  std::size_t nextOffset_ = 0;
  double openStart_ = 0;
  std::int64_t startNanos_ = 0;
  std::int64_t measureStartNanos_ = 0;
  double ownCpuAtStart_ = 0;
  std::optional<ProcSample> serverAtStart_;
  LatencyHistogram histogram_;
  LoadResult result_;
};

}  // namespace bench
