// Byte buffer for framer input and response building (muduo's net/Buffer layout, written anew).
#include "framers/buffer.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace modbus {

Buffer::Buffer(std::size_t initialSize)
    : storage_(kCheapPrepend + initialSize), readerIndex_(kCheapPrepend), writerIndex_(kCheapPrepend) {}

void Buffer::retrieve(std::size_t n) noexcept {
  if (n < readableBytes()) {
    readerIndex_ += n;
  } else {
    retrieveAll();
  }
}

void Buffer::retrieveAll() noexcept {
  readerIndex_ = kCheapPrepend;
  writerIndex_ = kCheapPrepend;
}

void Buffer::append(std::span<const std::uint8_t> data) {
  if (data.empty()) {
    return;
  }
  ensureWritable(data.size());
  std::memcpy(beginWrite(), data.data(), data.size());
  writerIndex_ += data.size();
}

void Buffer::ensureWritable(std::size_t n) {
  if (writableBytes() < n) {
    makeSpace(n);
  }
}

void Buffer::hasWritten(std::size_t n) noexcept { writerIndex_ += std::min(n, writableBytes()); }

void Buffer::unwrite(std::size_t n) noexcept { writerIndex_ -= std::min(n, readableBytes()); }

void Buffer::prepend(std::span<const std::uint8_t> data) {
  if (data.empty()) {
    return;
  }
  if (data.size() > prependableBytes()) {
    // Not enough front room: put the content at offset data.size() (+ the usual cheap room).
    const std::size_t readable = readableBytes();
    const std::size_t offset = kCheapPrepend + data.size();
    if (offset + readable > storage_.size()) {
      std::vector<std::uint8_t> grown(std::max(storage_.size() * 2, offset + readable));
      std::memcpy(grown.data() + offset, peek(), readable);
      storage_.swap(grown);
    } else {
      std::memmove(storage_.data() + offset, peek(), readable);
    }
    readerIndex_ = offset;
    writerIndex_ = offset + readable;
  }
  readerIndex_ -= data.size();
  std::memcpy(storage_.data() + readerIndex_, data.data(), data.size());
}

void Buffer::swap(Buffer& other) noexcept {
  storage_.swap(other.storage_);
  std::swap(readerIndex_, other.readerIndex_);
  std::swap(writerIndex_, other.writerIndex_);
}

void Buffer::makeSpace(std::size_t n) {
  const std::size_t readable = readableBytes();
  if (writableBytes() + prependableBytes() >= n + kCheapPrepend) {
    // Enough room overall: slide the content back to the front instead of allocating.
    std::memmove(storage_.data() + kCheapPrepend, peek(), readable);
  } else {
    // Reallocate, copying only the readable bytes (already at the front of the new storage).
    std::vector<std::uint8_t> grown(std::max(storage_.size() * 2, kCheapPrepend + readable + n));
    std::memcpy(grown.data() + kCheapPrepend, peek(), readable);
    storage_.swap(grown);
  }
  readerIndex_ = kCheapPrepend;
  writerIndex_ = kCheapPrepend + readable;
}

}  // namespace modbus
