// ModbusUdpProtocol: datagram → frames → RequestProcessor → one reply datagram per frame.
#include "protocols/serving/modbus_udp_protocol.h"

#include <stdexcept>

#include "reactor/log.h"

namespace modbus {

ModbusUdpProtocol::ModbusUdpProtocol(std::shared_ptr<RequestProcessor> processor, FramerType framer)
    : processor_(std::move(processor)), framerType_(framer), framer_(makeFramer(framer)), output_(512) {
  if (!processor_) throw std::invalid_argument("ModbusUdpProtocol: null processor");
  gapDelimited_ = framer_->framesEndAtGaps();
}

ModbusUdpProtocol::~ModbusUdpProtocol() = default;

void ModbusUdpProtocol::startProtocol() { processor_->configureFramer(*framer_); }

void ModbusUdpProtocol::datagramReceived(reactor::ByteView datagram, const reactor::Address& addr) {
  framer_->reset();  // nothing from an earlier datagram may shape this one
  std::size_t offset = 0;
  bool malformed = false;
  bool gapMarked = false;
  const char* why = "";
  while (offset < datagram.size()) {
    DecodeResult r = framer_->decode(datagram.subspan(offset));
    if (r.status == DecodeStatus::NeedMore) {
      if (gapDelimited_ && !gapMarked) {
        // The datagram's end is the frame's end: let the framer take what its length rules could not.
        framer_->markFrameGap();
        gapMarked = true;
        continue;
      }
      malformed = true;
      why = "incomplete frame at the end of the datagram";
      break;
    }
    if (r.status == DecodeStatus::Discard) {
      malformed = true;
      why = r.reason;
      offset += r.consumed;
      continue;
    }
    if (r.status == DecodeStatus::Fatal) {
      malformed = true;
      why = r.reason;
      break;
    }
    ++requests_;
    std::span<std::uint8_t> response = framer_->beginFrame(output_, r.header);
    std::size_t n = 0;
    try {
      n = processor_->process(r.header.unitId, r.pdu, response);
    } catch (const std::exception& e) {
      reactor::log::error("udp request from ", addr.toString(), " failed: ", e.what());
      n = r.pdu.empty() ? 0 : exceptionResponse(r.pdu[0], ExceptionCode::ServerDeviceFailure, response);
    }
    // FC 8 / 03: an ASCII frame ends at CR + the input delimiter of the device it is for; the
    // framer takes the delimiter of the device it just served.
    if (const DeviceContext* device = processor_->context().find(r.header.unitId)) {
      framer_->setInputDelimiter(device->control().asciiDelimiter());
    }
    if (n > 0) {
      framer_->commitFrame(output_, n);
      transport().write(output_.readable(), addr);
      output_.retrieveAll();
    }
    offset += r.consumed;
  }
  framer_->reset();
  if (malformed) {
    ++malformed_;
    reactor::log::debug("udp datagram from ", addr.toString(), " (", datagram.size(), " bytes) ignored in part: ", why);
  }
}

}  // namespace modbus
