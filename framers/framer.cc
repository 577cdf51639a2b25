// The interface every Modbus framer implements: the encode convenience shared by all of them.
#include "framers/framer.h"

#include <algorithm>

namespace modbus {

void Framer::encode(Buffer& out, const FrameHeader& header, std::span<const std::uint8_t> pdu) {
  std::span<std::uint8_t> room = beginFrame(out, header, pdu.size());
  std::copy(pdu.begin(), pdu.end(), room.begin());
  commitFrame(out, pdu.size());
}

}  // namespace modbus
