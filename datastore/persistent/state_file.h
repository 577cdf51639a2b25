// StateFile: one device's tables in a memory-mapped file that outlives the process (issue 11 §1).
// The file is mapped MAP_SHARED, so a value stored into the mapping is in the kernel's page cache
// the moment the store instruction retires: a kill -9 of the server loses nothing, and msync()
// carries the pages to the disk for a power loss (docs/persistence.md says why this mechanism).
//
// Format (version 1, all integers in the writing machine's byte order, which the header records):
//   header   magic "UVMBSTAT", format version, byte-order mark, header size, table count, file
//            size, FNV-1a 64 checksum of the header, then one descriptor per table (kind, file
//            number, start, count, data offset); padded to a page.
//   data     each table at its descriptor's offset, 8-byte aligned: bits one byte each (0 or 1),
//            registers and file records one uint16 each.
// Only the header is checksummed: the data changes with every write, and a kill -9 between two
// writes is normal operation, not damage.
//
// Rules kept here:
// - never silently zeroed registers: a file that is truncated, has a bad magic, another version or
//   byte order, or a header whose checksum does not match, is refused (StateFileError::Damaged);
//   a file written for other tables is refused naming the difference (StateFileError::LayoutChanged).
//   Only an explicit reset (uvmodbus-server --reset-state) replaces a stored file.
// - a new file is written beside its final name and renamed into place once complete, so a kill
//   during creation leaves either no state file or a whole one.
// - one process at a time: the file is locked (flock) while mapped; the lock dies with the process.
// Pure state: no reactor. Tests: tests/datastore/state_file_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "datastore/storage_sync.h"

namespace modbus {

/// What a table of a state file holds.
enum class StateTableKind : std::uint16_t {
  Coils = 1,
  DiscreteInputs = 2,
  HoldingRegisters = 3,
  InputRegisters = 4,
  FileRecords = 5,
};

/// "coils", "discrete_inputs", "holding_registers", "input_registers", "file N" (the config's words).
std::string describeTable(StateTableKind kind, std::uint16_t fileNumber = 0);

/// One table of a layout: `count` values from block address `start` (a file of records: file
/// `fileNumber`, records 0..count-1, start 0).
struct StateTable {
  StateTableKind kind;
  std::uint16_t fileNumber = 0;
  std::uint32_t start = 0;
  std::uint32_t count = 0;
  friend bool operator==(const StateTable&, const StateTable&) = default;
};

/// The tables a state file is written for, in a fixed order (the order they were added).
using StateLayout = std::vector<StateTable>;

/// How durable an acknowledged write is (the configuration's "persistence.sync").
enum class SyncPolicy {
  None,      ///< in the page cache: survives kill -9, not a power loss (the kernel writes it back later)
  Periodic,  ///< as None, and flush() (every "interval" seconds) carries it to the disk
  Always,    ///< each write's pages are msync(MS_SYNC)ed before the write returns, so before the answer
};

class StateFileError : public std::runtime_error {
 public:
  enum class Reason { Io, Damaged, LayoutChanged, InUse };
  StateFileError(Reason reason, const std::string& what) : std::runtime_error(what), reason_(reason) {}
  Reason reason() const { return reason_; }

 private:
  Reason reason_;
};

/// A mapped state file. Movable only by pointer (the blocks hold pointers into the mapping).
class StateFile final : public StorageSync {
 public:
  /// Format constants, public for the tests that damage files on purpose.
  static constexpr char kMagic[8] = {'U', 'V', 'M', 'B', 'S', 'T', 'A', 'T'};
  static constexpr std::uint32_t kFormatVersion = 1;

  /// Called on a new file, its tables zeroed, to store the first values before the file is put in
  /// place (so a kill during seeding leaves no state file rather than a zeroed one).
  using Seeder = std::function<void(StateFile&)>;

  /// Opens the state file at `path` for `layout`: creates it when there is none (created() is
  /// true, `seed` fills it), otherwise maps the stored one after checking its header and that its
  /// layout is `layout` (in any order). With `reset`, an existing file is replaced by a new one
  /// without being read. Throws StateFileError (Io, Damaged, LayoutChanged naming each
  /// difference, InUse when another process has it open).
  StateFile(std::string path, const StateLayout& layout, SyncPolicy sync, bool reset = false,
            const Seeder& seed = nullptr);
  ~StateFile() override;
  /// What start-up would say about the state file at `path` for `layout`, without changing or
  /// locking anything (uvmodbus-server --check): false when there is no file (a first start),
  /// true when it would be restored; throws the StateFileError opening it would throw (except
  /// InUse: a running server's file is checked too).
  static bool check(const std::string& path, const StateLayout& layout);
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;

  const std::string& path() const { return path_; }
  /// True when this open created the file (first start or reset), false when it restored one.
  bool created() const { return created_; }
  SyncPolicy sync() const { return sync_; }
  const StateLayout& layout() const { return layout_; }

  /// The data of table `index` of the layout: count bytes (bits) or count uint16 (registers, records).
  std::uint8_t* bits(std::size_t index);
  std::uint16_t* registers(std::size_t index);

  /// Carries every dirty page of the file to the disk (msync MS_SYNC). What a Periodic store's
  /// timer calls; harmless for the others. Returns false (and keeps the pages dirty) when the
  /// kernel reports an I/O error.
  bool flush();
  /// StorageSync: with SyncPolicy::Always, msyncs the pages of [data, data + bytes) (they must lie
  /// in this file's mapping) before returning; a no-op for the other policies.
  bool written(const void* data, std::size_t bytes) override;

 private:
  struct ReadOnly {};
  StateFile(std::string path, const StateLayout& layout, ReadOnly);
  void create(const StateLayout& layout);
  void commitCreated();
  void openExisting(const StateLayout& layout);
  void map(std::size_t bytes);

  std::string path_;
  StateLayout layout_;
  SyncPolicy sync_;
  bool created_ = false;
  bool readOnly_ = false;
  int fd_ = -1;
  std::uint8_t* base_ = nullptr;
  std::size_t size_ = 0;
  std::vector<std::uint64_t> offsets_;  // data offset of each table
};

}  // namespace modbus
