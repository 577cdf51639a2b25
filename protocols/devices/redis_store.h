// RedisStore: units whose tables live in Redis, shared by every uvmodbus-server process that uses
// the same prefix (issue 11 §2). An AsyncDevice next to the gateway: the serving core keeps each
// connection's answers in request order while Redis answers.
//
// Rules it keeps:
// - Reads (FC 1-4) are one HMGET, writes (FC 5, 6, 15, 16) one EVAL of a script that HSETs every
//   value of the request and PUBLISHes it: Redis runs a script whole, so no reader in any process
//   sees half of a multi-register write, and a read sent after a write's acknowledgment sees it.
// - Each unit keeps its configured device as the request's checker and encoder: a request that is
//   malformed or outside the tables is answered by it at once, without Redis; values read from
//   Redis are put into it and the answer encoded from it. Its other state (identity, counters,
//   files, FIFOs) stays per process. FC 22 (mask write) and FC 23 (write, then read) are one
//   script each too: atomic across processes.
// - Redis unreachable, or not answering within the timeout: exception 04 (never a hang); the
//   client reconnects with back-off and logs one line per outage.
// - Every connection seeds the tables with HSETNX: the configured values only where a key is
//   absent, so the first start fills Redis and a restart (of the server or of Redis with its data)
//   keeps what is there; a Redis that lost its data gets the configured values again.
// - Writes made through any process reach the write observers of every ModbusServerFactory added
//   with addFactory(), in every process, from the PUBLISH (a second connection, SUBSCRIBEd).
// Tests: tests/protocols/devices/redis_store_test.cc, tests/integration/redis_store_test.cc
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "protocols/devices/async_device.h"
#include "protocols/redis/redis_client.h"
#include "reactor/reactor.h"

namespace modbus {

class ModbusServerFactory;
class RequestProcessor;

struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// When not empty: Redis's UNIX socket ("unix:PATH" endpoint), used instead of host and port.
  std::string unixPath;
  /// Every key and the channel start with this: servers with the same prefix share the registers.
  std::string prefix = "uvmodbus";
  /// Empty: no AUTH.
  std::string password;
  /// Seconds a request may wait for Redis before exception 04.
  double timeout = 1.0;
};

class RedisStore final : public AsyncDevice, public std::enable_shared_from_this<RedisStore> {
 public:
  /// Connects at once (two connections: commands, and the subscription).
  static std::shared_ptr<RedisStore> create(reactor::Reactor& reactor, RedisStoreOptions options,
                                            std::map<std::uint8_t, std::shared_ptr<DeviceContext>> units);
  ~RedisStore() override;

  void submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) override;

  /// Writes published by any process are told to this factory's write observers.
  /// The factory must be owned by a shared_ptr (servers own theirs so); the store keeps a weak one.
  void addFactory(ModbusServerFactory& factory);

  /// Disconnects for good (the reactor's shutdown does it too).
  void stop();

  bool connected() const { return commands_ && commands_->connected(); }
  bool subscribed() const { return subscribed_; }
  const RedisStoreOptions& options() const { return options_; }

 private:
  struct Unit {
    std::shared_ptr<DeviceContext> device;
    std::shared_ptr<RequestProcessor> processor;  // over `device` alone: checks and encodes
    std::string keys[4];                          // by ModbusTable
    // The configured values (address, value) by table, taken before any request changed the
    // device: what every connection seeds where Redis has no value.
    std::vector<std::pair<std::uint16_t, std::uint16_t>> seeds[4];
  };

  RedisStore(RedisStoreOptions options, std::map<std::uint8_t, std::shared_ptr<DeviceContext>> units);
  void submitMaskWrite(Unit& unit, std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done);
  void submitReadWrite(Unit& unit, std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done);
  void seed(redis::Client& client);
  void published(std::string_view payload);
  void answerLocally(Unit& unit, std::uint8_t unitId, std::span<const std::uint8_t> request, const Completion& done);

  RedisStoreOptions options_;
  std::string channel_;
  std::map<std::uint8_t, Unit> units_;
  std::shared_ptr<redis::Client> commands_;
  std::shared_ptr<redis::Client> subscriber_;
  std::vector<std::weak_ptr<ModbusServerFactory>> factories_;
  bool subscribed_ = false;
  bool subscribedBefore_ = false;
};

}  // namespace modbus
