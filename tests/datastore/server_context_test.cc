// Tests for datastore/server_context.h.
#include "datastore/server_context.h"

#include <doctest/doctest.h>

#include <stdexcept>

namespace modbus {

TEST_CASE("single server context answers every unit id with the one device") {
  auto device = std::make_shared<DeviceContext>();
  auto context = ServerContext::single(device);
  CHECK(context->isSingle());
  CHECK(context->find(0) == device.get());
  CHECK(context->find(1) == device.get());
  CHECK(context->find(255) == device.get());
  CHECK(context->unitIds() == std::vector<std::uint8_t>{0});
  CHECK_THROWS_AS(context->add(2, device), std::logic_error);
  CHECK_THROWS_AS(context->remove(0), std::logic_error);
}

TEST_CASE("multiple server context finds mapped units and nullptr for the others") {
  auto one = std::make_shared<DeviceContext>();
  auto two = std::make_shared<DeviceContext>();
  auto context = ServerContext::multiple({{1, one}, {7, two}});
  CHECK_FALSE(context->isSingle());
  CHECK(context->find(1) == one.get());
  CHECK(context->find(7) == two.get());
  CHECK(context->find(0) == nullptr);  // no pymodbus fallback to unit 0
  CHECK(context->find(2) == nullptr);
  CHECK(context->unitIds() == std::vector<std::uint8_t>{1, 7});
}

TEST_CASE("multiple server context add replaces and remove forgets a unit") {
  ServerContext context;
  CHECK(context.unitIds().empty());
  CHECK(context.find(3) == nullptr);
  auto first = std::make_shared<DeviceContext>();
  auto second = std::make_shared<DeviceContext>();
  context.add(3, first);
  CHECK(context.find(3) == first.get());
  context.add(3, second);
  CHECK(context.find(3) == second.get());
  context.add(0, first);
  CHECK(context.unitIds() == std::vector<std::uint8_t>{0, 3});
  context.remove(3);
  CHECK(context.find(3) == nullptr);
  context.remove(3);
  CHECK(context.unitIds() == std::vector<std::uint8_t>{0});
}

TEST_CASE("soleUnitId names the one unit of a multiple context, and nothing otherwise") {
  auto device = std::make_shared<DeviceContext>();
  CHECK_FALSE(ServerContext::single(device)->soleUnitId().has_value());
  ServerContext context;
  CHECK_FALSE(context.soleUnitId().has_value());
  context.add(9, device);
  CHECK(context.soleUnitId() == std::uint8_t{9});
  context.add(10, device);
  CHECK_FALSE(context.soleUnitId().has_value());
  context.remove(9);
  CHECK(context.soleUnitId() == std::uint8_t{10});
}

TEST_CASE("server context refuses null devices") {
  CHECK_THROWS_AS(ServerContext::single(nullptr), std::invalid_argument);
  CHECK_THROWS_AS(ServerContext::multiple({{1, nullptr}}), std::invalid_argument);
  ServerContext context;
  CHECK_THROWS_AS(context.add(1, nullptr), std::invalid_argument);
}

}  // namespace modbus
