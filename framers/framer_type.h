// FramerType: choose a framer by name, as pymodbus's FramerType enum ("socket", "rtu", "ascii", "tls").
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "framers/framer.h"

namespace modbus {

/// The framers a server can run, on any transport (RTU over TCP and ASCII over UDP work too).
/// MbapInTls is what Modbus/TCP Security carries: the MBAP ADU unchanged inside TLS, so it builds
/// a SocketFramer; Tls is pymodbus's name for it (FramerType.TLS), kept for porting users.
enum class FramerType { Socket, Rtu, Ascii, MbapInTls, Tls = MbapInTls };

/// A new framer of that type, for one connection or serial line.
std::unique_ptr<Framer> makeFramer(FramerType type);

/// "socket", "rtu", "ascii" or "tls" (lower case, as in pymodbus and in endpoint options); nullopt
/// for any other name.
std::optional<FramerType> framerTypeFromName(std::string_view name) noexcept;

/// The lower-case name of `type` (the inverse of framerTypeFromName).
std::string_view framerTypeName(FramerType type) noexcept;

}  // namespace modbus
