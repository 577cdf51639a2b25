// The unit id → device map of a server.
#include "datastore/server_context.h"

#include <stdexcept>
#include <utility>

namespace modbus {
namespace {

void checkDevice(const std::shared_ptr<DeviceContext>& device) {
  if (!device) throw std::invalid_argument("modbus::ServerContext: null DeviceContext");
}

}  // namespace

std::shared_ptr<ServerContext> ServerContext::single(std::shared_ptr<DeviceContext> device) {
  checkDevice(device);
  auto context = std::make_shared<ServerContext>();
  context->single_ = std::move(device);
  return context;
}

std::shared_ptr<ServerContext> ServerContext::multiple(std::map<std::uint8_t, std::shared_ptr<DeviceContext>> devices) {
  for (const auto& [unitId, device] : devices) checkDevice(device);
  auto context = std::make_shared<ServerContext>();
  context->devices_ = std::move(devices);
  return context;
}

DeviceContext* ServerContext::find(std::uint8_t unitId) const {
  if (single_) return single_.get();
  auto it = devices_.find(unitId);
  return it == devices_.end() ? nullptr : it->second.get();
}

std::optional<std::uint8_t> ServerContext::soleUnitId() const {
  if (single_ || devices_.size() != 1) return std::nullopt;
  return devices_.begin()->first;
}

std::vector<std::uint8_t> ServerContext::unitIds() const {
  if (single_) return {0};
  std::vector<std::uint8_t> ids;
  ids.reserve(devices_.size());
  for (const auto& [unitId, device] : devices_) ids.push_back(unitId);
  return ids;
}

void ServerContext::add(std::uint8_t unitId, std::shared_ptr<DeviceContext> device) {
  if (single_) throw std::logic_error("modbus::ServerContext: add() on a single-device context");
  checkDevice(device);
  devices_.insert_or_assign(unitId, std::move(device));
}

void ServerContext::remove(std::uint8_t unitId) {
  if (single_) throw std::logic_error("modbus::ServerContext: remove() on a single-device context");
  devices_.erase(unitId);
}

}  // namespace modbus
