// FramerType: choose a framer by name, as pymodbus's FramerType enum ("socket", "rtu", "ascii", "tls").
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "framers/framer.h"

namespace modbus {

/// The framers a server can run, on any transport (RTU over TCP and ASCII over UDP work too).
/// Tls carries MBAP (Modbus/TCP Security), so it builds a SocketFramer.
enum class FramerType { Socket, Rtu, Ascii, Tls };

/// A new framer of that type, for one connection or serial line.
std::unique_ptr<Framer> makeFramer(FramerType type);

/// "socket", "rtu", "ascii" or "tls" (lower case, as in pymodbus and in endpoint options); nullopt
/// for any other name.
std::optional<FramerType> framerTypeFromName(std::string_view name) noexcept;

/// The lower-case name of `type` (the inverse of framerTypeFromName).
std::string_view framerTypeName(FramerType type) noexcept;

}  // namespace modbus
