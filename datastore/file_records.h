// One device's files of records for FC 20 / 21 (pymodbus answers these with a dummy record and
// stores nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "datastore/exception_code.h"
#include "datastore/storage_sync.h"

namespace modbus {

/// Files of 16-bit records (Application Protocol v1.1b3 §6.14, §6.15): file numbers 1..0xFFFF,
/// record numbers 0..9999, so a file holds at most kMaxRecords records, record N at index N.
/// The files live in the device: they are kept across connections and shared by every server of
/// the device. Reactor thread only; the request path does not allocate.
class FileRecords {
 public:
  static constexpr std::size_t kMaxRecords = 10000;

  /// Adds (or replaces) file `fileNumber` with `records`. Throws std::invalid_argument for file 0
  /// or more than kMaxRecords records.
  void addFile(std::uint16_t fileNumber, std::vector<std::uint16_t> records);
  /// Adds (or replaces) a file of `count` records, each `fill`.
  void addFile(std::uint16_t fileNumber, std::size_t count, std::uint16_t fill = 0);
  /// Adds (or replaces) file `fileNumber` whose records live in `storage`, memory the caller owns
  /// (a persistent state file's table, kept alive by setStorageSync()). Throws like addFile().
  void placeFile(std::uint16_t fileNumber, std::span<std::uint16_t> storage);
  /// Every write of records is reported to `sync` before it returns (a persistent store's msync);
  /// the object is kept alive as long as these files, which may point into it.
  void setStorageSync(std::shared_ptr<StorageSync> sync) { sync_ = std::move(sync); }
  /// Removes a file; returns false when there was none.
  bool removeFile(std::uint16_t fileNumber);
  bool hasFile(std::uint16_t fileNumber) const { return files_.count(fileNumber) != 0; }
  /// Number of records in the file (0 when absent).
  std::size_t recordCount(std::uint16_t fileNumber) const;
  /// The file numbers, ascending.
  std::vector<std::uint16_t> fileNumbers() const;
  bool empty() const { return files_.empty(); }

  /// True when file `fileNumber` exists and holds records [record, record + count).
  bool validate(std::uint16_t fileNumber, std::uint16_t record, std::uint16_t count) const;
  /// Reads `count` records big-endian into `out[0 .. 2*count)`; IllegalDataAddress for an absent
  /// file or a range it does not hold.
  ExceptionCode readRecords(std::uint16_t fileNumber, std::uint16_t record, std::uint16_t count,
                            std::uint8_t* outBigEndian) const;
  /// Stores `count` big-endian records from `in`; all or nothing, same errors as readRecords().
  ExceptionCode writeRecords(std::uint16_t fileNumber, std::uint16_t record, std::uint16_t count,
                             const std::uint8_t* inBigEndian);

  // --- application-facing, typed ---

  /// The records [record, record + count). Throws std::out_of_range when the file does not hold them.
  std::vector<std::uint16_t> getRecords(std::uint16_t fileNumber, std::uint16_t record, std::uint16_t count) const;
  /// Stores `values` from `record` on; None or IllegalDataAddress (nothing changed).
  ExceptionCode setRecords(std::uint16_t fileNumber, std::uint16_t record, std::span<const std::uint16_t> values);

 private:
  /// A file's records: in `owned`, or in storage placed by placeFile(). Computed on access, so a
  /// copied FileRecords views its own vectors (and shares placed storage, kept alive by sync_).
  struct File {
    std::vector<std::uint16_t> owned;
    std::uint16_t* placed = nullptr;
    std::size_t placedSize = 0;
    std::span<std::uint16_t> records() { return placed ? std::span<std::uint16_t>(placed, placedSize) : owned; }
    std::span<const std::uint16_t> records() const {
      return placed ? std::span<const std::uint16_t>(placed, placedSize) : owned;
    }
  };
  /// Tells sync_ (if any) of a write; false when it could not make it durable.
  bool reportWrite(const std::uint16_t* data, std::size_t count);

  std::map<std::uint16_t, File> files_;
  std::shared_ptr<StorageSync> sync_;
};

}  // namespace modbus
