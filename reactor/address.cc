// Address formatting.
#include "reactor/address.h"

namespace reactor {

std::string Address::toString() const {
  switch (type) {
    case Type::None:
      return "-";
    case Type::Serial:
      return host;
    case Type::UNIX:
      return host.empty() ? "unix:(unnamed)" : "unix:" + host;
    case Type::TCP:
    case Type::UDP:
      break;
  }
  if (ipv6) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace reactor
