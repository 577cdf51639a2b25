// BarePduFramer: the TLS framing of pymodbus 2.x–3.7 (framer/tls.py before pymodbus PR #2425):
// a bare PDU — function code and data, no MBAP header, no unit id — in each TLS record.
// Only for old peers: Modbus/TCP Security carries the MBAP ADU (SocketFramer), the default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "framers/framer.h"

namespace modbus {

/// A bare PDU has no length field, so a frame cannot be found inside a byte stream. This framer
/// takes each `decode` input whole as one PDU, which holds when it is fed one TLS record's
/// plaintext at a time: the TLS transport delivers each record in one dataReceived, and
/// ModbusStreamProtocol decodes a chunk straight from dataReceived. (pymodbus decodes its receive
/// buffer the same way.) An input longer than kMaxPduSize is discarded whole. Responses are the
/// bare PDU too; every request is executed for one configured unit id.
class BarePduFramer final : public Framer {
 public:
  /// `unitId`: the unit every request goes to (there is none on the wire).
  explicit BarePduFramer(std::uint8_t unitId = 0) : unitId_(unitId) {}

  DecodeResult decode(std::span<const std::uint8_t> input) override;
  std::span<std::uint8_t> beginFrame(Buffer& out, const FrameHeader& header,
                                     std::size_t maxPdu = kMaxPduSize) override;
  void commitFrame(Buffer& out, std::size_t pduLength) override;

  std::uint8_t unitId() const { return unitId_; }

 private:
  std::uint8_t unitId_;
  Buffer* pendingOut_ = nullptr;
  std::size_t pendingRoom_ = 0;
};

}  // namespace modbus
