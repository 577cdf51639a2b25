// Write observers: match a successful write against the subscriptions and report the values stored.
#include "protocols/application/write_observers.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <utility>

#include "datastore/data_block.h"
#include "framers/function_codes.h"
#include "reactor/log.h"

namespace modbus {

WriteObservers::SubscriptionId WriteObservers::subscribe(std::optional<std::uint8_t> unitId, ModbusTable table,
                                                         AddressRange range, Callback callback) {
  if (!callback) throw std::invalid_argument("modbus::WriteObservers: empty callback");
  if (range.first > range.last) throw std::invalid_argument("modbus::WriteObservers: range.first > range.last");
  const SubscriptionId id = nextId_++;
  subscriptions_.push_back(Subscription{id, unitId, table, range, std::move(callback)});
  ++live_;
  return id;
}

bool WriteObservers::unsubscribe(SubscriptionId id) {
  for (auto& s : subscriptions_) {
    if (s.id == id && s.callback) {
      s.callback = nullptr;
      --live_;
      if (notifying_ == 0) compact();
      return true;
    }
  }
  return false;
}

void WriteObservers::compact() {
  subscriptions_.erase(std::remove_if(subscriptions_.begin(), subscriptions_.end(),
                                      [](const Subscription& s) { return !s.callback; }),
                       subscriptions_.end());
}

void WriteObservers::notifyWrite(std::uint8_t unitId, const DeviceContext& device,
                                 std::span<const std::uint8_t> request) {
  if (live_ == 0 || request.empty()) return;
  if (!isWriteFunctionCode(request[0])) return;  // the function-code table says what writes
  const AddressSpans spans = requestAddressSpans(request);
  if (spans.count == 0) return;
  const AddressSpan written = spans.spans[spans.count - 1];  // FC 23: the write comes second
  if (written.last > 0xFFFF) return;

  ++notifying_;
  // Index loop: a callback may subscribe (push_back) while we walk; new ones wait for the next write.
  const std::size_t n = subscriptions_.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!subscriptions_[i].callback) continue;
    const Subscription& s = subscriptions_[i];
    if (s.table != written.table || (s.unitId && *s.unitId != unitId)) continue;
    const std::uint32_t first = std::max<std::uint32_t>(s.range.first, written.first);
    const std::uint32_t last = std::min<std::uint32_t>(s.range.last, written.last);
    if (first > last) continue;
    const auto count = static_cast<std::uint16_t>(last - first + 1);
    const auto at = device.blockAddress(static_cast<std::uint16_t>(first), count);
    if (!at) continue;
    try {
      values_.assign(count, 0);
      ExceptionCode code = ExceptionCode::IllegalDataAddress;
      if (written.table == ModbusTable::Coils && device.coils() != nullptr) {
        const std::vector<bool> bits = device.coils()->getValues(*at, count);
        for (std::size_t k = 0; k < count; ++k) values_[k] = bits[k] ? 1 : 0;
        code = ExceptionCode::None;
      } else if (written.table == ModbusTable::HoldingRegisters && device.holdingRegisters() != nullptr) {
        code = device.holdingRegisters()->getValues(*at, std::span<std::uint16_t>(values_));
      }
      if (code != ExceptionCode::None) continue;
      // Copies: the callback may unsubscribe itself (the entry stays until compact()) or cause another
      // notification that reuses values_.
      Callback callback = s.callback;
      const std::vector<std::uint16_t> values = values_;
      callback(WriteEvent{unitId, written.table, static_cast<std::uint16_t>(first), values});
    } catch (const std::exception& e) {
      reactor::log::error("write observer for unit ", static_cast<int>(unitId), " threw: ", e.what());
    } catch (...) {
      reactor::log::error("write observer for unit ", static_cast<int>(unitId), " threw");
    }
  }
  if (--notifying_ == 0 && live_ != subscriptions_.size()) compact();
}

}  // namespace modbus
