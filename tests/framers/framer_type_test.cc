// Tests for framers/framer_type.h: choosing a framer by its pymodbus name.
#include "framers/framer_type.h"

#include <doctest/doctest.h>

#include "framers/ascii_framer.h"
#include "framers/rtu_framer.h"
#include "framers/socket_framer.h"

namespace modbus {

TEST_CASE("framer type names round-trip and unknown names are refused") {
  for (FramerType type : {FramerType::Socket, FramerType::Rtu, FramerType::Ascii, FramerType::MbapInTls}) {
    CHECK(framerTypeFromName(framerTypeName(type)) == type);
  }
  CHECK(framerTypeFromName("rtu") == FramerType::Rtu);
  CHECK_FALSE(framerTypeFromName("RTU").has_value());
  CHECK_FALSE(framerTypeFromName("binary").has_value());
  CHECK_FALSE(framerTypeFromName("").has_value());
}

TEST_CASE("makeFramer builds the framer of each type and TLS reuses MBAP") {
  CHECK(dynamic_cast<SocketFramer*>(makeFramer(FramerType::Socket).get()) != nullptr);
  CHECK(dynamic_cast<SocketFramer*>(makeFramer(FramerType::MbapInTls).get()) != nullptr);
  CHECK(dynamic_cast<RtuFramer*>(makeFramer(FramerType::Rtu).get()) != nullptr);
  CHECK(dynamic_cast<AsciiFramer*>(makeFramer(FramerType::Ascii).get()) != nullptr);
}

TEST_CASE("FramerType::Tls, pymodbus's name, is MbapInTls and is named \"tls\"") {
  static_assert(FramerType::Tls == FramerType::MbapInTls);
  CHECK(framerTypeFromName("tls") == FramerType::Tls);
  CHECK(framerTypeName(FramerType::Tls) == "tls");
}

}  // namespace modbus
