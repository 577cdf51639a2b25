// StateFile: create, check, map and sync a device's state file (the format is in state_file.h).
#include "datastore/persistent/state_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

namespace modbus {
namespace {

constexpr std::uint32_t kByteOrderMark = 0x01020304;
constexpr std::size_t kFixedHeader = 40;  // magic .. checksum
constexpr std::size_t kDescriptorBytes = 24;
constexpr std::size_t kChecksumOffset = 32;
/// 4 tables + a file for every file number: more descriptors than that is a damaged count.
constexpr std::uint64_t kMaxTables = 4 + 65535;

std::size_t pageSize() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::uint64_t roundUp(std::uint64_t n, std::uint64_t to) { return (n + to - 1) / to * to; }

std::string errnoText(int err) { return std::strerror(err); }

[[noreturn]] void ioError(const std::string& path, const std::string& what, int err) {
  throw StateFileError(StateFileError::Reason::Io, path + ": " + what + ": " + errnoText(err));
}

[[noreturn]] void damaged(const std::string& path, const std::string& what) {
  throw StateFileError(StateFileError::Reason::Damaged,
                       path + ": damaged state file: " + what + " (nothing was read from it; restore it "
                       "from a backup or remove it to start from the configured values)");
}

template <class T>
T load(const std::uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

template <class T>
void store(std::uint8_t* p, T value) {
  std::memcpy(p, &value, sizeof value);
}

/// FNV-1a 64 of the header with its checksum field taken as zero.
std::uint64_t headerChecksum(const std::uint8_t* header, std::size_t bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < bytes; ++i) {
    const std::uint8_t byte = (i >= kChecksumOffset && i < kChecksumOffset + 8) ? 0 : header[i];
    hash = (hash ^ byte) * 0x100000001b3ULL;
  }
  return hash;
}

std::size_t valueBytes(StateTableKind kind) {
  return kind == StateTableKind::Coils || kind == StateTableKind::DiscreteInputs ? 1 : 2;
}

std::string describeRange(const StateTable& t) {
  if (t.count == 0) return "no values";
  return std::to_string(t.count) + " from " + std::to_string(t.start);
}

/// "holding_registers: stored 100 from 0, configured 200 from 0; file 3: configured, not stored".
std::string describeDifferences(const StateLayout& stored, const StateLayout& configured) {
  std::string out;
  auto add = [&out](const std::string& text) { out += (out.empty() ? "" : "; ") + text; };
  auto find = [](const StateLayout& layout, const StateTable& t) -> const StateTable* {
    for (const StateTable& other : layout) {
      if (other.kind == t.kind && other.fileNumber == t.fileNumber) return &other;
    }
    return nullptr;
  };
  for (const StateTable& want : configured) {
    const StateTable* have = find(stored, want);
    const std::string name = describeTable(want.kind, want.fileNumber);
    if (have == nullptr) {
      add(name + ": configured (" + describeRange(want) + "), not in the stored state");
    } else if (!(*have == want)) {
      add(name + ": stored " + describeRange(*have) + ", configured " + describeRange(want));
    }
  }
  for (const StateTable& have : stored) {
    if (find(configured, have) == nullptr) {
      add(describeTable(have.kind, have.fileNumber) + ": stored (" + describeRange(have) + "), no longer configured");
    }
  }
  return out;
}

}  // namespace

std::string describeTable(StateTableKind kind, std::uint16_t fileNumber) {
  switch (kind) {
    case StateTableKind::Coils: return "coils";
    case StateTableKind::DiscreteInputs: return "discrete_inputs";
    case StateTableKind::HoldingRegisters: return "holding_registers";
    case StateTableKind::InputRegisters: return "input_registers";
    case StateTableKind::FileRecords: return "file " + std::to_string(fileNumber);
  }
  return "table kind " + std::to_string(static_cast<unsigned>(kind));
}

StateFile::StateFile(std::string path, const StateLayout& layout, SyncPolicy sync, bool reset, const Seeder& seed)
    : path_(std::move(path)), layout_(layout), sync_(sync) {
  try {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0 && errno != ENOENT) ioError(path_, "cannot open", errno);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        throw StateFileError(StateFileError::Reason::InUse,
                             path_ + ": is in use by another process (two servers cannot share a state file)");
      }
      ioError(path_, "cannot lock", errno);
    }
    if (fd_ >= 0 && !reset) {
      openExisting(layout);
    } else {
      create(layout);
      if (seed) seed(*this);
      commitCreated();
    }
  } catch (...) {
    if (created_) ::unlink((path_ + ".new").c_str());  // no-op once renamed into place
    if (base_ != nullptr) ::munmap(base_, size_);
    if (fd_ >= 0) ::close(fd_);
    throw;
  }
}

