// Role-based authorization of Modbus/TCP Security (MB-TCP-Security v36 §6): the client's role comes
// from its certificate (OID 1.3.6.1.4.1.50316.802.1); this table says what each role may do —
// function codes, optionally units and address ranges per table. Pure: no I/O, no reactor.
// Tests: tests/protocols/application/roles_test.cc
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace modbus {

/// A roles configuration that cannot be used; the message names the JSON path and the problem
/// ("roles.Reader.functions[2]: 300 is not a function code (1..127)").
class RoleConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The four Modbus tables, as named in the JSON configuration.
enum class ModbusTable { Coils, DiscreteInputs, HoldingRegisters, InputRegisters };

/// "coils", "discrete_inputs", "holding_registers", "input_registers".
std::string_view modbusTableName(ModbusTable table) noexcept;

/// Addresses first..last, both included (0-based, as on the wire).
struct AddressRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0xFFFF;
  friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

/// What one role may do.
struct RolePermissions {
  /// Allowed function codes (bit n = function code n, 1..127).
  std::bitset<128> functions;
  /// The unit ids it may address; empty = every unit.
  std::set<std::uint8_t> units;
  /// Per table, the ranges a request's addresses must lie in (all of them within one range). A
  /// table with no entry is not restricted; a table with an empty list is closed.
  std::map<ModbusTable, std::vector<AddressRange>> ranges;

  RolePermissions& allow(std::initializer_list<std::uint8_t> functionCodes);
};

/// Why a request was refused (Allowed when it was not).
enum class Denial { Allowed, NoRole, UnknownRole, Function, Unit, Address };

/// A short text for the log: "function 6 not allowed for the role".
std::string_view denialText(Denial denial) noexcept;

/// The role a connection acts under: its name (for the log) and permissions.
struct RoleGrant {
  std::optional<std::string> name;               ///< the effective role, nullopt when none
  const RolePermissions* permissions = nullptr;  ///< nullptr: may do nothing
  Denial refusal = Denial::NoRole;               ///< why, when permissions is nullptr
};

/// The table of roles of one server. Which role a connection gets (grant):
/// - a certificate role that is configured → that role;
/// - a certificate role that is not configured → no permission at all (UnknownRole);
/// - no certificate role (or no certificate) → the default role when one is set, else none (NoRole).
/// Every refused request is answered with exception 01 (Illegal Function), as the spec prescribes
/// for an unauthorized request, and nothing is executed.
class RoleTable {
 public:
  /// Adds or replaces a role.
  void addRole(std::string name, RolePermissions permissions);
  /// The role of certificates without one; nullopt = none (they may do nothing). The name must be
  /// a configured role when authorize() runs, else such clients get UnknownRole.
  void setDefaultRole(std::optional<std::string> name) { defaultRole_ = std::move(name); }
  const std::optional<std::string>& defaultRole() const { return defaultRole_; }

  bool empty() const { return roles_.empty(); }
  const std::map<std::string, RolePermissions, std::less<>>& roles() const { return roles_; }
  /// The permissions of `name`, or nullptr.
  const RolePermissions* find(std::string_view name) const;

  /// What a connection whose certificate carries `certificateRole` may do (see the class comment).
  /// The grant points into this table: keep the table alive as long as the grant.
  RoleGrant grant(const std::optional<std::string>& certificateRole) const;

  /// Decides one request under `grant`; `pdu` is the request PDU (function code first). An empty
  /// PDU is Allowed (the request processor answers it). No allocation.
  static Denial authorize(const RoleGrant& grant, std::uint8_t unitId, std::span<const std::uint8_t> pdu);
  /// grant() then authorize(), for one-off checks and tests.
  Denial authorize(const std::optional<std::string>& certificateRole, std::uint8_t unitId,
                   std::span<const std::uint8_t> pdu) const;

 private:
  std::map<std::string, RolePermissions, std::less<>> roles_;
  std::optional<std::string> defaultRole_;
};

/// Parses `{"Operator": {"functions": [1, 2, 3, 4, 5, 6, 15, 16], "units": [1],
/// "ranges": {"holding_registers": [[0, 99]]}}, "Reader": {"functions": [1, 2, 3, 4]}}` (the value of
/// the "roles" key; "functions" may also be "all") and the default role (JSON null or a role
/// name). Throws RoleConfigError.
RoleTable parseRoleTable(std::string_view rolesJson, std::optional<std::string> defaultRole = std::nullopt);

/// The addresses a request touches: for function codes 1-6, 15, 16, 22 and 23, the table and the
/// span [first, last] (two spans for 23: the read, then the write). `count` is 0 for a code without
/// addresses or a PDU too short to carry them.
struct AddressSpan {
  ModbusTable table = ModbusTable::Coils;
  std::uint32_t first = 0;
  std::uint32_t last = 0;  ///< may pass 65535 for a request that overruns the address space
};
struct AddressSpans {
  std::array<AddressSpan, 2> spans{};
  std::size_t count = 0;
};
AddressSpans requestAddressSpans(std::span<const std::uint8_t> pdu) noexcept;

}  // namespace modbus
