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
  files_[fileNumber] = std::move(records);
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
  return it == files_.end() ? 0 : it->second.size();
}

std::vector<std::uint16_t> FileRecords::fileNumbers() const {
  std::vector<std::uint16_t> out;
  for (const auto& entry : files_) out.push_back(entry.first);
  return out;
}

bool FileRecords::validate(std::uint16_t fileNumber, std::uint16_t record, std::uint16_t count) const {
  auto it = files_.find(fileNumber);
  if (it == files_.end()) return false;
  return static_cast<std::size_t>(record) + count <= it->second.size();
}

ExceptionCode FileRecords::readRecords(std::uint16_t fileNumber, std::uint16_t record, std::uint16_t count,
                                       std::uint8_t* outBigEndian) const {
  if (!validate(fileNumber, record, count)) return ExceptionCode::IllegalDataAddress;
  const std::vector<std::uint16_t>& file = files_.find(fileNumber)->second;
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
  std::vector<std::uint16_t>& file = files_.find(fileNumber)->second;
  for (std::size_t i = 0; i < count; ++i) {
    file[record + i] = static_cast<std::uint16_t>((inBigEndian[2 * i] << 8) | inBigEndian[2 * i + 1]);
  }
  return ExceptionCode::None;
}

std::vector<std::uint16_t> FileRecords::getRecords(std::uint16_t fileNumber, std::uint16_t record,
                                                   std::uint16_t count) const {
  if (!validate(fileNumber, record, count)) {
    throw std::out_of_range("modbus::FileRecords: file " + std::to_string(fileNumber) + " has no records " +
                            std::to_string(record) + ".." + std::to_string(record + count - 1));
  }
  const std::vector<std::uint16_t>& file = files_.find(fileNumber)->second;
  return std::vector<std::uint16_t>(file.begin() + record, file.begin() + record + count);
}

ExceptionCode FileRecords::setRecords(std::uint16_t fileNumber, std::uint16_t record,
                                      std::span<const std::uint16_t> values) {
  if (values.size() > kMaxRecords || !validate(fileNumber, record, static_cast<std::uint16_t>(values.size()))) {
    return ExceptionCode::IllegalDataAddress;
  }
  std::vector<std::uint16_t>& file = files_.find(fileNumber)->second;
  for (std::size_t i = 0; i < values.size(); ++i) file[record + i] = values[i];
  return ExceptionCode::None;
}

}  // namespace modbus
