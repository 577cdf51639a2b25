// StorageSync: how a block whose values live in durable storage (a persistent state file) says
// "these bytes were just written" before the request processor answers. In-memory blocks have none.
#pragma once

#include <cstddef>

namespace modbus {

/// Told of every write a durable block makes, on the reactor thread, before the write returns.
/// An implementation makes the bytes as durable as it promises (or does nothing) without
/// allocating; returning false means it could not (the block answers ServerDeviceFailure).
class StorageSync {
 public:
  virtual ~StorageSync() = default;
  virtual bool written(const void* data, std::size_t bytes) = 0;
};

}  // namespace modbus
