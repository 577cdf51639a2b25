// One device's files of records: add, remove, and read or write ranges of records.
#include "datastore/file_records.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace modbus {

void FileRecords::addFile(std::uint16_t fileNumber, std::vector<std::uint16_t> records) {
  if (fileNumber == 0) throw std::invalid_argument("modbus::FileRecords: file numbers are 1..65535");
  if (records.size() > kMaxRecords) {
    throw std::invalid_argument("modbus::FileRecords: file " + std::to_string(fileNumber) + " has " +
                                std::to_string(records.size()) + " records, more than " + std::to_string(kMaxRecords));
  }
  File& file = files_[fileNumber];
  file.owned = std::move(records);
  file.placed = nullptr;
  file.placedSize = 0;
}

void FileRecords::placeFile(std::uint16_t fileNumber, std::span<std::uint16_t> storage) {
  if (fileNumber == 0) throw std::invalid_argument("modbus::FileRecords: file numbers are 1..65535");
  if (storage.size() > kMaxRecords) {
    throw std::invalid_argument("modbus::FileRecords: file " + std::to_string(fileNumber) + " has " +
                                std::to_string(storage.size()) + " records, more than " + std::to_string(kMaxRecords));
  }
  File& file = files_[fileNumber];
  file.owned.clear();
  file.owned.shrink_to_fit();
  file.placed = storage.data();
  file.placedSize = storage.size();
}

bool FileRecords::reportWrite(const std::uint16_t* data, std::size_t count) {
  return sync_ == nullptr || sync_->written(data, 2 * count);
}

void FileRecords::addFile(std::uint16_t fileNumber, std::size_t count, std::uint16_t fill) {
  if (count > kMaxRecords) {
    throw std::invalid_argument("modbus::FileRecords: file " + std::to_string(fileNumber) + " has " +
                                std::to_string(count) + " records, more than " + std::to_string(kMaxRecords));
  }
  addFile(fileNumber, std::vector<std::uint16_t>(count, fill));
}

bool FileRecords::removeFile(std::uint16_t fileNumber) { return files_.erase(fileNumber) != 0; }

std::size_t FileRecords::recordCount(std::uint16_t fileNumber) const {
  auto it = files_.find(fileNumber);
  return it == files_.end() ? 0 : it->second.records().size();
}

std::vector<std::uint16_t> FileRecords::fileNumbers() const {
  std::vector<std::uint16_t> out;
  for (const auto& entry : files_) out.push_back(entry.first);
  return out;
}

bool FileRecords::validate(std::uint16_t fileNumber, std::uint16_t record, std::uint16_t count) const {
  auto it = files_.find(fileNumber);
  if (it == files_.end()) return false;
  return static_cast<std::size_t>(record) + count <= it->second.records().size();
}

ExceptionCode FileRecords::readRecords(std::uint16_t fileNumber, std::uint16_t record, std::uint16_t count,
                                       std::uint8_t* outBigEndian) const {
  if (!validate(fileNumber, record, count)) return ExceptionCode::IllegalDataAddress;
  std::span<const std::uint16_t> file = files_.find(fileNumber)->second.records();
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint16_t value = file[record + i];
    outBigEndian[2 * i] = static_cast<std::uint8_t>(value >> 8);
    outBigEndian[2 * i + 1] = static_cast<std::uint8_t>(value & 0xFF);
  }
  return ExceptionCode::None;
}

ExceptionCode FileRecords::writeRecords(std::uint16_t fileNumber, std::uint16_t record, std::uint16_t count,
                                        const std::uint8_t* inBigEndian) {
  if (!validate(fileNumber, record, count)) return ExceptionCode::IllegalDataAddress;
  std::span<std::uint16_t> file = files_.find(fileNumber)->second.records();
  for (std::size_t i = 0; i < count; ++i) {
    file[record + i] = static_cast<std::uint16_t>((inBigEndian[2 * i] << 8) | inBigEndian[2 * i + 1]);
  }
  return reportWrite(file.data() + record, count) ? ExceptionCode::None : ExceptionCode::ServerDeviceFailure;
}

std::vector<std::uint16_t> FileRecords::getRecords(std::uint16_t fileNumber, std::uint16_t record,
                                                   std::uint16_t count) const {
  if (!validate(fileNumber, record, count)) {
    throw std::out_of_range("modbus::FileRecords: file " + std::to_string(fileNumber) + " has no records " +
                            std::to_string(record) + ".." + std::to_string(record + count - 1));
  }
  std::span<const std::uint16_t> file = files_.find(fileNumber)->second.records();
  return std::vector<std::uint16_t>(file.begin() + record, file.begin() + record + count);
}

ExceptionCode FileRecords::setRecords(std::uint16_t fileNumber, std::uint16_t record,
                                      std::span<const std::uint16_t> values) {
  if (values.size() > kMaxRecords || !validate(fileNumber, record, static_cast<std::uint16_t>(values.size()))) {
    return ExceptionCode::IllegalDataAddress;
  }
  std::span<std::uint16_t> file = files_.find(fileNumber)->second.records();
  for (std::size_t i = 0; i < values.size(); ++i) file[record + i] = values[i];
  return reportWrite(file.data() + record, values.size()) ? ExceptionCode::None : ExceptionCode::ServerDeviceFailure;
}

}  // namespace modbus
