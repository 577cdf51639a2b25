// Which store keeps a unit's tables ("store": "memory" | "persistent") and how the persistent store
// syncs ("persistence": {"dir", "sync", "interval"}): the parsed form of those keys (server_config.h
// holds them) and opening the persistent units before the servers start (uvmodbus-server).
// docs/persistence.md explains the store; docs/configuration.md lists the keys.
// Tests: tests/protocols/config/store_config_test.cc, tests/integration/persistence_kill_test.cc
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/persistent/state_file.h"
#include "reactor/interfaces.h"
#include "reactor/looping_call.h"

namespace modbus {

/// Where a unit's tables live. A new store adds a value here and a name in parseStoreKind
/// (protocols/config/detail/store_json.h).
enum class StoreKind {
  Memory,      ///< in the process (the default): lost when it ends
  Persistent,  ///< a memory-mapped state file per device under persistence.dir (docs/persistence.md)
  Redis,       ///< hashes in a Redis server shared by every process on the same prefix (docs/scaling.md)
};

/// "persistence": {"dir": PATH, "sync": "none" | "periodic" | "always", "interval": SECONDS}.
struct PersistenceSettings {
  std::string dir;
  SyncPolicy sync = SyncPolicy::Periodic;
  /// Seconds between flushes with SyncPolicy::Periodic.
  double interval = 1.0;
};

/// A unit whose store is persistent: its device (shared with the server context) and its file.
struct PersistentUnit {
  /// "units.1": where the configuration defines it, for messages.
  std::string jsonPath;
  /// The state file's name inside persistence.dir: "unit-1.state" ("single.state" for a single device).
  std::string fileName;
  std::shared_ptr<DeviceContext> device;
};

/// What PersistentStore would say about each unit's state file, without creating, changing or
/// locking any (uvmodbus-server --check): the same ConfigError for changed tables and StateFileError
/// for a damaged file. A missing file is fine (a first start).
void checkPersistentUnits(const PersistenceSettings& settings, const std::vector<PersistentUnit>& units);

/// The persistent units of a configuration, opened: their tables now live in state files. Keeps the
/// files open and, with SyncPolicy::Periodic, flushes them every interval on the reactor.
class PersistentStore {
 public:
  /// `clock` runs the periodic flush (the reactor; a ManualClock in tests).
  /// Opens (creates and seeds, or restores) the state file of every unit, logging one line per
  /// unit that says which ("unit 1: restored the stored values from DIR/unit-1.state" or "... first
  /// start: created DIR/unit-1.state from the configured values"). `resetState` replaces existing
  /// files by the configured values (uvmodbus-server --reset-state). Throws ConfigError
  /// ("units.1: ...") for a file written for other tables, naming the difference, and
  /// StateFileError for a damaged file, one in use or an I/O error; units opened before are closed.
  PersistentStore(reactor::IReactorTime& clock, const PersistenceSettings& settings,
                  const std::vector<PersistentUnit>& units, bool resetState);
  /// Flushes every file (a clean stop keeps every write, whatever the policy).
  ~PersistentStore();
  PersistentStore(const PersistentStore&) = delete;
  PersistentStore& operator=(const PersistentStore&) = delete;

  /// msync every file now; false when any failed (logged).
  bool flush();
  const std::vector<std::shared_ptr<StateFile>>& files() const { return files_; }

 private:
  std::vector<std::shared_ptr<StateFile>> files_;
  std::optional<reactor::LoopingCall> flusher_;
};

}  // namespace modbus
