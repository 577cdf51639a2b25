// ModbusTlsProtocol: the certificate's role on connect, the authorization of each request.
#include "protocols/servers/modbus_tls_protocol.h"

#include "protocols/application/request_processor.h"
#include "reactor/log.h"
#include "reactor/tls.h"

namespace modbus {

ModbusTlsProtocol::ModbusTlsProtocol(std::unique_ptr<Framer> framer, std::shared_ptr<const RoleTable> roles)
    : ModbusTcpProtocol(std::move(framer)), roles_(std::move(roles)) {}

void ModbusTlsProtocol::connectionMade() {
  auto* tls = dynamic_cast<reactor::ITLSTransport*>(&transport());
  peer_ = transport().getPeer().toString();
  if (tls != nullptr && tls->peerCertificate()) {
    certificateRole_ = tls->peerCertificate()->role;
    peer_ += " (" + tls->peerCertificate()->subject + ")";
  }
  if (roles_) grant_ = roles_->grant(certificateRole_);
  if (roles_) {
    reactor::log::info("TLS client ", peer_, ": certificate role ", certificateRole_ ? *certificateRole_ : "(none)",
                       ", acting as ", grant_.name ? *grant_.name : "(no role)",
                       grant_.permissions ? "" : " — every request will be refused");
  } else {
    reactor::log::info("TLS client ", peer_, ": certificate role ", certificateRole_ ? *certificateRole_ : "(none)");
  }
  ModbusTcpProtocol::connectionMade();
}

bool ModbusTlsProtocol::authorize(std::uint8_t unitId, std::span<const std::uint8_t> pdu,
                                  std::span<std::uint8_t> response, std::size_t& responseLength) {
  if (!roles_) return true;
  Denial d = RoleTable::authorize(grant_, unitId, pdu);
  if (d == Denial::Allowed) return true;
  ++denied_;
  reactor::log::warning("refused function ", static_cast<int>(pdu[0]), " for unit ", static_cast<int>(unitId),
                        " from ", peer_, ", role ", grant_.name ? *grant_.name : "(none)", ": ", denialText(d));
  responseLength = exceptionResponse(pdu[0], ExceptionCode::IllegalFunction, response);
  return false;
}

}  // namespace modbus
