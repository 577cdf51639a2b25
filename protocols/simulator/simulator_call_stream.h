// CallStream: the /api/v1/calls/stream hub. Each answered Modbus call becomes one Server-Sent Event
// ("event: call", data a JSON object: time, unit, function code, address and count, request and
// response in hex and decoded, how the answer left) for every listening client whose filter it
// passes.
// Rules:
// - It is SimulatorCalls' CallTap only while a client listens: with none, the Modbus path pays one
//   pointer test and formats nothing. A call is formatted once, and only if some filter takes it.
// - A client that stops reading is cut off by its EventStream (the HTTP server's maxBufferedOutput);
//   writes never block, so Modbus never waits for a client.
// - A client gone (closed, cut off) is dropped before the next call; reactor thread only.
// Tests: tests/protocols/simulator/simulator_api_v1_test.cc, tests/integration/simulator_api_v1_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocols/http/event_stream.h"
#include "protocols/simulator/simulator_calls.h"

namespace modbus {

/// Which calls one client wants. A call with no address (FC 8, 43, ...) passes an address filter
/// only when none was given.
struct CallStreamFilter {
  std::optional<std::uint8_t> unit{};
  std::optional<std::uint8_t> functionCode{};
  bool byAddress = false;
  std::uint32_t addressStart = 0;
  std::uint32_t addressStop = 65535;

  bool passes(std::uint8_t unitId, std::span<const std::uint8_t> request) const;
};

/// The JSON text of one call's event (no time zone games: "time" is UTC).
std::string callEventJson(double epochSeconds, std::uint8_t unitId, std::span<const std::uint8_t> request,
                          std::span<const std::uint8_t> response, const ResponsePlan& plan);

class CallStream final : public CallTap {
 public:
  explicit CallStream(SimulatorCalls& calls);
  ~CallStream() override;
  CallStream(const CallStream&) = delete;
  CallStream& operator=(const CallStream&) = delete;

  /// Adds a client (its stream open); sends it a ": subscribed" comment so it knows it listens.
  void subscribe(std::shared_ptr<http::EventStream> stream, CallStreamFilter filter);
  std::size_t subscribers() const { return subscribers_.size(); }

  void onCall(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<const std::uint8_t> response,
              const ResponsePlan& plan) override;

 private:
  struct Subscriber {
    std::shared_ptr<http::EventStream> stream;
    CallStreamFilter filter;
  };
  /// Drops clients whose stream closed; untaps when none is left.
  void prune();

  SimulatorCalls& calls_;
  std::vector<Subscriber> subscribers_;
  std::shared_ptr<CallStream*> self_;  // onClose callbacks hold it weakly: they may outlive us
  bool dispatching_ = false;
};

}  // namespace modbus
