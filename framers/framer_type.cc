// FramerType: choose a framer by name, as pymodbus's FramerType enum ("socket", "rtu", "ascii", "tls").
#include "framers/framer_type.h"

#include "framers/ascii_framer.h"
#include "framers/rtu_framer.h"
#include "framers/socket_framer.h"

namespace modbus {

std::unique_ptr<Framer> makeFramer(FramerType type) {
  switch (type) {
    case FramerType::Rtu:
      return std::make_unique<RtuFramer>();
    case FramerType::Ascii:
      return std::make_unique<AsciiFramer>();
    case FramerType::Socket:
    case FramerType::MbapInTls:
      break;
  }
  return std::make_unique<SocketFramer>();
}

std::optional<FramerType> framerTypeFromName(std::string_view name) noexcept {
  for (FramerType type : {FramerType::Socket, FramerType::Rtu, FramerType::Ascii, FramerType::MbapInTls}) {
    if (name == framerTypeName(type)) {
      return type;
    }
  }
  return std::nullopt;
}

std::string_view framerTypeName(FramerType type) noexcept {
  switch (type) {
    case FramerType::Socket:
      return "socket";
    case FramerType::Rtu:
      return "rtu";
    case FramerType::Ascii:
      return "ascii";
    case FramerType::MbapInTls:
      return "tls";
  }
  return "socket";
}

}  // namespace modbus
