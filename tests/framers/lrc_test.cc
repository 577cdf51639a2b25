// Tests for framers/lrc.h: the Modbus ASCII longitudinal redundancy check.
#include "framers/lrc.h"

#include <doctest/doctest.h>

#include "tests/framers/decode_loop.h"

namespace modbus {

using test::hexBytes;

TEST_CASE("lrc of the read holding registers example 01 03 00 00 00 01 is FB") {
  CHECK(lrc(hexBytes("01 03 00 00 00 01")) == 0xFB);
}

TEST_CASE("lrc of the serial-line guide example F7 03 13 89 00 0A is 60") {
  CHECK(lrc(hexBytes("F7 03 13 89 00 0A")) == 0x60);
}

TEST_CASE("lrc of nothing and of zeros is zero") {
  CHECK(lrc({}) == 0);
  CHECK(lrc(hexBytes("00 00 00")) == 0);
}

TEST_CASE("lrc wraps the sum modulo 256") {
  CHECK(lrc(hexBytes("FF 01")) == 0x00);  // sum 0x100 -> 0
  CHECK(lrc(hexBytes("FF FF")) == 0x02);  // sum 0x1FE -> FE -> two's complement 02
}

TEST_CASE("bytes plus their lrc sum to zero modulo 256") {
  test::Bytes data = hexBytes("11 22 33 44 55 66 77 88 99 AA BB CC");
  data.push_back(lrc(data));
  unsigned sum = 0;
  for (std::uint8_t b : data) sum += b;
  CHECK(sum % 256 == 0);
}

}  // namespace modbus