StateFile::StateFile(std::string path, const StateLayout& layout, ReadOnly)
    : path_(std::move(path)), layout_(layout), sync_(SyncPolicy::None), readOnly_(true) {
  try {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) ioError(path_, "cannot open", errno);
    openExisting(layout);
  } catch (...) {
    if (base_ != nullptr) ::munmap(base_, size_);
    if (fd_ >= 0) ::close(fd_);
    throw;
  }
}

bool StateFile::check(const std::string& path, const StateLayout& layout) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    ioError(path, "cannot stat", errno);
  }
  StateFile file(path, layout, ReadOnly{});
  return true;
}

StateFile::~StateFile() {
  if (base_ != nullptr && !readOnly_) {
    // A clean stop leaves every acknowledged write on the disk, whatever the policy.
    ::msync(base_, size_, MS_SYNC);
  }
  if (base_ != nullptr) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
}

void StateFile::map(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, readOnly_ ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) ioError(path_, "cannot map", errno);
  base_ = static_cast<std::uint8_t*>(p);
  size_ = bytes;
}

void StateFile::create(const StateLayout& layout) {
  const std::uint64_t headerBytes = roundUp(kFixedHeader + kDescriptorBytes * layout.size(), pageSize());
  std::uint64_t end = headerBytes;
  offsets_.clear();
  for (const StateTable& t : layout) {
    end = roundUp(end, 8);
    offsets_.push_back(end);
    end += std::uint64_t{t.count} * valueBytes(t.kind);
  }
  const std::uint64_t fileBytes = roundUp(end, pageSize());

  // Written beside the final name and renamed once whole: a kill here leaves the old state (or none).
  const std::string fresh = path_ + ".new";
  int fd = ::open(fresh.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) ioError(fresh, "cannot create", errno);
  if (fd_ >= 0) ::close(fd_);  // the old file's lock goes with it; the new file is locked below
  fd_ = fd;
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) ioError(fresh, "cannot lock", errno);
  if (::ftruncate(fd_, static_cast<off_t>(fileBytes)) != 0) ioError(fresh, "cannot size", errno);
  map(fileBytes);

  std::uint8_t* h = base_;
  std::memcpy(h, kMagic, sizeof kMagic);
  store<std::uint32_t>(h + 8, kFormatVersion);
  store<std::uint32_t>(h + 12, kByteOrderMark);
  store<std::uint32_t>(h + 16, static_cast<std::uint32_t>(headerBytes));
  store<std::uint32_t>(h + 20, static_cast<std::uint32_t>(layout.size()));
  store<std::uint64_t>(h + 24, fileBytes);
  for (std::size_t i = 0; i < layout.size(); ++i) {
    std::uint8_t* d = h + kFixedHeader + kDescriptorBytes * i;
    store<std::uint16_t>(d, static_cast<std::uint16_t>(layout[i].kind));
    store<std::uint16_t>(d + 2, layout[i].fileNumber);
    store<std::uint32_t>(d + 4, layout[i].start);
    store<std::uint32_t>(d + 8, layout[i].count);
    store<std::uint32_t>(d + 12, 0);
    store<std::uint64_t>(d + 16, offsets_[i]);
  }
  store<std::uint64_t>(h + kChecksumOffset, headerChecksum(h, headerBytes));
  created_ = true;
}

void StateFile::commitCreated() {
  const std::string fresh = path_ + ".new";
  if (::msync(base_, size_, MS_SYNC) != 0) ioError(fresh, "cannot write", errno);
  if (::fsync(fd_) != 0) ioError(fresh, "cannot sync", errno);
  if (::rename(fresh.c_str(), path_.c_str()) != 0) ioError(path_, "cannot rename " + fresh + " to it", errno);
  // The rename itself is durable once the directory is synced.
  std::string dir = std::filesystem::path(path_).parent_path().string();
  int dirFd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
}

