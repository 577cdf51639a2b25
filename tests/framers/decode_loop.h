// Test support for the framer tests: the protocol's decode loop, fed whole, in chunks or byte by byte.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "framers/buffer.h"
#include "framers/framer.h"

namespace modbus::test {

using Bytes = std::vector<std::uint8_t>;

/// "01 03 00 6B" → bytes (spaces ignored).
inline Bytes hexBytes(std::string_view hex) {
  Bytes out;
  int high = -1;
  for (char c : hex) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>((high << 4) | v));
      high = -1;
    }
  }
  if (high >= 0) {
    throw std::invalid_argument("hexBytes: odd number of hex digits");  // no REQUIRE: may run at static init
  }
  return out;
}

inline Bytes textBytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

inline Bytes repeat(const Bytes& part, std::size_t times) {
  Bytes out;
  for (std::size_t i = 0; i < times; ++i) out.insert(out.end(), part.begin(), part.end());
  return out;
}

/// One non-NeedMore result of decode, copied out of the views.
struct Event {
  DecodeStatus status = DecodeStatus::NeedMore;
  std::uint16_t transactionId = 0;
  std::uint16_t protocolId = 0;
  std::uint8_t unitId = 0;
  Bytes pdu;
  std::size_t consumed = 0;
  std::string reason;
};

/// A frame as the protocol would see it.
struct Seen {
  std::uint8_t unitId = 0;
  Bytes pdu;
  std::uint16_t transactionId = 0;
  friend bool operator==(const Seen&, const Seen&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Seen& s) {
    os << "{unit " << int{s.unitId} << " tid " << s.transactionId << " pdu";
    for (std::uint8_t b : s.pdu) os << ' ' << "0123456789abcdef"[b >> 4] << "0123456789abcdef"[b & 15];
    return os << '}';
  }
};

}  // namespace modbus::test

namespace doctest {
template <>
struct StringMaker<std::vector<modbus::test::Seen>> {
  static String convert(const std::vector<modbus::test::Seen>& frames) {
    std::ostringstream os;
    os << '[';
    for (const auto& f : frames) os << f << ' ';
    os << ']';
    return os.str().c_str();
  }
};
}  // namespace doctest

namespace modbus::test {

/// The caller's loop of framer.h, with the Framer contract checked on every result.
class DecodeLoop {
 public:
  explicit DecodeLoop(Framer& framer) : framer_(framer) {}

  /// Appends `chunk` and decodes until NeedMore (or Fatal: then nothing more is decoded).
  void feed(std::span<const std::uint8_t> chunk) {
    if (fatal_) return;
    input_.append(chunk);
    drain();
  }

  void drain() {
    // Each Frame/Discard consumes at least one byte, so this ends within readable + 1 rounds.
    const std::size_t bound = input_.readableBytes() + 1;
    for (std::size_t round = 0; round < bound && !fatal_; ++round) {
      const std::size_t before = input_.readableBytes();
      const DecodeResult r = framer_.decode(input_.readable());
      Event e;
      e.status = r.status;
      e.consumed = r.consumed;
      e.reason = r.reason;
      e.transactionId = r.header.transactionId;
      e.protocolId = r.header.protocolId;
      e.unitId = r.header.unitId;
      switch (r.status) {
        case DecodeStatus::NeedMore:
          CHECK(r.consumed == 0);
          return;
        case DecodeStatus::Fatal:
          CHECK(std::string_view(r.reason).size() > 0);
          fatal_ = true;
          events_.push_back(e);
          return;
        case DecodeStatus::Frame:
          REQUIRE(r.pdu.size() >= 1);
          REQUIRE(r.pdu.size() <= kMaxPduSize);
          e.pdu.assign(r.pdu.begin(), r.pdu.end());
          break;
        case DecodeStatus::Discard:
          CHECK(std::string_view(r.reason).size() > 0);
          break;
      }
      REQUIRE(r.consumed >= 1);
      REQUIRE(r.consumed <= before);
      events_.push_back(e);
      input_.retrieve(r.consumed);
    }
    FAIL_CHECK("decode loop did not reach NeedMore");
  }

  const std::vector<Event>& events() const { return events_; }
  bool fatal() const { return fatal_; }
  Buffer& input() { return input_; }

  std::vector<Seen> frames() const {
    std::vector<Seen> out;
    for (const Event& e : events_) {
      if (e.status == DecodeStatus::Frame) out.push_back({e.unitId, e.pdu, e.transactionId});
    }
    return out;
  }

  std::size_t discardedBytes() const {
    std::size_t n = 0;
    for (const Event& e : events_) {
      if (e.status == DecodeStatus::Discard) n += e.consumed;
    }
    return n;
  }

  std::size_t count(DecodeStatus status) const {
    std::size_t n = 0;
    for (const Event& e : events_) n += e.status == status ? 1 : 0;
    return n;
  }

 private:
  Framer& framer_;
  Buffer input_;
  std::vector<Event> events_;
  bool fatal_ = false;
};

/// Feeds `bytes` in pieces that end at each of `cuts` (ascending offsets), then the rest.
inline void feedCuts(DecodeLoop& loop, const Bytes& bytes, const std::vector<std::size_t>& cuts) {
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    loop.feed(std::span<const std::uint8_t>(bytes).subspan(from, cut - from));
    from = cut;
  }
  loop.feed(std::span<const std::uint8_t>(bytes).subspan(from));
}

inline void feedByteByByte(DecodeLoop& loop, const Bytes& bytes) {
  for (std::uint8_t b : bytes) loop.feed(std::span<const std::uint8_t>(&b, 1));
}

/// Up to `maxCuts` sorted random cut points inside [1, size).
inline std::vector<std::size_t> randomCuts(std::mt19937& rng, std::size_t size, std::size_t maxCuts = 8) {
  std::vector<std::size_t> cuts;
  if (size < 2) return cuts;
  std::uniform_int_distribution<std::size_t> count(0, maxCuts);
  std::uniform_int_distribution<std::size_t> where(1, size - 1);
  for (std::size_t n = count(rng); n > 0; --n) cuts.push_back(where(rng));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

/// What a Framer encodes, as bytes.
inline Bytes encoded(Framer& framer, const FrameHeader& header, const Bytes& pdu) {
  Buffer out;
  framer.encode(out, header, pdu);
  return Bytes(out.readable().begin(), out.readable().end());
}

}  // namespace modbus::test
