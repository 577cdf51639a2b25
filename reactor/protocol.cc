// Protocol and Factory plumbing (twisted.internet.protocol).
#include "reactor/protocol.h"

#include <stdexcept>

#include "reactor/log.h"

namespace reactor {

void Protocol::makeConnection(std::shared_ptr<ITransport> transport) {
  transport_ = std::move(transport);
  connected_ = true;
  connectionMade();
}

ITransport& Protocol::transport() const {
  if (!transport_) throw std::logic_error("Protocol::transport() before makeConnection()");
  return *transport_;
}

std::shared_ptr<Protocol> Factory::buildProtocol(const Address& addr) {
  (void)addr;
  if (!protocol) return nullptr;
  auto p = protocol();
  if (p) adopt(*p);
  return p;
}

void Factory::doStart() {
  if (numPorts_++ == 0) startFactory();
}

void Factory::doStop() {
  if (numPorts_ == 0) return;
  if (--numPorts_ == 0) stopFactory();
}

}  // namespace reactor
