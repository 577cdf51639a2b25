// Service, MultiService, Application, TCPServer, UDPServer, StreamServerEndpointService,
// TimerService and startApplication, after Twisted's test_service / test_application /
// test_internet cases (written anew): MemoryReactor and Clock where no socket is needed.
#include "reactor/service.h"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/datagram_protocol.h"
#include "reactor/endpoints.h"
#include "reactor/reactor.h"
#include "reactor/testing.h"
#include "tests/support/reactor_harness.h"

using reactor::Application;
using reactor::Deferred;
using reactor::ManualClock;
using reactor::testing::MemoryReactor;
using reactor::MultiService;
using reactor::Service;
using reactor::TCPServer;
using reactor::TimerService;
using reactor::UDPServer;
using namespace reactor::testing;

namespace {

/// Records its calls in a shared log; stopService returns `stopResult` when set.
class RecordingService : public Service {
 public:
  RecordingService(std::string name, std::vector<std::string>& log) : Service(std::move(name)), log_(log) {}
  void privilegedStartService() override {
    log_.push_back("privileged " + name());
    Service::privilegedStartService();
  }
  void startService() override {
    log_.push_back("start " + name());
    Service::startService();
  }
  Deferred<void> stopService() override {
    log_.push_back("stop " + name());
    Service::stopService();
    if (stopResult) return *stopResult;
    return reactor::succeed();
  }
  std::optional<Deferred<void>> stopResult;

 private:
  std::vector<std::string>& log_;
};

}  // namespace

TEST_CASE("Service: name, parent and running, as Twisted's testName/testParent/testRunning") {
  auto s = std::make_shared<Service>();
  s->setName("hello");
  CHECK(s->name() == "hello");
  CHECK_FALSE(s->running());
  s->startService();
  CHECK(s->running());
  CHECK(s->stopService().called());
  CHECK_FALSE(s->running());
  auto parent = std::make_shared<MultiService>();
  s->setServiceParent(*parent);
  CHECK(s->parent() == parent.get());
  CHECK(parent->getServiceNamed("hello") == s);
  CHECK_THROWS_AS(s->setName("other"), std::logic_error);  // named while parented: refused
}

TEST_CASE("Service: setServiceParent moves a service from one parent to another") {
  auto s = std::make_shared<Service>("child");
  auto first = std::make_shared<MultiService>();
  auto second = std::make_shared<MultiService>();
  s->setServiceParent(*first);
  s->setServiceParent(*second);
  CHECK(first->services().empty());
  CHECK(second->services().size() == 1);
  CHECK(s->parent() == second.get());
}

TEST_CASE("Service: disownServiceParent removes it and stops it when the parent runs") {
  std::vector<std::string> log;
  auto parent = std::make_shared<MultiService>();
  auto s = std::make_shared<RecordingService>("a", log);
  s->setServiceParent(*parent);
  parent->startService();
  CHECK(s->running());
  CHECK(s->disownServiceParent().called());
  CHECK(s->parent() == nullptr);
  CHECK_FALSE(s->running());
  CHECK(parent->services().empty());
  CHECK_THROWS_AS(s->disownServiceParent(), std::logic_error);
}

TEST_CASE("MultiService: two services of one name are refused, and getServiceNamed finds by name") {
  auto parent = std::make_shared<MultiService>();
  parent->addService(std::make_shared<Service>("x"));
  CHECK_THROWS_AS(parent->addService(std::make_shared<Service>("x")), std::logic_error);
  parent->addService(std::make_shared<Service>());  // unnamed ones do not clash
  parent->addService(std::make_shared<Service>());
  CHECK(parent->services().size() == 3);
  CHECK(parent->getServiceNamed("x")->name() == "x");
  CHECK_THROWS_AS(parent->getServiceNamed("nope"), std::out_of_range);
  Service stranger;
  CHECK_THROWS_AS(parent->removeService(stranger), std::invalid_argument);
}

TEST_CASE("MultiService: starts children in order (privileged first) and stops them in reverse") {
  std::vector<std::string> log;
  auto parent = std::make_shared<MultiService>("top");
  for (const char* n : {"a", "b", "c"}) std::make_shared<RecordingService>(n, log)->setServiceParent(*parent);
  parent->privilegedStartService();
  parent->startService();
  auto stopped = parent->stopService();
  CHECK(stopped.called());
  CHECK(log == std::vector<std::string>{"privileged a", "privileged b", "privileged c", "start a", "start b",
                                        "start c", "stop c", "stop b", "stop a"});
  int iterated = 0;
  for (auto& child : *parent) iterated += child->running() ? 0 : 1;
  CHECK(iterated == 3);
}

