// One device's identification objects for FC 43 / 14; ports pymodbus's ModbusDeviceIdentification
// (one identity per device, not pymodbus's class-level dict shared by the whole process).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace modbus {

/// The identification objects of one device (Modbus Application Protocol v1.1b3 §6.21):
///
/// | id        | name                | category                        |
/// |-----------|---------------------|---------------------------------|
/// | 0x00-0x02 | VendorName, ProductCode, MajorMinorRevision | basic (mandatory: always present, "" until set) |
/// | 0x03-0x06 | VendorUrl, ProductName, ModelName, UserApplicationName | regular (optional) |
/// | 0x07-0x7F | reserved: rejected                                    | –        |
/// | 0x80-0xFF | private objects                                       | extended |
///
/// A value is a byte string of at most kMaxObjectLength bytes, so that every object fits one
/// FC 43 / 14 response on its own. Reactor thread only, like the rest of the device.
class ModbusDeviceIdentification {
 public:
  static constexpr std::uint8_t kVendorName = 0x00;
  static constexpr std::uint8_t kProductCode = 0x01;
  static constexpr std::uint8_t kMajorMinorRevision = 0x02;
  static constexpr std::uint8_t kVendorUrl = 0x03;
  static constexpr std::uint8_t kProductName = 0x04;
  static constexpr std::uint8_t kModelName = 0x05;
  static constexpr std::uint8_t kUserApplicationName = 0x06;
  static constexpr std::uint8_t kLastBasic = 0x02;
  static constexpr std::uint8_t kLastRegular = 0x7F;
  static constexpr std::uint8_t kFirstPrivate = 0x80;
  /// The longest object value: a 253-byte PDU minus the 7-byte FC 43 / 14 header and the object's
  /// id and length bytes.
  static constexpr std::size_t kMaxObjectLength = 244;

  /// The basic objects, empty.
  ModbusDeviceIdentification();
  /// The basic objects, then every entry of `info` (pymodbus's `info={0x80: "..."}`). Throws
  /// std::invalid_argument as set() does.
  explicit ModbusDeviceIdentification(const std::map<std::uint8_t, std::string>& info);

  /// The object id of a standard name ("VendorName" → 0x00 ... "UserApplicationName" → 0x06),
  /// or nullopt for any other text.
  static std::optional<std::uint8_t> objectIdOf(std::string_view name);
  /// The standard name of 0x00..0x06, or nullptr for any other id.
  static const char* objectName(std::uint8_t id);
  /// True for an id a device may hold: 0x00..0x06 and 0x80..0xFF.
  static bool isValidObjectId(std::uint8_t id) { return id <= kUserApplicationName || id >= kFirstPrivate; }

  /// Stores `value` as object `id`, replacing any previous value. Throws std::invalid_argument for
  /// a reserved id (0x07..0x7F) or a value longer than kMaxObjectLength.
  void set(std::uint8_t id, std::string value);
  /// Removes object `id` (a basic object becomes "" again: it is mandatory).
  void erase(std::uint8_t id);
  /// The value of object `id`, or nullptr when the device has no such object. Never allocates.
  const std::string* find(std::uint8_t id) const;
  /// True when the device has object `id` (0x00..0x02 always).
  bool has(std::uint8_t id) const { return find(id) != nullptr; }
  /// "" when absent.
  std::string get(std::uint8_t id) const;

  /// The first object with an id in [from, last], or nullopt. Never allocates.
  std::optional<std::uint8_t> nextObject(unsigned from, std::uint8_t last) const;

  /// 0x81 (basic, stream and individual access), 0x82 when a regular object is present, 0x83
  /// when a private object is present (§6.21, "conformity level").
  std::uint8_t conformityLevel() const;

  /// Every object, by id (basic ones included).
  const std::map<std::uint8_t, std::string>& objects() const { return objects_; }

  // pymodbus's property names, for porting users.
  std::string vendorName() const { return get(kVendorName); }
  std::string productCode() const { return get(kProductCode); }
  std::string majorMinorRevision() const { return get(kMajorMinorRevision); }
  std::string vendorUrl() const { return get(kVendorUrl); }
  std::string productName() const { return get(kProductName); }
  std::string modelName() const { return get(kModelName); }
  std::string userApplicationName() const { return get(kUserApplicationName); }
  void setVendorName(std::string v) { set(kVendorName, std::move(v)); }
  void setProductCode(std::string v) { set(kProductCode, std::move(v)); }
  void setMajorMinorRevision(std::string v) { set(kMajorMinorRevision, std::move(v)); }
  void setVendorUrl(std::string v) { set(kVendorUrl, std::move(v)); }
  void setProductName(std::string v) { set(kProductName, std::move(v)); }
  void setModelName(std::string v) { set(kModelName, std::move(v)); }
  void setUserApplicationName(std::string v) { set(kUserApplicationName, std::move(v)); }

 private:
  std::map<std::uint8_t, std::string> objects_;
};

}  // namespace modbus