void StateFile::openExisting(const StateLayout& layout) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) ioError(path_, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) damaged(path_, "not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < kFixedHeader) {
    damaged(path_, "truncated: " + std::to_string(size) + " bytes, shorter than the header");
  }
  map(static_cast<std::size_t>(size));
  const std::uint8_t* h = base_;
  if (std::memcmp(h, kMagic, sizeof kMagic) != 0) damaged(path_, "bad magic: not a uvmodbus state file");
  if (load<std::uint32_t>(h + 12) != kByteOrderMark) {
    damaged(path_, "written by a machine of another byte order");
  }
  const auto version = load<std::uint32_t>(h + 8);
  if (version != kFormatVersion) {
    damaged(path_, "format version " + std::to_string(version) + ", this build reads version " +
                       std::to_string(kFormatVersion));
  }
  const std::uint64_t headerBytes = load<std::uint32_t>(h + 16);
  const std::uint64_t tables = load<std::uint32_t>(h + 20);
  const auto fileBytes = load<std::uint64_t>(h + 24);
  if (headerBytes > size) {
    damaged(path_, "truncated: " + std::to_string(size) + " bytes, the header alone has " +
                       std::to_string(headerBytes));
  }
  if (tables > kMaxTables || headerBytes < kFixedHeader + kDescriptorBytes * tables) {
    damaged(path_, "its table count (" + std::to_string(tables) + ") does not fit its header");
  }
  if (load<std::uint64_t>(h + kChecksumOffset) != headerChecksum(h, static_cast<std::size_t>(headerBytes))) {
    damaged(path_, "header checksum mismatch (the header is damaged)");
  }
  if (size != fileBytes) {
    damaged(path_, (size < fileBytes ? "truncated: " : "grown: ") + std::to_string(size) + " bytes, written with " +
                       std::to_string(fileBytes));
  }
  StateLayout stored;
  std::vector<std::uint64_t> storedOffsets;
  for (std::uint64_t i = 0; i < tables; ++i) {
    const std::uint8_t* d = h + kFixedHeader + kDescriptorBytes * i;
    StateTable t{static_cast<StateTableKind>(load<std::uint16_t>(d)), load<std::uint16_t>(d + 2),
                 load<std::uint32_t>(d + 4), load<std::uint32_t>(d + 8)};
    const auto offset = load<std::uint64_t>(d + 16);
    if (offset < headerBytes || offset > fileBytes ||
        std::uint64_t{t.count} * valueBytes(t.kind) > fileBytes - offset) {
      damaged(path_, describeTable(t.kind, t.fileNumber) + " reaches past the end of the file");
    }
    stored.push_back(t);
    storedOffsets.push_back(offset);
  }
  std::string differences = describeDifferences(stored, layout);
  if (!differences.empty()) {
    throw StateFileError(StateFileError::Reason::LayoutChanged,
                         path_ + ": the stored state was written for other tables: " + differences);
  }
  offsets_.clear();
  for (const StateTable& want : layout) {
    for (std::size_t i = 0; i < stored.size(); ++i) {
      if (stored[i] == want) {
        offsets_.push_back(storedOffsets[i]);
        break;
      }
    }
  }
  created_ = false;
}

std::uint8_t* StateFile::bits(std::size_t index) { return base_ + offsets_.at(index); }

std::uint16_t* StateFile::registers(std::size_t index) {
  // Offsets are 8-byte aligned inside a page-aligned mapping.
  return reinterpret_cast<std::uint16_t*>(base_ + offsets_.at(index));
}

bool StateFile::flush() { return ::msync(base_, size_, MS_SYNC) == 0; }

bool StateFile::written(const void* data, std::size_t bytes) {
  if (sync_ != SyncPolicy::Always || bytes == 0) return true;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t page = begin & ~(std::uintptr_t{pageSize()} - 1);
  return ::msync(reinterpret_cast<void*>(page), begin + bytes - page, MS_SYNC) == 0;
}

}  // namespace modbus
