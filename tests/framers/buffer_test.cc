// Tests for framers/buffer.h: muduo's Buffer layout (prepend room, growth, no reallocation in steady state).
#include "framers/buffer.h"

#include <doctest/doctest.h>

#include <array>
#include <numeric>
#include <vector>

namespace modbus {
namespace {

std::vector<std::uint8_t> iota(std::size_t n, std::uint8_t first = 0) {
  std::vector<std::uint8_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

std::vector<std::uint8_t> contents(const Buffer& b) { return {b.readable().begin(), b.readable().end()}; }

const std::uint8_t* storageBase(const Buffer& b) { return b.peek() - b.prependableBytes(); }

}  // namespace

TEST_CASE("a new buffer is empty with the cheap prepend room in front") {
  Buffer b(64);
  CHECK(b.readableBytes() == 0);
  CHECK(b.writableBytes() == 64);
  CHECK(b.prependableBytes() == Buffer::kCheapPrepend);
  CHECK(b.capacity() == 64 + Buffer::kCheapPrepend);
  CHECK(b.readable().empty());
  Buffer defaults;
  CHECK(defaults.writableBytes() == Buffer::kInitialSize);
}

TEST_CASE("a buffer made with no initial size grows to its first frame and then keeps its storage") {
  // ModbusStreamProtocol's buffers: an idle connection holds only the front room, an answered one an ADU.
  Buffer b(0);
  CHECK(b.capacity() == Buffer::kCheapPrepend);
  b.ensureWritable(260);
  CHECK(b.writableBytes() >= 260);
  const std::size_t grown = b.capacity();
  CHECK(grown <= 2 * (260 + Buffer::kCheapPrepend));
  const std::uint8_t* base = storageBase(b);
  for (int i = 0; i < 100; ++i) {
    b.hasWritten(260);
    b.retrieveAll();
    b.ensureWritable(260);
  }
  CHECK(b.capacity() == grown);
  CHECK(storageBase(b) == base);
}

TEST_CASE("append makes bytes readable in order and retrieve drops them from the front") {
  Buffer b(16);
  const auto data = iota(10, 1);
  b.append(data);
  CHECK(b.readableBytes() == 10);
  CHECK(b.writableBytes() == 6);
  CHECK(contents(b) == data);
  CHECK(b.peek()[0] == 1);

  b.retrieve(4);
  CHECK(b.readableBytes() == 6);
  CHECK(b.prependableBytes() == Buffer::kCheapPrepend + 4);
  CHECK(b.peek()[0] == 5);

  b.retrieve(6);  // everything: indices reset, front room restored
  CHECK(b.readableBytes() == 0);
  CHECK(b.prependableBytes() == Buffer::kCheapPrepend);
  CHECK(b.writableBytes() == 16);
}

TEST_CASE("retrieve beyond the readable bytes empties the buffer instead of overrunning") {
  Buffer b(16);
  b.append(iota(5));
  b.retrieve(100);
  CHECK(b.readableBytes() == 0);
  CHECK(b.prependableBytes() == Buffer::kCheapPrepend);
}

TEST_CASE("retrieveAll restores the full writable space") {
  Buffer b(32);
  b.append(iota(20));
  b.retrieve(3);
  b.retrieveAll();
  CHECK(b.readableBytes() == 0);
  CHECK(b.writableBytes() == 32);
  CHECK(b.prependableBytes() == Buffer::kCheapPrepend);
}

TEST_CASE("growth beyond the capacity keeps the content and its order") {
  Buffer b(8);
  const auto first = iota(6, 0);
  const auto second = iota(40, 6);
  b.append(first);
  b.retrieve(2);
  b.append(second);
  CHECK(b.readableBytes() == 44);
  CHECK(b.prependableBytes() == Buffer::kCheapPrepend);  // content moved to the front on growth
  std::vector<std::uint8_t> expected = iota(46, 0);
  expected.erase(expected.begin(), expected.begin() + 2);
  CHECK(contents(b) == expected);
  CHECK(b.capacity() >= Buffer::kCheapPrepend + 44);
}

TEST_CASE("growth is geometric so that appending byte by byte reallocates rarely") {
  Buffer b(4);
  std::size_t reallocations = 0;
  const std::uint8_t* base = storageBase(b);
  for (int i = 0; i < 4096; ++i) {
    const std::uint8_t byte = static_cast<std::uint8_t>(i);
    b.append(std::span<const std::uint8_t>(&byte, 1));
    if (storageBase(b) != base) {
      ++reallocations;
      base = storageBase(b);
    }
  }
  CHECK(b.readableBytes() == 4096);
  CHECK(reallocations <= 12);
  CHECK(b.peek()[4095] == static_cast<std::uint8_t>(4095));
}

TEST_CASE("ensureWritable slides the content to the front instead of reallocating when room suffices") {
  Buffer b(32);
  b.append(iota(30));
  b.retrieve(20);  // 10 readable, 20 of dead room in front, 2 writable
  const std::uint8_t* base = storageBase(b);
  const std::size_t capacity = b.capacity();
  b.ensureWritable(20);
  CHECK(storageBase(b) == base);
  CHECK(b.capacity() == capacity);
  CHECK(b.writableBytes() >= 20);
  CHECK(b.prependableBytes() == Buffer::kCheapPrepend);
  CHECK(contents(b) == iota(10, 20));
}

TEST_CASE("steady state append and retrieve never reallocates when capacity suffices") {
  Buffer b(256);
  const std::uint8_t* base = storageBase(b);
  const std::size_t capacity = b.capacity();
  const auto frame = iota(12);
  for (int round = 0; round < 10000; ++round) {
    b.append(frame);
    if (round % 3 == 0) b.append(frame);  // occasionally two frames, then drained partially
    b.retrieve(12);
    if (b.readableBytes() > 100) b.retrieveAll();
  }
  CHECK(storageBase(b) == base);
  CHECK(b.capacity() == capacity);
}

TEST_CASE("beginWrite and hasWritten let a caller write in place") {
  Buffer b(16);
  b.ensureWritable(4);
  std::uint8_t* p = b.beginWrite();
  p[0] = 0xDE;
  p[1] = 0xAD;
  b.hasWritten(2);
  CHECK(contents(b) == std::vector<std::uint8_t>{0xDE, 0xAD});
  CHECK(b.writable().size() == b.writableBytes());
  CHECK(b.writable().data() == b.beginWrite());
}

TEST_CASE("hasWritten is clamped to the writable bytes") {
  Buffer b(8);
  b.hasWritten(100);
  CHECK(b.readableBytes() == 8);
  CHECK(b.writableBytes() == 0);
}

TEST_CASE("unwrite takes back the last bytes and is clamped to the readable bytes") {
  Buffer b(16);
  b.append(iota(6));
  b.unwrite(2);
  CHECK(contents(b) == iota(4));
  b.unwrite(50);
  CHECK(b.readableBytes() == 0);
}

TEST_CASE("prepend of an MBAP header uses the front room without moving the PDU") {
  Buffer b(64);
  const std::vector<std::uint8_t> pdu{0x03, 0x02, 0x00, 0x2A};
  b.append(pdu);
  const std::uint8_t* pduAt = b.peek();
  const std::array<std::uint8_t, 7> header{0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x11};
  b.prepend(header);
  CHECK(b.peek() + 7 == pduAt);  // PDU bytes stayed where they were
  CHECK(b.prependableBytes() == Buffer::kCheapPrepend - 7);
  CHECK(contents(b) == std::vector<std::uint8_t>{0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x11, 0x03, 0x02, 0x00, 0x2A});
}

TEST_CASE("prepend larger than the front room moves the content and keeps it intact") {
  Buffer b(16);
  b.append(iota(10, 100));
  const auto front = iota(20, 0);
  b.prepend(front);
  auto expected = iota(20, 0);
  const auto tail = iota(10, 100);
  expected.insert(expected.end(), tail.begin(), tail.end());
  CHECK(contents(b) == expected);

  Buffer roomy(128);
  roomy.append(iota(4, 50));
  roomy.prepend(iota(30, 0));  // fits in storage: moved, not reallocated
  auto expected2 = iota(30, 0);
  const auto tail2 = iota(4, 50);
  expected2.insert(expected2.end(), tail2.begin(), tail2.end());
  CHECK(contents(roomy) == expected2);
  CHECK(roomy.capacity() == 128 + Buffer::kCheapPrepend);
}

TEST_CASE("empty append and prepend change nothing") {
  Buffer b(8);
  b.append({});
  b.prepend({});
  CHECK(b.readableBytes() == 0);
  CHECK(b.prependableBytes() == Buffer::kCheapPrepend);
}

TEST_CASE("swap exchanges contents") {
  Buffer a(8);
  Buffer b(32);
  a.append(iota(3, 1));
  b.append(iota(5, 9));
  a.swap(b);
  CHECK(contents(a) == iota(5, 9));
  CHECK(contents(b) == iota(3, 1));
  CHECK(a.capacity() == 32 + Buffer::kCheapPrepend);
}

TEST_CASE("a zero-sized buffer grows on first append") {
  Buffer b(0);
  CHECK(b.writableBytes() == 0);
  b.append(iota(3));
  CHECK(contents(b) == iota(3));
}

}  // namespace modbus
