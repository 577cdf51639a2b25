// Tests for protocols/console/console_service.h: the console as a Service in a MultiService,
// listening from startService to stopService, its settings checked when it starts. The sample that
// runs it next to Modbus: tests/integration/service_command_test.cc (14_application).
#include "protocols/console/console_service.h"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/console/console_token.h"
#include "reactor/endpoints.h"
#include "reactor/reactor.h"
#include "reactor/service.h"
#include "tests/support/temp_dir.h"

namespace {

struct Fixture {
  testsupport::TempDir dir;
  reactor::Reactor reactor;
  std::shared_ptr<modbus::ServerContext> context =
      modbus::ServerContext::single(std::make_shared<modbus::DeviceContext>(
          modbus::DeviceTables{.holdingRegisters = modbus::SequentialDataBlock<std::uint16_t>::create(0, 10)}));

  std::string tokenFile(mode_t mode) {
    const std::string path = dir.file("token");
    std::ofstream(path) << "service-token\n";
    ::chmod(path.c_str(), mode);
    return path;
  }
  modbus::ConsoleTarget target() {
    modbus::ConsoleTarget t;
    t.reactor = &reactor;
    t.context = context.get();
    return t;
  }
};

}  // namespace

TEST_CASE("console service: listens from startService to stopService as a child of a MultiService") {
  Fixture f;
  modbus::ConsoleSettings settings;
  settings.endpoint = "tcp:0:interface=127.0.0.1";
  settings.tokenFile = f.tokenFile(0600);
  auto application = std::make_shared<reactor::MultiService>("app");
  auto console = std::make_shared<modbus::ConsoleService>(settings, f.target());
  CHECK(console->name() == "console");
  console->setServiceParent(*application);
  CHECK_FALSE(console->address().has_value());

  application->startService();
  CHECK(console->running());
  REQUIRE(console->address().has_value());
  CHECK(console->address()->host == "127.0.0.1");
  CHECK(console->address()->port != 0);
  REQUIRE(console->server() != nullptr);

  bool stopped = false;
  application->stopService().addCallback([&] { stopped = true; });
  CHECK(stopped);  // the console's stop is immediate: its Deferred has fired
  CHECK_FALSE(console->running());
  CHECK_FALSE(console->address().has_value());
}

TEST_CASE("console service: a token file others can read or a public endpoint is refused at start") {
  Fixture f;
  modbus::ConsoleSettings open;
  open.endpoint = "tcp:0:interface=127.0.0.1";
  open.tokenFile = f.tokenFile(0644);
  auto readable = std::make_shared<modbus::ConsoleService>(open, f.target());
  CHECK_THROWS_AS(readable->startService(), modbus::ConsoleError);
  CHECK_FALSE(readable->running());

  modbus::ConsoleSettings everywhere;
  everywhere.endpoint = "tcp:0";
  everywhere.tokenFile = f.tokenFile(0600);
  auto exposed = std::make_shared<modbus::ConsoleService>(everywhere, f.target());
  CHECK_THROWS_AS(exposed->startService(), reactor::EndpointError);
  CHECK_FALSE(exposed->running());
}

TEST_CASE("console service: a target without a reactor is refused") {
  CHECK_THROWS_AS(modbus::ConsoleService(modbus::ConsoleSettings{}, modbus::ConsoleTarget{}), std::invalid_argument);
}
