// twisted.application.service / internet on our reactor. See reactor/service.h for the rules.
#include "reactor/service.h"

#include <algorithm>
#include <utility>

#include "reactor/datagram_protocol.h"
#include "reactor/endpoints.h"
#include "reactor/log.h"
#include "reactor/protocol.h"
#include "reactor/reactor.h"

namespace reactor {

// ---- Service ------------------------------------------------------------------------------------

void Service::setName(std::string name) {
  if (parent_ != nullptr) throw std::logic_error("cannot change the name of a Service that has a parent");
  name_ = std::move(name);
}

void Service::setServiceParent(MultiService& parent) {
  // Keep ourselves alive across the move: the old parent may hold the last reference.
  auto self = shared_from_this();
  if (parent_ != nullptr) disownServiceParent();
  parent.addService(self);
}

Deferred<void> Service::disownServiceParent() {
  if (parent_ == nullptr) throw std::logic_error("disownServiceParent: the Service has no parent");
  auto self = shared_from_this();
  return parent_->removeService(*this);
}

void Service::startService() { running_ = true; }

Deferred<void> Service::stopService() {
  running_ = false;
  return succeed();
}

// ---- MultiService -------------------------------------------------------------------------------

void MultiService::addService(std::shared_ptr<Service> service) {
  if (!service) throw std::invalid_argument("addService: null service");
  if (service->parent_ != nullptr) throw std::logic_error("addService: the Service already has a parent");
  if (service.get() == this) throw std::logic_error("addService: a MultiService cannot contain itself");
  if (!service->name().empty()) {
    bool taken = std::any_of(services_.begin(), services_.end(),
                             [&](const std::shared_ptr<Service>& s) { return s->name() == service->name(); });
    if (taken) throw std::logic_error("cannot have two services named '" + service->name() + "'");
  }
  services_.push_back(service);
  service->parent_ = this;
  if (running()) {
    // Twisted calls both here: the child missed the privileged start of its new parent.
    service->privilegedStartService();
    service->startService();
  }
}

Deferred<void> MultiService::removeService(Service& service) {
  auto it = std::find_if(services_.begin(), services_.end(),
                         [&](const std::shared_ptr<Service>& s) { return s.get() == &service; });
  if (it == services_.end()) throw std::invalid_argument("removeService: not a child of this MultiService");
  std::shared_ptr<Service> keep = *it;  // alive until its stop has been asked for
  services_.erase(it);
  keep->parent_ = nullptr;
  if (running()) return maybeDeferred([&] { return keep->stopService(); });
  return succeed();
}

std::shared_ptr<Service> MultiService::getServiceNamed(std::string_view name) const {
  for (const auto& s : services_) {
    if (!s->name().empty() && s->name() == name) return s;
  }
  throw std::out_of_range("no service named '" + std::string(name) + "'");
}

void MultiService::privilegedStartService() {
  Service::privilegedStartService();
  // A copy: a child's start may add or remove children.
  auto children = services_;
  for (auto& s : children) s->privilegedStartService();
}

void MultiService::startService() {
  Service::startService();
  auto children = services_;
  for (auto& s : children) s->startService();
}

Deferred<void> MultiService::stopService() {
  Service::stopService();
  std::vector<Deferred<void>> stops;
  auto children = services_;
  for (auto it = children.rbegin(); it != children.rend(); ++it) {
    auto& child = *it;
    stops.push_back(maybeDeferred([&] { return child->stopService(); }));
  }
  // Twisted's DeferredList without a bound; the reactor bounds the shutdown as a whole. A Clock is
  // not at hand here, so the wait is the DeferredList's: failures logged, success passed on.
  auto all = DeferredList<void>(std::move(stops), false, false, /*consumeErrors=*/true);
  return all.addCallback([name = name()](DeferredListResult<void> results) {
    for (auto& r : results) {
      if (!r.success) log::error("stopping a child of service '", name, "' failed: ", r.failure.getErrorMessage());
    }
  });
}

// ---- startApplication ---------------------------------------------------------------------------

void startApplication(std::shared_ptr<Service> service, Reactor& reactor) {
  if (!service) throw std::invalid_argument("startApplication: null service");
  service->privilegedStartService();
  reactor.callWhenRunning([service] { service->startService(); });
  reactor.addSystemEventTrigger(Phase::Before, SystemEvent::Shutdown, [service]() -> Deferred<void> {
    if (!service->running()) return succeed();
    return service->stopService();
  });
}

// ---- TCPServer / UDPServer ----------------------------------------------------------------------

TCPServer::TCPServer(IReactorTCP& reactor, std::uint16_t port, std::shared_ptr<Factory> factory, int backlog,
                     std::string interface)
    : reactor_(reactor), portNumber_(port), factory_(std::move(factory)), backlog_(backlog),
      interface_(std::move(interface)) {}

void TCPServer::privilegedStartService() {
  Service::privilegedStartService();
  if (!port_) port_ = reactor_.listenTCP(portNumber_, factory_, backlog_, interface_);
}

void TCPServer::startService() {
  Service::startService();
  if (!port_) port_ = reactor_.listenTCP(portNumber_, factory_, backlog_, interface_);
}

Deferred<void> TCPServer::stopService() {
  Service::stopService();
  if (port_) {
    port_->stopListening();
    port_.reset();
  }
  return succeed();
}

UDPServer::UDPServer(IReactorUDP& reactor, std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                     std::string interface, std::size_t maxPacketSize)
    : reactor_(reactor), portNumber_(port), protocol_(std::move(protocol)), interface_(std::move(interface)),
      maxPacketSize_(maxPacketSize) {}

void UDPServer::privilegedStartService() {
  Service::privilegedStartService();
  if (!port_) port_ = reactor_.listenUDP(portNumber_, protocol_, interface_, maxPacketSize_);
}

void UDPServer::startService() {
  Service::startService();
  if (!port_) port_ = reactor_.listenUDP(portNumber_, protocol_, interface_, maxPacketSize_);
}

Deferred<void> UDPServer::stopService() {
  Service::stopService();
  if (port_) {
    port_->stopListening();
    port_.reset();
  }
  return succeed();
}

// ---- StreamServerEndpointService ----------------------------------------------------------------

StreamServerEndpointService::StreamServerEndpointService(std::unique_ptr<IStreamServerEndpoint> endpoint,
                                                         std::shared_ptr<Factory> factory)
    : endpoint_(std::move(endpoint)), factory_(std::move(factory)) {
  if (!endpoint_) throw std::invalid_argument("StreamServerEndpointService: null endpoint");
}

StreamServerEndpointService::StreamServerEndpointService(Reactor& reactor, std::string_view description,
                                                         std::shared_ptr<Factory> factory)
    : StreamServerEndpointService(serverFromString(reactor, description), std::move(factory)) {}

StreamServerEndpointService::~StreamServerEndpointService() = default;

void StreamServerEndpointService::privilegedStartService() {
  Service::privilegedStartService();
  if (!port_) port_ = endpoint_->listen(factory_);
}

void StreamServerEndpointService::startService() {
  Service::startService();
  if (!port_) port_ = endpoint_->listen(factory_);
}

Deferred<void> StreamServerEndpointService::stopService() {
  Service::stopService();
  if (port_) {
    port_->stopListening();
    port_.reset();
  }
  return succeed();
}

// ---- TimerService -------------------------------------------------------------------------------

TimerService::TimerService(IReactorTime& clock, double step, std::function<void()> f)
    : clock_(clock), step_(step), f_(std::move(f)) {
  if (!(step_ >= 0)) throw std::invalid_argument("TimerService: step must be >= 0");
}

void TimerService::startService() {
  Service::startService();
  loop_.emplace(clock_, f_);
  loopFinished_ = loop_->start(step_, /*now=*/true);
  loopFinished_->addErrback([name = name()](Failure f) {
    // Twisted's TimerService._failed: the loop is over; log it, the service stays "running".
    log::error("TimerService '", name, "': the call failed, the timer stopped: ", f.getErrorMessage());
  });
}

Deferred<void> TimerService::stopService() {
  Service::stopService();
  if (loop_ && loop_->running()) loop_->stop();
  Deferred<void> finished = loopFinished_ ? *loopFinished_ : succeed();
  loopFinished_.reset();
  return finished;
}

}  // namespace reactor
