// RedisStore: Modbus requests as Redis commands (redis_commands.h) on a redis::Client, answers
// encoded by each unit's own RequestProcessor, published writes told to the write observers.
#include "protocols/devices/redis_store.h"

#include <array>
#include <utility>

#include "protocols/application/pdu.h"
#include "protocols/application/request_processor.h"
#include "protocols/devices/redis_commands.h"
#include "protocols/servers/modbus_server_factory.h"
#include "reactor/log.h"

namespace modbus {
namespace {

using redis_store::DataAccess;

constexpr std::size_t kMaxValues = 2000;  // FC 1/2 read at most 2000 bits
constexpr std::size_t kSeedChunk = 512;   // fields per seeding script: keeps each script run short

void answerException(const Completion& done, std::uint8_t functionCode, ExceptionCode code) {
  std::uint8_t pdu[2];
  const std::size_t n = exceptionResponse(functionCode, code, pdu);
  if (done) done(std::span<const std::uint8_t>(pdu, n));
}

bool isBits(ModbusTable t) { return t == ModbusTable::Coils || t == ModbusTable::DiscreteInputs; }

BitBlock* bitBlock(const DeviceContext& d, ModbusTable t) {
  return t == ModbusTable::Coils ? d.coils() : t == ModbusTable::DiscreteInputs ? d.discreteInputs() : nullptr;
}
RegisterBlock* registerBlock(const DeviceContext& d, ModbusTable t) {
  return t == ModbusTable::HoldingRegisters ? d.holdingRegisters()
         : t == ModbusTable::InputRegisters ? d.inputRegisters()
                                            : nullptr;
}

/// The block address of a request's range when the device would serve it; nullopt otherwise.
std::optional<std::uint16_t> servedAddress(const DeviceContext& d, const DataAccess& a) {
  auto address = d.blockAddress(a.address, a.count);
  if (!address) return std::nullopt;
  if (isBits(a.table)) {
    BitBlock* b = bitBlock(d, a.table);
    if (b == nullptr || !b->validate(*address, a.count)) return std::nullopt;
  } else {
    RegisterBlock* r = registerBlock(d, a.table);
    if (r == nullptr || !r->validate(*address, a.count)) return std::nullopt;
  }
  return address;
}

/// Copies values between the device's block and a plain array.
bool getValues(const DeviceContext& d, ModbusTable t, std::uint16_t address, std::span<std::uint16_t> out) {
  if (isBits(t)) {
    std::array<bool, kMaxValues> bits{};
    BitBlock* b = bitBlock(d, t);
    if (b == nullptr || b->getValues(address, std::span<bool>(bits.data(), out.size())) != ExceptionCode::None) {
      return false;
    }
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = bits[i] ? 1 : 0;
    return true;
  }
  RegisterBlock* r = registerBlock(d, t);
  return r != nullptr && r->getValues(address, out) == ExceptionCode::None;
}

bool setValues(const DeviceContext& d, ModbusTable t, std::uint16_t address, std::span<const std::uint16_t> values) {
  if (isBits(t)) {
    std::array<bool, kMaxValues> bits{};
    for (std::size_t i = 0; i < values.size(); ++i) bits[i] = values[i] != 0;
    BitBlock* b = bitBlock(d, t);
    return b != nullptr &&
           b->setValues(address, std::span<const bool>(bits.data(), values.size())) == ExceptionCode::None;
  }
  RegisterBlock* r = registerBlock(d, t);
  return r != nullptr && r->setValues(address, values) == ExceptionCode::None;
}

/// A request and its answer, kept while Redis works (a PDU is at most 253 bytes).
struct Held {
  std::array<std::uint8_t, kMaxPduSize> bytes{};
  std::size_t length = 0;
  void assign(std::span<const std::uint8_t> from) {
    length = std::min(from.size(), bytes.size());
    std::copy_n(from.begin(), length, bytes.begin());
  }
  std::span<const std::uint8_t> view() const { return {bytes.data(), length}; }
};

}  // namespace

RedisStore::RedisStore(RedisStoreOptions options, std::map<std::uint8_t, std::shared_ptr<DeviceContext>> units)
    : options_(std::move(options)), channel_(redis_store::writesChannel(options_.prefix)) {
  for (auto& [id, device] : units) {
    Unit u;
    u.device = device;
    u.processor = std::make_shared<RequestProcessor>(ServerContext::single(device));
    for (ModbusTable t : {ModbusTable::Coils, ModbusTable::DiscreteInputs, ModbusTable::HoldingRegisters,
                          ModbusTable::InputRegisters}) {
      u.keys[static_cast<int>(t)] = redis_store::tableKey(options_.prefix, id, t);
      std::uint16_t one = 0;
      for (std::uint32_t a = 0; a < kAddressSpace; ++a) {
        const auto address = static_cast<std::uint16_t>(a);
        const bool defined = isBits(t) ? bitBlock(*device, t) != nullptr && bitBlock(*device, t)->validate(address, 1)
                                       : registerBlock(*device, t) != nullptr &&
                                             registerBlock(*device, t)->validate(address, 1);
        if (defined && getValues(*device, t, address, std::span<std::uint16_t>(&one, 1))) {
          u.seeds[static_cast<int>(t)].emplace_back(address, one);
        }
      }
    }
    units_.emplace(id, std::move(u));
  }
}

std::shared_ptr<RedisStore> RedisStore::create(reactor::Reactor& reactor, RedisStoreOptions options,
                                               std::map<std::uint8_t, std::shared_ptr<DeviceContext>> units) {
  std::shared_ptr<RedisStore> store(new RedisStore(std::move(options), std::move(units)));
  std::weak_ptr<RedisStore> weak = store;
  redis::ClientOptions client;
  client.host = store->options_.host;
  client.port = store->options_.port;
  client.unixPath = store->options_.unixPath;
  client.password = store->options_.password;
  client.timeout = store->options_.timeout;
  store->commands_ = redis::Client::create(reactor, client, [weak](redis::Client& c) {
    if (auto self = weak.lock()) self->seed(c);
  });
  // The subscription: a connection in pub/sub mode can send nothing else. No command deadline on
  // it (it waits for messages by design); its outages show on the commands' connection.
  client.logOutages = false;
  store->subscriber_ = redis::Client::create(reactor, client, [weak](redis::Client& c) {
    auto self = weak.lock();
    if (!self) return;
    c.setMessageHandler([weak](std::string_view, std::string_view payload) {
      if (auto s = weak.lock()) s->published(payload);
    });
    c.command([&](std::string& out) { redis::appendCommand(out, {"SUBSCRIBE", self->channel_}); },
              [weak](const redis::Reply* reply) {
                auto s = weak.lock();
                if (!s) return;
                s->subscribed_ = reply != nullptr && !reply->isError();
                // Said once: from here, writes made through other processes reach the observers.
                if (s->subscribed_ && !s->subscribedBefore_) {
                  s->subscribedBefore_ = true;
                  reactor::log::info("redis: subscribed to ", s->channel_, " (writes of every server on this prefix)");
                }
              });
  });
  return store;
}

RedisStore::~RedisStore() { stop(); }

void RedisStore::stop() {
  if (commands_) commands_->stop();
  if (subscriber_) subscriber_->stop();
  subscribed_ = false;
}

void RedisStore::addFactory(ModbusServerFactory& factory) {
  factories_.push_back(std::static_pointer_cast<ModbusServerFactory>(factory.shared_from_this()));
}

void RedisStore::answerLocally(Unit& unit, std::uint8_t unitId, std::span<const std::uint8_t> request,
                               const Completion& done) {
  std::array<std::uint8_t, kMaxPduSize> response{};
  const std::size_t n = unit.processor->process(unitId, request, response);
  if (done) done(std::span<const std::uint8_t>(response.data(), n));
}

void RedisStore::submit(std::uint8_t unitId, std::span<const std::uint8_t> request, Completion done) {
  if (request.empty()) return answerException(done, 0, ExceptionCode::IllegalFunction);
  auto it = units_.find(unitId);
  if (it == units_.end()) return answerException(done, request[0], ExceptionCode::GatewayTargetDeviceFailedToRespond);
  Unit& unit = it->second;
  const std::uint8_t fc = request[0];
  if (fc == 22) return submitMaskWrite(unit, unitId, request, std::move(done));
  if (fc == 23) return submitReadWrite(unit, unitId, request, std::move(done));
  std::optional<DataAccess> access = redis_store::dataAccess(request);
  std::optional<std::uint16_t> address = access ? servedAddress(*unit.device, *access) : std::nullopt;
  // Malformed, outside the tables, or not about the shared tables (diagnostics, identity, files):
  // the unit's own processor answers, now.
  if (!address || unit.device->offline()) return answerLocally(unit, unitId, request, done);
  if (!commands_->connected()) return answerException(done, fc, ExceptionCode::ServerDeviceFailure);

  Held held;
  held.assign(request);
  std::weak_ptr<RedisStore> weak = weak_from_this();
  const std::string& key = unit.keys[static_cast<int>(access->table)];
  if (!access->write) {
    commands_->command(
        [&](std::string& out) { redis_store::appendRead(out, key, *address, access->count); },
        [weak, unitId, held, a = *access, block = *address, done = std::move(done)](const redis::Reply* reply) {
          auto self = weak.lock();
          Unit* u = nullptr;
          if (self) {
            auto found = self->units_.find(unitId);
            if (found != self->units_.end()) u = &found->second;
          }
          std::array<std::uint16_t, kMaxValues> values{};
          std::span<std::uint16_t> got(values.data(), a.count);
          if (u == nullptr || reply == nullptr || reply->isError() ||
              !redis_store::decodeValues(*reply, got, isBits(a.table)) || !setValues(*u->device, a.table, block, got)) {
            if (self && reply != nullptr && reply->isError()) reactor::log::warning("redis read: ", reply->string());
            return answerException(done, held.bytes[0], ExceptionCode::ServerDeviceFailure);
          }
          self->answerLocally(*u, unitId, held.view(), done);
        });
    return;
  }
  // A write: the unit's processor checks it and encodes the answer (and applies it to the local
  // copy, which every read refreshes from Redis anyway); Redis gets the values it stored.
  Held answer;
  answer.length = unit.processor->process(unitId, request, answer.bytes);
  if (answer.length == 0 || answer.bytes[0] != fc) {
    if (done) done(answer.view());
    return;
  }
  std::array<std::uint16_t, kMaxValues> values{};
  std::span<std::uint16_t> written(values.data(), access->count);
  if (!getValues(*unit.device, access->table, *address, written)) {
    return answerException(done, fc, ExceptionCode::ServerDeviceFailure);
  }
  commands_->command(
      [&](std::string& out) {
        redis_store::appendWrite(out, key, channel_, unitId, access->table, *address, written);
      },
      [answer, done = std::move(done)](const redis::Reply* reply) {
        if (reply == nullptr || reply->isError()) {
          if (reply != nullptr) reactor::log::warning("redis write: ", reply->string());
          return answerException(done, answer.bytes[0], ExceptionCode::ServerDeviceFailure);
        }
        if (done) done(answer.view());
      });
}

void RedisStore::submitMaskWrite(Unit& unit, std::uint8_t unitId, std::span<const std::uint8_t> request,
                                 Completion done) {
  // The unit's processor checks the request and encodes the answer (an echo); Redis applies the
  // masks to its own value, in one script, so that two processes masking one register compose.
  Held answer;
  answer.length = unit.processor->process(unitId, request, answer.bytes);
  if (answer.length == 0 || answer.bytes[0] != 22 || request.size() != 7) {
    if (done) done(answer.view());
    return;
  }
  auto address = unit.device->blockAddress(static_cast<std::uint16_t>((request[1] << 8) | request[2]), 1);
  if (!address) return answerException(done, 22, ExceptionCode::ServerDeviceFailure);
  if (!commands_->connected()) return answerException(done, 22, ExceptionCode::ServerDeviceFailure);
  const auto andMask = static_cast<std::uint16_t>((request[3] << 8) | request[4]);
  const auto orMask = static_cast<std::uint16_t>((request[5] << 8) | request[6]);
  const std::string& key = unit.keys[static_cast<int>(ModbusTable::HoldingRegisters)];
  commands_->command(
      [&](std::string& out) { redis_store::appendMask(out, key, channel_, unitId, *address, andMask, orMask); },
      [answer, done = std::move(done)](const redis::Reply* reply) {
        if (reply == nullptr || reply->type() != redis::Reply::Type::Integer) {
          if (reply != nullptr && reply->isError()) reactor::log::warning("redis mask write: ", reply->string());
          return answerException(done, 22, ExceptionCode::ServerDeviceFailure);
        }
        if (done) done(answer.view());
      });
}

void RedisStore::submitReadWrite(Unit& unit, std::uint8_t unitId, std::span<const std::uint8_t> request,
                                 Completion done) {
  auto access = redis_store::readWriteAccess(request);
  std::optional<std::uint16_t> readAt;
  std::optional<std::uint16_t> writeAt;
  if (access) {
    readAt = servedAddress(*unit.device, {ModbusTable::HoldingRegisters, access->readAddress, access->readCount, false});
    writeAt = servedAddress(*unit.device, {ModbusTable::HoldingRegisters, access->writeAddress, access->writeCount, true});
  }
  // Malformed or outside the table: the unit's processor gives the spec's exception, now.
  if (!readAt || !writeAt || unit.device->offline()) return answerLocally(unit, unitId, request, done);
  if (!commands_->connected()) return answerException(done, 23, ExceptionCode::ServerDeviceFailure);
  std::array<std::uint16_t, 121> values{};
  for (std::size_t i = 0; i < access->writeCount; ++i) {
    values[i] = static_cast<std::uint16_t>((request[10 + 2 * i] << 8) | request[11 + 2 * i]);
  }
  Held held;
  held.assign(request);
  std::weak_ptr<RedisStore> weak = weak_from_this();
  const std::string& key = unit.keys[static_cast<int>(ModbusTable::HoldingRegisters)];
  commands_->command(
      [&](std::string& out) {
        redis_store::appendReadWrite(out, key, channel_, unitId, *readAt, access->readCount, *writeAt,
                                     std::span<const std::uint16_t>(values.data(), access->writeCount));
      },
      [weak, unitId, held, readAt = *readAt, readCount = access->readCount,
       done = std::move(done)](const redis::Reply* reply) {
        auto self = weak.lock();
        Unit* u = nullptr;
        if (self) {
          auto found = self->units_.find(unitId);
          if (found != self->units_.end()) u = &found->second;
        }
        std::array<std::uint16_t, 125> got{};
        std::span<std::uint16_t> read(got.data(), readCount);
        if (u == nullptr || reply == nullptr || !redis_store::decodeValues(*reply, read, false) ||
            !setValues(*u->device, ModbusTable::HoldingRegisters, readAt, read)) {
          if (reply != nullptr && reply->isError()) reactor::log::warning("redis read/write: ", reply->string());
          return answerException(done, 23, ExceptionCode::ServerDeviceFailure);
        }
        // The processor writes (the values Redis now holds) and then reads the range Redis returned.
        self->answerLocally(*u, unitId, held.view(), done);
      });
}

void RedisStore::seed(redis::Client& client) {
  std::size_t fields = 0;
  for (auto& [id, unit] : units_) {
    for (int t = 0; t < 4; ++t) {
      const std::string& key = unit.keys[t];
      const auto& seeds = unit.seeds[t];
      for (std::size_t at = 0; at < seeds.size(); at += kSeedChunk) {
        const std::size_t n = std::min(kSeedChunk, seeds.size() - at);
        client.command(
            [&](std::string& out) {
              redis_store::appendSeed(out, key, std::span<const std::pair<std::uint16_t, std::uint16_t>>(&seeds[at], n));
            },
            [key](const redis::Reply* reply) {
              if (reply != nullptr && reply->isError()) {
                reactor::log::error("redis: seeding ", key, " failed: ", reply->string());
              }
            });
        fields += n;
      }
    }
  }
  reactor::log::debug("redis: seeding ", fields, " field(s) where absent under prefix ", options_.prefix);
}

void RedisStore::published(std::string_view payload) {
  std::optional<redis_store::WriteMessage> m = redis_store::parseWriteMessage(payload);
  if (!m) return;
  auto it = units_.find(m->unitId);
  if (it == units_.end()) return;  // a unit another process serves, not this one
  const DeviceContext& device = *it->second.device;
  if (!setValues(device, m->table, m->address, m->values)) return;
  const int wire = static_cast<int>(m->address) - device.addressOffset();
  if (wire < 0 || wire > 65535) return;
  std::vector<std::uint8_t> request = redis_store::writeRequestPdu(m->table, static_cast<std::uint16_t>(wire), m->values);
  if (request.empty()) return;
  for (auto& weak : factories_) {
    auto factory = weak.lock();
    if (!factory) continue;
    WriteObservers& observers = factory->processor().writeObservers();
    if (!observers.empty()) observers.notifyWrite(m->unitId, device, request);
  }
}

}  // namespace modbus
