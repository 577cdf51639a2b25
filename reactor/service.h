// Port of twisted.application.service and twisted.application.internet: Service, MultiService,
// Application, TCPServer, UDPServer, StreamServerEndpointService, TimerService, and
// startApplication (what twistd does with an application on a running reactor).
//
// Rules it keeps (Twisted's):
// - A service is owned by its parent (a MultiService holds shared_ptrs to its children); a child
//   knows its parent by a plain pointer, cleared when it is removed. Make services with
//   std::make_shared: setServiceParent needs shared_from_this().
// - privilegedStartService runs before startService (twistd calls it before dropping privileges:
//   the servers bind there, so port 502 works with CAP_NET_BIND_SERVICE alone at start).
// - stopService returns a Deferred that fires when the service has stopped. A MultiService stops
//   its children in reverse order of addition, all at once, and fires when all of theirs have.
// - Adding a child to a running MultiService starts it; removing it from a running one stops it.
// - Everything runs on the reactor thread. No libuv here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/defer.h"
#include "reactor/interfaces.h"
#include "reactor/looping_call.h"

namespace reactor {

class DatagramProtocol;
class Factory;
class IStreamServerEndpoint;
class MultiService;
class Reactor;

/// Twisted's IService / service.Service.
class Service : public std::enable_shared_from_this<Service> {
 public:
  Service() = default;
  explicit Service(std::string name) : name_(std::move(name)) {}
  virtual ~Service() = default;
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const std::string& name() const { return name_; }
  MultiService* parent() const { return parent_; }
  bool running() const { return running_; }

  /// std::logic_error once the service has a parent (Twisted's RuntimeError: the parent indexes
  /// its children by name).
  void setName(std::string name);
  /// Leaves the current parent (if any) and joins `parent` (parent.addService(this)).
  void setServiceParent(MultiService& parent);
  /// parent.removeService(this); returns what that returns (the stop's Deferred when running).
  /// std::logic_error without a parent.
  Deferred<void> disownServiceParent();

  /// Work that needs the privileges the process starts with (binding port 502). Default: nothing.
  virtual void privilegedStartService() {}
  /// Default: marks the service running.
  virtual void startService();
  /// Default: marks it stopped; the Deferred has fired.
  virtual Deferred<void> stopService();

 private:
  friend class MultiService;
  std::string name_;
  MultiService* parent_ = nullptr;
  bool running_ = false;
};

/// Twisted's MultiService (and IServiceCollection).
class MultiService : public Service {
 public:
  using Service::Service;

  /// Adds a child; starts it (privilegedStartService, startService) if this one runs.
  /// std::logic_error for a name already taken, or a child that already has a parent.
  void addService(std::shared_ptr<Service> service);
  /// Removes a child; when this one runs, stops it and returns its stop's Deferred (else a fired one).
  /// std::invalid_argument if it is not a child.
  Deferred<void> removeService(Service& service);
  /// The child of that name; std::out_of_range (Twisted's KeyError) if none.
  std::shared_ptr<Service> getServiceNamed(std::string_view name) const;
  /// The children in order of addition (Twisted's __iter__).
  const std::vector<std::shared_ptr<Service>>& services() const { return services_; }
  std::vector<std::shared_ptr<Service>>::const_iterator begin() const { return services_.begin(); }
  std::vector<std::shared_ptr<Service>>::const_iterator end() const { return services_.end(); }

  void privilegedStartService() override;
  void startService() override;
  /// Stops every child, last added first, and fires once all their Deferreds have (a child's
  /// failure is logged, not passed on, like Twisted's DeferredList).
  Deferred<void> stopService() override;

 private:
  std::vector<std::shared_ptr<Service>> services_;
};

/// Twisted's service.Application: the named top of a service tree (a MultiService). uid/gid are
/// not kept here: uvmodbus-server drops privileges itself (systemd's DynamicUser does it better).
class Application : public MultiService {
 public:
  explicit Application(std::string name) : MultiService(std::move(name)) {}
};

/// Twisted's app.startApplication for a reactor that is about to run (or runs): calls
/// privilegedStartService now (binding ports while privileged), startService once the reactor
/// runs, and stopService from a "before shutdown" trigger, so reactor.stop() (or SIGTERM) waits
/// for the whole tree to stop, bounded by Reactor::setBeforeShutdownTimeout. The reactor keeps
/// `service` alive until it shuts down.
void startApplication(std::shared_ptr<Service> service, Reactor& reactor);

/// Twisted's internet.TCPServer: listenTCP in privilegedStartService (or startService if that was
/// skipped), stopListening in stopService. Connections already accepted stay up, as in Twisted.
class TCPServer : public Service {
 public:
  TCPServer(IReactorTCP& reactor, std::uint16_t port, std::shared_ptr<Factory> factory, int backlog = 50,
            std::string interface = {});
  void privilegedStartService() override;
  void startService() override;
  Deferred<void> stopService() override;
  /// The listening port while listening (Twisted's _port), else null: getHost() for port 0.
  std::shared_ptr<IListeningPort> port() const { return port_; }

 private:
  IReactorTCP& reactor_;
  std::uint16_t portNumber_;
  std::shared_ptr<Factory> factory_;
  int backlog_;
  std::string interface_;
  std::shared_ptr<IListeningPort> port_;
};

/// Twisted's internet.UDPServer: listenUDP / stopListening as TCPServer does.
class UDPServer : public Service {
 public:
  UDPServer(IReactorUDP& reactor, std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
            std::string interface = {}, std::size_t maxPacketSize = 8192);
  void privilegedStartService() override;
  void startService() override;
  Deferred<void> stopService() override;
  std::shared_ptr<IListeningPort> port() const { return port_; }

 private:
  IReactorUDP& reactor_;
  std::uint16_t portNumber_;
  std::shared_ptr<DatagramProtocol> protocol_;
  std::string interface_;
  std::size_t maxPacketSize_;
  std::shared_ptr<IListeningPort> port_;
};

/// Twisted's StreamServerEndpointService: listens on an endpoint (see reactor/endpoints.h,
/// serverFromString). A listen failure throws from privilegedStartService / startService, unlike
/// Twisted, which logs it: a server that cannot listen should not look as if it runs.
class StreamServerEndpointService : public Service {
 public:
  StreamServerEndpointService(std::unique_ptr<IStreamServerEndpoint> endpoint, std::shared_ptr<Factory> factory);
  /// serverFromString(reactor, description): EndpointError at once for a bad description.
  StreamServerEndpointService(Reactor& reactor, std::string_view description, std::shared_ptr<Factory> factory);
  ~StreamServerEndpointService() override;
  void privilegedStartService() override;
  void startService() override;
  Deferred<void> stopService() override;
  std::shared_ptr<IListeningPort> port() const { return port_; }

 private:
  std::unique_ptr<IStreamServerEndpoint> endpoint_;
  std::shared_ptr<Factory> factory_;
  std::shared_ptr<IListeningPort> port_;
};

/// Twisted's internet.TimerService: calls f every `step` seconds (at once on start) with a
/// LoopingCall while running. If f throws, the loop stops and the error is logged; the service
/// stays "running" until stopService, as in Twisted.
class TimerService : public Service {
 public:
  TimerService(IReactorTime& clock, double step, std::function<void()> f);
  void startService() override;
  /// Stops the loop; the Deferred fires when it has (at once).
  Deferred<void> stopService() override;

 private:
  IReactorTime& clock_;
  double step_;
  std::function<void()> f_;
  std::optional<LoopingCall> loop_;
  std::optional<Deferred<void>> loopFinished_;
};

}  // namespace reactor
