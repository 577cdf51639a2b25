// The "store" and "persistence" keys of the JSON configuration, read with config::Node (so every
// message names its JSON path). Tests: tests/protocols/config/store_config_test.cc
#pragma once

#include "protocols/config/detail/config_json.h"
#include "protocols/config/store_config.h"

namespace modbus::config {

/// The one reader of a "store" value (top level or per unit): "memory", "persistent" or "redis". Any
/// other value fails naming the path and listing the accepted ones. A new store adds its name here.
StoreKind parseStoreKind(const Node& store);

/// "persistence": {"dir": PATH, "sync": "none" | "periodic" | "always", "interval": SECONDS}.
/// "dir" is required and must be an existing, writable directory (checked, nothing is created);
/// "sync" defaults to "periodic", "interval" to 1 second (more than 0).
PersistenceSettings parsePersistence(const Node& persistence);

}  // namespace modbus::config
