// Tests for datastore/device_identification.h: the objects of one device, their categories and
// the conformity level FC 43 / 14 reports.
#include "datastore/device_identification.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

namespace modbus {
namespace {

TEST_CASE("an identity always has the three basic objects, empty until set") {
  ModbusDeviceIdentification id;
  CHECK(id.has(0x00));
  CHECK(id.has(0x01));
  CHECK(id.has(0x02));
  CHECK_FALSE(id.has(0x03));
  CHECK(id.vendorName().empty());
  CHECK(id.objects().size() == 3);
}

TEST_CASE("identity objects are set by id, by pymodbus's property names and from an info map") {
  ModbusDeviceIdentification id({{0x00, "Acme"}, {0x04, "Pump"}, {0x80, "private"}});
  id.setProductCode("P-1");
  id.setModelName("M");
  CHECK(id.vendorName() == "Acme");
  CHECK(id.productCode() == "P-1");
  CHECK(id.productName() == "Pump");
  CHECK(id.modelName() == "M");
  CHECK(id.get(0x80) == "private");
  CHECK(id.get(0x81).empty());
  CHECK(id.find(0x81) == nullptr);
}

TEST_CASE("reserved identity objects 0x07..0x7F and values over 244 bytes are rejected") {
  ModbusDeviceIdentification id;
  CHECK_THROWS_AS(id.set(0x07, "x"), std::invalid_argument);
  CHECK_THROWS_AS(id.set(0x7F, "x"), std::invalid_argument);
  CHECK_NOTHROW(id.set(0xFF, std::string(244, 'a')));
  CHECK_THROWS_AS(id.set(0x80, std::string(245, 'a')), std::invalid_argument);
  CHECK_FALSE(id.has(0x80));
}

TEST_CASE("erasing a basic identity object empties it, erasing another removes it") {
  ModbusDeviceIdentification id({{0x00, "Acme"}, {0x05, "M"}});
  id.erase(0x00);
  CHECK(id.has(0x00));
  CHECK(id.vendorName().empty());
  id.erase(0x05);
  CHECK_FALSE(id.has(0x05));
}

TEST_CASE("identity object names map to ids and back") {
  CHECK(ModbusDeviceIdentification::objectIdOf("VendorName") == 0x00);
  CHECK(ModbusDeviceIdentification::objectIdOf("UserApplicationName") == 0x06);
  CHECK_FALSE(ModbusDeviceIdentification::objectIdOf("vendorname").has_value());
  CHECK(std::string(ModbusDeviceIdentification::objectName(0x04)) == "ProductName");
  CHECK(ModbusDeviceIdentification::objectName(0x07) == nullptr);
}

TEST_CASE("nextObject finds the first object in a range") {
  ModbusDeviceIdentification id({{0x04, "P"}, {0x90, "x"}});
  CHECK(id.nextObject(0, 0xFF) == 0x00);
  CHECK(id.nextObject(3, 0x7F) == 0x04);
  CHECK_FALSE(id.nextObject(5, 0x7F).has_value());
  CHECK(id.nextObject(5, 0xFF) == 0x90);
  CHECK_FALSE(id.nextObject(0x91, 0xFF).has_value());
  CHECK_FALSE(id.nextObject(0x100, 0xFF).has_value());
}

TEST_CASE("the conformity level follows the categories present: 81, 82, 83") {
  ModbusDeviceIdentification id;
  CHECK(id.conformityLevel() == 0x81);
  id.setVendorUrl("http://x");
  CHECK(id.conformityLevel() == 0x82);
  id.set(0xA0, "p");
  CHECK(id.conformityLevel() == 0x83);
  id.erase(0x03);
  CHECK(id.conformityLevel() == 0x83);
}

TEST_CASE("two identities are independent (pymodbus shares one per process)") {
  ModbusDeviceIdentification a;
  ModbusDeviceIdentification b;
  a.setVendorName("A");
  b.setVendorName("B");
  CHECK(a.vendorName() == "A");
  CHECK(b.vendorName() == "B");
}

}  // namespace
}  // namespace modbus
