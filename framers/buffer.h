// Byte buffer for framer input and response building (muduo's net/Buffer layout, written anew).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace modbus {

/// A growable byte buffer with cheap front room, used for a connection's input and output.
///
/// ```
/// +-------------------+------------------+------------------+
/// | prependable bytes |  readable bytes  |  writable bytes  |
/// |                   |     (CONTENT)    |                  |
/// +-------------------+------------------+------------------+
/// |                   |                  |                  |
/// 0      <=      readerIndex   <=   writerIndex    <=     size
/// ```
///
/// `kCheapPrepend` bytes of front room are kept when the buffer is empty, so a 7-byte MBAP header can
/// be prepended to a PDU that was written first without moving it. Space is made by first sliding the
/// readable bytes back to the front; the storage is reallocated only when that is not enough, so a
/// buffer whose capacity suffices never allocates (steady state is allocation-free).
/// Pointers and spans obtained from the buffer are invalidated by any call that can grow it
/// (`append`, `ensureWritable`, `prepend` beyond the front room) and by `retrieve*`.
class Buffer {
 public:
  static constexpr std::size_t kCheapPrepend = 8;
  static constexpr std::size_t kInitialSize = 1024;

  /// Allocates `kCheapPrepend + initialSize` bytes of storage once.
  explicit Buffer(std::size_t initialSize = kInitialSize);

  std::size_t readableBytes() const noexcept { return writerIndex_ - readerIndex_; }
  std::size_t writableBytes() const noexcept { return storage_.size() - writerIndex_; }
  std::size_t prependableBytes() const noexcept { return readerIndex_; }
  /// Total storage (prependable + readable + writable); changes only when the buffer reallocates.
  std::size_t capacity() const noexcept { return storage_.size(); }

  /// The first readable byte (valid even when nothing is readable).
  const std::uint8_t* peek() const noexcept { return storage_.data() + readerIndex_; }
  /// The readable bytes, as a view.
  std::span<const std::uint8_t> readable() const noexcept { return {peek(), readableBytes()}; }

  /// Drops `n` bytes from the front. `n >= readableBytes()` empties the buffer (like `retrieveAll`).
  void retrieve(std::size_t n) noexcept;
  /// Empties the buffer and restores the full front room.
  void retrieveAll() noexcept;

  /// Copies `data` after the readable bytes, growing if needed.
  void append(std::span<const std::uint8_t> data);
  /// Guarantees `writableBytes() >= n`: slides the content to the front first, reallocates only if
  /// that is not enough.
  void ensureWritable(std::size_t n);
  /// Where the next byte goes; write at most `writableBytes()` bytes then call `hasWritten`.
  std::uint8_t* beginWrite() noexcept { return storage_.data() + writerIndex_; }
  /// The writable bytes, as a view (same memory as `beginWrite()`).
  std::span<std::uint8_t> writable() noexcept { return {beginWrite(), writableBytes()}; }
  /// Makes `n` bytes written at `beginWrite()` readable. `n` is clamped to `writableBytes()`.
  void hasWritten(std::size_t n) noexcept;
  /// Takes back the last `n` readable bytes (clamped to `readableBytes()`).
  void unwrite(std::size_t n) noexcept;

  /// Puts `data` in front of the readable bytes. Uses the front room without moving anything when it
  /// is large enough (the MBAP case); otherwise the content is moved to make room.
  void prepend(std::span<const std::uint8_t> data);

  /// Exchanges contents with `other` without copying bytes.
  void swap(Buffer& other) noexcept;

 private:
  void makeSpace(std::size_t n);

  std::vector<std::uint8_t> storage_;
  std::size_t readerIndex_;
  std::size_t writerIndex_;
};

}  // namespace modbus
