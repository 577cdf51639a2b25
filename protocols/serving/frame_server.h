// FrameServer: the serving core every Modbus server protocol shares (stream, UDP, serial line). It
// owns the decode loop over a framer (NeedMore / Frame / Discard / Fatal), the input buffering of
// frames split across reads, and the running of one request: the unit's asynchronous device or the
// RequestProcessor, exception 04 when a handler throws, then the ASCII delimiter follow-up (FC 8 / 03).
// What differs per transport is a policy the caller passes to the decode loop: what to do with a
// frame, a discard, a fatal error, whether to hold the rest for later (a stream's output is full),
// whether to skip bytes first (another device's response on a shared serial line) and whether the
// input's end is a frame gap (one datagram).
// Rules kept: no allocation (the loop is a template, the policy a stack object); the framer and the
// processor outlive the core; nothing here casts to a concrete framer (Framer virtuals only).
// Tests: tests/protocols/serving/frame_server_test.cc, and through the three protocols' tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "framers/buffer.h"
#include "framers/framer.h"
#include "protocols/application/request_processor.h"
#include "protocols/serving/serving_metrics.h"

namespace modbus {

class AsyncDevice;

/// What serving one request gave.
struct Answer {
  enum class Kind {
    Send,     ///< `length` bytes of response PDU are ready
    Silence,  ///< nothing is to be sent (a handler chose silence)
    Pending,  ///< `device` will answer later; the caller submits the request to it and keeps the order
  };
  Kind kind = Kind::Silence;
  std::size_t length = 0;
  AsyncDevice* device = nullptr;
};

/// The defaults of a decode-loop policy; a policy derives from it and hides what it changes.
struct FramePolicy {
  /// True once the rest of the input is to be ignored (the transport is closing).
  bool stopped() const { return false; }
  /// True to stop decoding before the next frame and keep the rest of the input for later (the
  /// connection's output is full): the caller decodes it again when it may.
  bool held() { return false; }
  /// Bytes to skip before decoding: nullopt = decode; 0 = wait for more; n = skip n bytes.
  std::optional<std::size_t> skip(std::span<const std::uint8_t> rest) {
    (void)rest;
    return std::nullopt;
  }
  /// The framer wants more bytes: return true to decode again (after marking a gap, say).
  bool needMore() { return false; }
  void discarded(const DecodeResult& r) { (void)r; }
  void fatal(const DecodeResult& r) { (void)r; }
};

class FrameServer {
 public:
  /// When the datastore has one device (single, or one unit id) the framer follows that device's
  /// ASCII delimiter from the start, before this line has served it anything.
  FrameServer(Framer& framer, RequestProcessor& processor);

  Framer& framer() const { return *framer_; }
  RequestProcessor& processor() const { return *processor_; }
  /// Where serve() counts requests (serving_metrics.h); null counts nothing. The caller counts the
  /// rest (bytes, answers, latency) where its transport reads and writes.
  void setMetrics(ServingMetrics* metrics) { metrics_ = metrics; }
  ServingMetrics* metrics() const { return metrics_; }

  /// Runs one request for `unitId`. With `allowAsync` an asynchronous unit gives Pending (the
  /// caller submits); otherwise the processor answers into `response` (exception 04 if it throws,
  /// logged with `transport`). The framer then takes the unit's device's ASCII input delimiter.
  Answer serve(std::uint8_t unitId, std::span<const std::uint8_t> pdu, std::span<std::uint8_t> response,
               bool allowAsync, std::string_view transport);
  /// The ASCII input delimiter becomes that of `unitId`'s device (FC 8 / 03): the framer belongs to
  /// one connection or line and follows the device it last served (one device per line, as the guide).
  /// decodeFrames reads that device's delimiter again before decoding, so a change made through
  /// another transport (FC 8 / 03 over TCP to the unit an ASCII line serves) applies to this input
  /// too, and setting the delimiter back repairs a line it broke.
  void followAsciiDelimiter(std::uint8_t unitId);

  /// Decodes every whole frame at the front of `input`, calling `policy.frame(result)` for each;
  /// returns the bytes consumed (all of them after a Fatal or once the policy has stopped).
  template <class Policy>
  std::size_t decodeFrames(std::span<const std::uint8_t> input, Policy& policy);
  /// `data` appended to what `input` holds from earlier reads, then decoded; what is left of an
  /// unfinished frame stays in `input`. Whole frames are decoded straight from `data` (no copy).
  template <class Policy>
  void feed(Buffer& input, std::span<const std::uint8_t> data, Policy& policy);

 private:
  /// The followed device's current delimiter onto the framer (once per decodeFrames call).
  void refreshAsciiDelimiter();

  Framer* framer_;
  RequestProcessor* processor_;
  std::optional<std::uint8_t> followedUnit_;  // the unit whose delimiter the framer follows
  ServingMetrics* metrics_ = nullptr;
};

template <class Policy>
std::size_t FrameServer::decodeFrames(std::span<const std::uint8_t> input, Policy& policy) {
  std::size_t offset = 0;
  if (followedUnit_) refreshAsciiDelimiter();
  while (offset < input.size()) {
    if (policy.stopped()) return input.size();
    if (policy.held()) return offset;
    const auto rest = input.subspan(offset);
    if (const std::optional<std::size_t> skip = policy.skip(rest)) {
      if (*skip == 0) return offset;
      offset += *skip;
      continue;
    }
    const DecodeResult r = framer_->decode(rest);
    switch (r.status) {
      case DecodeStatus::NeedMore:
        if (policy.needMore()) continue;
        return offset;
      case DecodeStatus::Discard:
        policy.discarded(r);
        offset += r.consumed;
        break;
      case DecodeStatus::Fatal:
        policy.fatal(r);
        return input.size();
      case DecodeStatus::Frame:
        policy.frame(r);
        offset += r.consumed;
        break;
    }
  }
  return offset;
}

template <class Policy>
void FrameServer::feed(Buffer& input, std::span<const std::uint8_t> data, Policy& policy) {
  if (input.readableBytes() == 0) {
    const std::size_t used = decodeFrames(data, policy);
    if (used < data.size()) input.append(data.subspan(used));
  } else {
    input.append(data);
    input.retrieve(decodeFrames(input.readable(), policy));
  }
}

}  // namespace modbus