TEST_CASE("MultiService: stopService waits for every child's Deferred") {
  std::vector<std::string> log;
  auto parent = std::make_shared<MultiService>();
  auto slow1 = std::make_shared<RecordingService>("slow1", log);
  auto slow2 = std::make_shared<RecordingService>("slow2", log);
  Deferred<void> d1, d2;
  slow1->stopResult = d1;
  slow2->stopResult = d2;
  slow1->setServiceParent(*parent);
  slow2->setServiceParent(*parent);
  parent->startService();
  auto stopped = parent->stopService();
  CHECK(log.back() == "stop slow1");  // both were asked at once, last added first
  CHECK_FALSE(stopped.called());
  d2.callback();
  CHECK_FALSE(stopped.called());
  d1.callback();
  CHECK(stopped.called());
}

TEST_CASE("MultiService: a child whose stop fails is logged and the others still stop") {
  LogCapture logs;
  std::vector<std::string> log;
  auto parent = std::make_shared<MultiService>("app");
  auto bad = std::make_shared<RecordingService>("bad", log);
  bad->stopResult = reactor::fail(reactor::Failure::fromException(std::runtime_error("cannot flush")));
  bad->setServiceParent(*parent);
  std::make_shared<RecordingService>("good", log)->setServiceParent(*parent);
  parent->startService();
  bool ok = false;
  parent->stopService().addCallback([&] { ok = true; });
  CHECK(ok);
  CHECK(log.back() == "stop bad");
  CHECK(logs.count("cannot flush") == 1);
}

TEST_CASE("MultiService: adding to a running parent starts the child and removing stops it") {
  std::vector<std::string> log;
  auto parent = std::make_shared<MultiService>();
  parent->startService();
  auto late = std::make_shared<RecordingService>("late", log);
  parent->addService(late);
  CHECK(log == std::vector<std::string>{"privileged late", "start late"});
  CHECK(parent->removeService(*late).called());
  CHECK(log.back() == "stop late");
  CHECK_FALSE(late->running());
  // Removing from a stopped parent does not stop anything.
  auto parent2 = std::make_shared<MultiService>();
  auto idle = std::make_shared<RecordingService>("idle", log);
  parent2->addService(idle);
  CHECK(parent2->removeService(*idle).called());
  CHECK(log.back() == "stop late");
}

TEST_CASE("Application is a named MultiService") {
  auto app = std::make_shared<Application>("modbus");
  CHECK(app->name() == "modbus");
  std::make_shared<Service>("s")->setServiceParent(*app);
  CHECK(app->getServiceNamed("s")->parent() == app.get());
}

TEST_CASE("TCPServer listens in privilegedStartService and stops listening in stopService") {
  MemoryReactor memory;
  auto factory = std::make_shared<reactor::ServerFactory>();
  auto server = std::make_shared<TCPServer>(memory, 502, factory, 10, "127.0.0.1");
  server->privilegedStartService();
  REQUIRE(memory.tcpServers.size() == 1);
  CHECK(memory.tcpServers[0].port == 502);
  CHECK(memory.tcpServers[0].backlog == 10);
  CHECK(memory.tcpServers[0].interface == "127.0.0.1");
  CHECK(memory.tcpServers[0].factory == factory);
  server->startService();  // already listening: not a second time
  CHECK(memory.tcpServers.size() == 1);
  CHECK(server->port() != nullptr);
  CHECK(server->stopService().called());
  CHECK(memory.tcpServers[0].listeningPort->stopListeningCalls() == 1);
  CHECK(server->port() == nullptr);
}

TEST_CASE("TCPServer started without privilegedStartService listens in startService") {
  MemoryReactor memory;
  auto server = std::make_shared<TCPServer>(memory, 0, std::make_shared<reactor::ServerFactory>());
  server->startService();
  CHECK(memory.tcpServers.size() == 1);
  CHECK(server->port()->getHost().port != 0);
}

