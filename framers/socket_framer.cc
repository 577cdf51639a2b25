// SocketFramer: Modbus/TCP MBAP framing (also what TLS carries); replaces pymodbus framer/socket.py.
#include "framers/socket_framer.h"

#include <stdexcept>

#include "framers/bytes_be.h"

namespace modbus {

DecodeResult SocketFramer::decode(std::span<const std::uint8_t> input) {
  DecodeResult result;
  // The length field is checked as soon as it has arrived: a bad one is fatal whatever follows.
  if (input.size() < 6) {
    return result;
  }
  const std::uint16_t length = readU16BE(input.data() + 4);
  if (length < kMinLength || length > kMaxLength) {
    result.status = DecodeStatus::Fatal;
    result.reason = "MBAP length out of range";
    return result;
  }
  const std::size_t frameSize = 6 + std::size_t{length};
  if (input.size() < frameSize) {
    return result;
  }
  result.consumed = frameSize;
  result.header.transactionId = readU16BE(input.data());
  result.header.protocolId = readU16BE(input.data() + 2);
  result.header.unitId = input[6];
  if (result.header.protocolId != 0) {
    result.status = DecodeStatus::Discard;
    result.reason = "MBAP protocol id is not 0 (Modbus)";
    return result;
  }
  result.status = DecodeStatus::Frame;
  result.pdu = input.subspan(kHeaderSize, frameSize - kHeaderSize);
  return result;
}

std::span<std::uint8_t> SocketFramer::beginFrame(Buffer& out, const FrameHeader& header,
                                                 std::size_t maxPdu) {
  if (maxPdu > kMaxPduSize) {
    throw std::length_error("SocketFramer::beginFrame: PDU larger than 253 bytes");
  }
  out.ensureWritable(kHeaderSize + maxPdu);
  std::uint8_t* p = out.beginWrite();
  writeU16BE(p, header.transactionId);
  writeU16BE(p + 2, 0);
  writeU16BE(p + 4, 0);  // fixed up by commitFrame
  p[6] = header.unitId;
  pendingOut_ = &out;
  pendingRoom_ = maxPdu;
  return {p + kHeaderSize, maxPdu};
}

void SocketFramer::commitFrame(Buffer& out, std::size_t pduLength) {
  if (pendingOut_ != &out) {
    throw std::logic_error("SocketFramer::commitFrame without beginFrame on this buffer");
  }
  if (pduLength > pendingRoom_) {
    throw std::length_error("SocketFramer::commitFrame: PDU longer than the room reserved");
  }
  pendingOut_ = nullptr;
  writeU16BE(out.beginWrite() + 4, static_cast<std::uint16_t>(pduLength + 1));
  out.hasWritten(kHeaderSize + pduLength);
}

}  // namespace modbus
