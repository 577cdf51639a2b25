// ServingMetrics: what one server has served, counted by the serving core for every transport
// (TCP, TLS, RTU/ASCII over TCP, UDP, serial line) and read by the /metrics exposition
// (protocols/servers/server_metrics.h, protocols/http/prometheus.h).
// Rules kept:
// - Plain integer arrays, updated on the reactor thread: an increment, no allocation, no lock, no
//   atomic. Readers (the HTTP side) run on the same thread, so a scrape sees a consistent picture.
// - One object per server (ModbusServer owns it, shared with its factory or protocols, so a protocol
//   that outlives its server still counts into live memory); a protocol built without one counts nothing.
// - Latency is kept in integer nanoseconds in fixed buckets (Prometheus's cumulative histogram is
//   built when it is read). The clock is the server's reactor (uv_hrtime), or a ManualClock in tests.
// What is counted where:
// - requests: every decoded request PDU the core runs (FrameServer::serve), by function code;
// - exceptions: every answer sent with the exception bit, by function code and exception code, after
//   any response hook rewrote it and when an asynchronous device answered;
// - bytes: as read from and written to the transport (datagrams and serial chunks included);
// - connections: stream connections made and lost; a serial line's opening and loss count as one.
//   Refusals and server-side closes by reason are the factory's ConnectionLog (read with it).
// - latency: from the read that brought a request to the write of its answer, per read batch for
//   synchronous answers (one batch's answers leave in one write, so they share its time), per
//   request for answers that wait (an asynchronous device, a delayed or split answer, a serial
//   line's t3.5 before replying).
// Tests: tests/protocols/serving/serving_metrics_test.cc
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace modbus {

/// A latency histogram with fixed upper bounds (seconds), counts per bucket (not cumulative).
class LatencyHistogram {
 public:
  /// Upper bounds of the finite buckets, in seconds; a last bucket (+Inf) takes the rest.
  static constexpr std::array<double, 14> kBoundsSeconds{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                         0.01,    0.025,  0.05,    0.1,    0.25,   0.5,   1.0};
  static constexpr std::size_t kBuckets = kBoundsSeconds.size() + 1;

  /// `count` requests that each took `seconds` (negative, from a clock set back in a test, is 0).
  void observe(double seconds, std::uint64_t count = 1) {
    if (count == 0) return;
    const std::uint64_t ns = seconds > 0 ? static_cast<std::uint64_t>(seconds * 1e9) : 0;
    std::size_t i = 0;
    while (i < kBoundsNs.size() && ns > kBoundsNs[i]) ++i;
    buckets_[i] += count;
    count_ += count;
    sumNs_ += ns * count;
  }

  /// Observations in bucket `i` alone (i == kBuckets - 1: above the last bound).
  std::uint64_t bucket(std::size_t i) const { return buckets_[i]; }
  std::uint64_t count() const { return count_; }
  /// The sum of every observation, in nanoseconds.
  std::uint64_t sumNanoseconds() const { return sumNs_; }

 private:
  static constexpr std::array<std::uint64_t, 14> kBoundsNs{50'000,     100'000,    250'000,     500'000,    1'000'000,
                                                           2'500'000,  5'000'000,  10'000'000,  25'000'000, 50'000'000,
                                                           100'000'000, 250'000'000, 500'000'000, 1'000'000'000};
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sumNs_ = 0;
};

struct ServingMetrics {
  /// Exception codes 1..15 have a slot each; slot 0 takes any other code (0, or 16 and above,
  /// which only a response simulation would send).
  static constexpr std::size_t kExceptionSlots = 16;

  std::array<std::uint64_t, 256> requests{};  ///< by request function code
  /// By function code (without the exception bit) and exception-code slot.
  std::array<std::array<std::uint64_t, kExceptionSlots>, 128> exceptions{};
  std::uint64_t bytesReceived = 0;
  std::uint64_t bytesSent = 0;
  std::uint64_t connectionsMade = 0;
  std::uint64_t connectionsLost = 0;
  LatencyHistogram latency;

  static constexpr std::size_t exceptionSlot(std::uint8_t code) { return code < kExceptionSlots ? code : 0; }

  void countRequest(std::span<const std::uint8_t> pdu) {
    if (!pdu.empty()) ++requests[pdu[0]];
  }
  /// An answer PDU about to be sent: counted if it is an exception response.
  void countAnswer(std::span<const std::uint8_t> pdu) {
    if (pdu.size() >= 2 && (pdu[0] & 0x80) != 0) ++exceptions[pdu[0] & 0x7F][exceptionSlot(pdu[1])];
  }
};

}  // namespace modbus