TEST_CASE("UDPServer listens and stops listening like TCPServer") {
  MemoryReactor memory;
  auto protocol = std::make_shared<reactor::DatagramProtocol>();
  auto server = std::make_shared<UDPServer>(memory, 5020, protocol, "127.0.0.1", 512);
  server->startService();
  REQUIRE(memory.udpServers.size() == 1);
  CHECK(memory.udpServers[0].port == 5020);
  CHECK(memory.udpServers[0].maxPacketSize == 512);
  server->stopService();
  CHECK(memory.udpServers[0].listeningPort->stopListeningCalls() == 1);
}

TEST_CASE("TimerService calls at once, then every step, and stopService stops the loop") {
  ManualClock clock;
  int calls = 0;
  auto timer = std::make_shared<TimerService>(clock, 2.0, [&] { ++calls; });
  timer->startService();
  CHECK(calls == 1);
  clock.advance(2.0);
  clock.advance(2.0);
  CHECK(calls == 3);
  auto stopped = timer->stopService();
  CHECK(stopped.called());
  clock.advance(10.0);
  CHECK(calls == 3);
  CHECK(clock.getDelayedCalls().empty());
}

TEST_CASE("TimerService whose call throws logs it and stops calling, still stoppable") {
  LogCapture logs;
  ManualClock clock;
  int calls = 0;
  auto timer = std::make_shared<TimerService>(clock, 1.0, [&] {
    if (++calls == 2) throw std::runtime_error("sensor unplugged");
  });
  timer->setName("poll");
  timer->startService();
  clock.advance(1.0);
  clock.advance(1.0);
  CHECK(calls == 2);
  CHECK(logs.count("sensor unplugged") == 1);
  CHECK(timer->running());
  CHECK(timer->stopService().called());
  CHECK_THROWS_AS(TimerService(clock, -1.0, [] {}), std::invalid_argument);
}

TEST_CASE("startApplication: services start when the reactor runs, and stop() waits for their stop") {
  LoopCleanCheck clean;
  reactor::Reactor r;
  std::vector<std::string> log;
  auto app = std::make_shared<Application>("app");
  auto slow = std::make_shared<RecordingService>("slow", log);
  Deferred<void> slowStop;
  slow->stopResult = slowStop;
  slow->setServiceParent(*app);
  auto factory = std::make_shared<TestServerFactory<>>();
  auto tcp = std::make_shared<TCPServer>(r, 0, factory, 50, "127.0.0.1");
  tcp->setServiceParent(*app);
  reactor::startApplication(app, r);
  CHECK(log == std::vector<std::string>{"privileged slow"});
  CHECK(tcp->port() != nullptr);  // bound before run(): privileged
  r.addSystemEventTrigger(reactor::Phase::During, reactor::SystemEvent::Shutdown, [&] { log.push_back("during"); });
  r.callWhenRunning([&] {
    CHECK(app->running());
    r.stop();
    r.callLater(0.0, [&] { r.callLater(0.0, [&] {
      log.push_back("slow stopped");
      slowStop.callback();
    }); });
  });
  CHECK(runReactor(r));
  CHECK(log == std::vector<std::string>{"privileged slow", "start slow", "stop slow", "slow stopped", "during"});
  CHECK_FALSE(app->running());
  CHECK(tcp->port() == nullptr);
}

TEST_CASE("StreamServerEndpointService listens on an endpoint string and refuses a bad one") {
  LoopCleanCheck clean;
  reactor::Reactor r;
  auto factory = std::make_shared<TestServerFactory<>>();
  auto service = std::make_shared<reactor::StreamServerEndpointService>(r, "tcp:0:interface=127.0.0.1", factory);
  service->privilegedStartService();
  service->startService();
  REQUIRE(service->port() != nullptr);
  CHECK(service->port()->getHost().host == "127.0.0.1");
  auto client = std::make_shared<TestClientFactory<>>();
  client->setup = [&](AccumulatingProtocol& p) {
    p.onMade = [&](AccumulatingProtocol&) { service->stopService().addCallback([&] { r.stop(); }); };
  };
  connectTo(r, *service->port(), client);
  CHECK(runReactor(r));
  CHECK(factory->buildCalls == 1);
  CHECK(service->port() == nullptr);
  CHECK_THROWS_AS(reactor::StreamServerEndpointService(r, "nonsense:1", factory), reactor::EndpointError);
}
