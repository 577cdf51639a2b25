// The load generator's connections: PipelinedClient keeps up to `depth` requests in flight and
// checks every reply; SlowClient dribbles each request one byte at a time (a slowloris neighbour).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "bench/loadgen/modbus_request.h"
#include "reactor/looping_call.h"
#include "reactor/protocol.h"

namespace bench {

class LoadGenerator;

/// Monotonic nanoseconds (steady_clock).
std::int64_t nowNanos();

/// A Modbus/TCP client connection with `depth` request slots. The transaction id encodes the slot
/// (low bits) and a per-slot generation (high bits), so a reply finds its request in O(1) and a
/// stale, duplicated or invented id is caught. Requests cycle through the generator's weighted
/// schedule, starting at an offset per connection.
class PipelinedClient final : public reactor::Protocol {
 public:
  PipelinedClient(LoadGenerator& generator, unsigned depth, std::size_t scheduleOffset);

  void connectionMade() override;
  void dataReceived(reactor::ByteView data) override;
  void connectionLost(const reactor::Failure& reason) override;

  /// Fill every free slot (closed loop), now.
  void fillSlots();
  /// Send one request (Idle / FirstReply modes); false when no slot is free or not connected.
  bool sendOne();
  /// Replies received on this connection so far (valid or not).
  std::uint64_t replies() const { return replies_; }

  std::string logPrefix() const override { return "PipelinedClient"; }

 private:
  struct Slot {
    std::int64_t sentNanos = 0;
    std::uint16_t transactionId = 0;
    std::uint16_t generation = 0;
    std::uint32_t op = 0;  ///< index into the generator's templates
    bool busy = false;
  };

  /// Appends a request for a free slot to `out` (bytes written returned; 0 when none free).
  std::size_t queueRequest(std::uint8_t* out, std::int64_t now);
  void handleFrame(std::span<const std::uint8_t> adu, std::int64_t now, bool& refill);

  LoadGenerator& gen_;
  std::vector<Slot> slots_;
  std::vector<std::uint16_t> freeSlots_;
  unsigned slotBits_ = 0;
  std::size_t scheduleIndex_;
  std::vector<std::uint8_t> pending_;  ///< a partial reply carried to the next read
  std::uint64_t replies_ = 0;
  bool closedByUs_ = false;  ///< Reconnect mode: we closed it after its reply
};

/// Sends a valid request one byte every `interval` seconds, waits for the reply, checks it, and
/// starts over. Its replies are counted apart from the closed-loop ones.
class SlowClient final : public reactor::Protocol {
 public:
  SlowClient(LoadGenerator& generator, double interval);

  void connectionMade() override;
  void dataReceived(reactor::ByteView data) override;
  void connectionLost(const reactor::Failure& reason) override;

  std::string logPrefix() const override { return "SlowClient"; }

 private:
  void beginRequest();
  void sendNextByte();

  LoadGenerator& gen_;
  double interval_;
  std::optional<reactor::LoopingCall> loop_;
  std::vector<std::uint8_t> request_;
  std::size_t sent_ = 0;
  std::uint16_t transactionId_ = 0;
  std::uint32_t op_ = 0;
  std::vector<std::uint8_t> pending_;
};

}  // namespace bench
