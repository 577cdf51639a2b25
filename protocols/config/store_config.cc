// PersistentStore: the persistent units' state files, opened before the servers start, and the
// periodic flush (a LoopingCall on the reactor: the datastore has no timers of its own).
#include "protocols/config/store_config.h"

#include <exception>
#include <stdexcept>
#include <utility>

#include "datastore/persistent/persistent_device.h"
#include "protocols/config/config_error.h"
#include "reactor/log.h"

namespace modbus {
namespace {

/// Runs `open` on a unit's state file, turning a changed layout into a ConfigError naming the unit.
template <class Open>
auto openUnit(const PersistentUnit& unit, Open open) {
  try {
    return open();
  } catch (const StateFileError& e) {
    if (e.reason() != StateFileError::Reason::LayoutChanged) throw;
    throw ConfigError(unit.jsonPath + ": " + e.what() +
                      " (the stored values are kept; start once with --reset-state to replace them by the "
                      "configured ones)");
  } catch (const std::invalid_argument& e) {
    throw ConfigError(unit.jsonPath + "." + e.what());  // "units.1.holding_registers: only a table ..."
  }
}

}  // namespace

void checkPersistentUnits(const PersistenceSettings& settings, const std::vector<PersistentUnit>& units) {
  for (const PersistentUnit& unit : units) {
    openUnit(unit, [&] { return StateFile::check(settings.dir + "/" + unit.fileName, persistentLayout(*unit.device)); });
  }
}

PersistentStore::PersistentStore(reactor::IReactorTime& clock, const PersistenceSettings& settings,
                                 const std::vector<PersistentUnit>& units, bool resetState) {
  for (const PersistentUnit& unit : units) {
    const std::string path = settings.dir + "/" + unit.fileName;
    std::shared_ptr<StateFile> file =
        openUnit(unit, [&] { return makeDevicePersistent(*unit.device, path, settings.sync, resetState); });
    if (file->created()) {
      reactor::log::info(unit.jsonPath, ": ", resetState ? "--reset-state: " : "first start: ", "created ", path,
                         " from the configured values");
    } else {
      reactor::log::info(unit.jsonPath, ": restored the stored values from ", path);
    }
    files_.push_back(std::move(file));
  }
  if (settings.sync == SyncPolicy::Periodic && !files_.empty()) {
    flusher_.emplace(clock, [this] { flush(); });
    flusher_->start(settings.interval, /*now=*/false);
  }
}

PersistentStore::~PersistentStore() {
  if (flusher_ && flusher_->running()) flusher_->stop();
  flush();
}

bool PersistentStore::flush() {
  bool ok = true;
  for (const auto& file : files_) {
    if (!file->flush()) {
      ok = false;
      reactor::log::error("cannot write ", file->path(), " to the disk (msync failed); the values stay in memory");
    }
  }
  return ok;
}

}  // namespace modbus
