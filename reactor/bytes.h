// Byte spans shared by every layer: what dataReceived hands out and what write takes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace reactor {

using Byte = std::uint8_t;
/// A borrowed run of bytes. What `dataReceived` receives is valid for that call only: copy what you keep.
using ByteView = std::span<const Byte>;
using Bytes = std::vector<Byte>;

inline ByteView asBytes(std::string_view text) {
  return {reinterpret_cast<const Byte*>(text.data()), text.size()};
}

inline std::string_view asText(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// "01 02 ff" — for log lines and test failure messages.
std::string toHex(ByteView bytes);

}  // namespace reactor
