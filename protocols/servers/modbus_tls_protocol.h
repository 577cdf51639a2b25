// ModbusTlsProtocol: the stream serving protocol on a TLS transport, checking every request against
// the role named in the client's certificate (MB-TCP-Security's role extension, OID
// 1.3.6.1.4.1.50316.802.1) before it is executed. A refused request gets exception 01 and a log line.
// Tests: tests/integration/tls_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "protocols/application/roles.h"
#include "protocols/serving/modbus_tcp_protocol.h"

namespace modbus {

/// ModbusTcpProtocol on a TLS transport, checking each request against the client's role.
class ModbusTlsProtocol : public ModbusTcpProtocol {
 public:
  /// `roles` null: no authorization.
  ModbusTlsProtocol(std::unique_ptr<Framer> framer, std::shared_ptr<const RoleTable> roles);

  void connectionMade() override;
  std::string logPrefix() const override { return "ModbusTlsProtocol"; }

  /// The role named in the client's certificate, and what this connection acts under.
  const std::optional<std::string>& certificateRole() const { return certificateRole_; }
  const RoleGrant& grant() const { return grant_; }
  /// Requests refused on this connection.
  std::size_t deniedCount() const { return denied_; }

 protected:
  /// A request the role does not allow is answered with exception 01 (Illegal Function), logged
  /// with the peer and the role, and not executed.
  bool authorize(std::uint8_t unitId, std::span<const std::uint8_t> pdu, std::span<std::uint8_t> response,
                 std::size_t& responseLength) override;

 private:
  std::shared_ptr<const RoleTable> roles_;
  std::optional<std::string> certificateRole_;
  RoleGrant grant_;
  std::string peer_;  // "127.0.0.1:40000 (CN=reader, O=…)", for the log
  std::size_t denied_ = 0;
};

}  // namespace modbus
