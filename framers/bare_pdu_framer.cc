// BarePduFramer: one TLS record's plaintext is one PDU (pymodbus 2.x–3.7 TLS framing).
#include "framers/bare_pdu_framer.h"

#include <stdexcept>

namespace modbus {

DecodeResult BarePduFramer::decode(std::span<const std::uint8_t> input) {
  DecodeResult result;
  if (input.empty()) return result;
  result.consumed = input.size();
  if (input.size() > kMaxPduSize) {
    result.status = DecodeStatus::Discard;
    result.reason = "bare PDU longer than 253 bytes";
    return result;
  }
  result.status = DecodeStatus::Frame;
  result.header.unitId = unitId_;
  result.pdu = input;
  return result;
}

std::span<std::uint8_t> BarePduFramer::beginFrame(Buffer& out, const FrameHeader& header, std::size_t maxPdu) {
  (void)header;
  if (maxPdu > kMaxPduSize) throw std::length_error("BarePduFramer::beginFrame: PDU larger than 253 bytes");
  out.ensureWritable(maxPdu);
  pendingOut_ = &out;
  pendingRoom_ = maxPdu;
  return {out.beginWrite(), maxPdu};
}

void BarePduFramer::commitFrame(Buffer& out, std::size_t pduLength) {
  if (pendingOut_ != &out) throw std::logic_error("BarePduFramer::commitFrame without beginFrame on this buffer");
  if (pduLength > pendingRoom_) throw std::length_error("BarePduFramer::commitFrame: PDU longer than the room reserved");
  pendingOut_ = nullptr;
  out.hasWritten(pduLength);
}

}  // namespace modbus
