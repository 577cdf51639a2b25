// "store" and "persistence": parsed and checked without creating anything (so --check is harmless).
#include "protocols/config/detail/store_json.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace modbus::config {

StoreKind parseStoreKind(const Node& store) {
  const std::string name = store.string();
  if (name == "memory") return StoreKind::Memory;
  if (name == "persistent") return StoreKind::Persistent;
  if (name == "redis") return StoreKind::Redis;
  store.fail("\"" + name + "\" is not a store (use \"memory\", \"persistent\" or \"redis\")");
}

PersistenceSettings parsePersistence(const Node& persistence) {
  if (!persistence.json().is_object()) {
    persistence.fail("expected an object {\"dir\": PATH, \"sync\": ..., \"interval\": ...}, got " +
                     describeType(persistence.json()));
  }
  persistence.expectObject({"dir", "sync", "interval"});
  PersistenceSettings out;
  if (!persistence.has("dir")) persistence.fail("missing \"dir\" (the directory that keeps the state files)");
  Node dir = persistence.child("dir");
  out.dir = dir.string();
  if (out.dir.empty()) dir.fail("is empty (give the directory that keeps the state files)");
  struct stat st {};
  if (::stat(out.dir.c_str(), &st) != 0) {
    dir.fail("\"" + out.dir + "\": " + std::strerror(errno) + " (create the directory first)");
  }
  if (!S_ISDIR(st.st_mode)) dir.fail("\"" + out.dir + "\" is not a directory");
  if (::access(out.dir.c_str(), W_OK | X_OK) != 0) {
    dir.fail("\"" + out.dir + "\" is not writable by this user: " + std::strerror(errno));
  }
  if (persistence.has("sync")) {
    Node sync = persistence.child("sync");
    const std::string name = sync.string();
    if (name == "none") {
      out.sync = SyncPolicy::None;
    } else if (name == "periodic") {
      out.sync = SyncPolicy::Periodic;
    } else if (name == "always") {
      out.sync = SyncPolicy::Always;
    } else {
      sync.fail("\"" + name + "\" is not a sync policy (use \"none\", \"periodic\" or \"always\")");
    }
  }
  if (persistence.has("interval")) {
    Node interval = persistence.child("interval");
    out.interval = interval.seconds();
    if (out.interval <= 0) interval.fail("a flush interval must be more than 0 seconds");
    if (out.sync != SyncPolicy::Periodic) interval.fail("applies only to \"sync\": \"periodic\"");
  }
  return out;
}

}  // namespace modbus::config
