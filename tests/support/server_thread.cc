// Test helper: runs a ModbusTcpServer on its own reactor in a background thread.
#include "tests/support/server_thread.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "reactor/reactor.h"

namespace testsupport {

ServerThread::ServerThread(std::shared_ptr<modbus::ServerContext> context, modbus::ServerOptions options,
                           std::string endpoint) {
  std::future<std::uint16_t> ready = ready_.get_future();
  thread_ = std::thread(&ServerThread::run, this, std::move(context), options, std::move(endpoint));
  if (ready.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    // The thread holds `this`: it can be neither joined nor left behind safely.
    std::fprintf(stderr, "ServerThread: the server did not start listening within 10 s\n");
    std::abort();
  }
  try {
    port_ = ready.get();
  } catch (...) {
    thread_.join();  // listen() failed: the thread has already returned
    throw;
  }
}

ServerThread::~ServerThread() {
  stop();
  if (thread_.joinable()) thread_.join();
}

void ServerThread::run(std::shared_ptr<modbus::ServerContext> context, modbus::ServerOptions options,
                       std::string endpoint) {
  bool announced = false;
  try {
    reactor::Reactor reactor;
    modbus::ModbusTcpServer server(reactor, std::move(context), options);
    std::uint16_t port = server.listen(endpoint).port;
    reactor_ = &reactor;
    server_ = &server;
    reactor.callWhenRunning([this, port, &announced] {
      announced = true;
      ready_.set_value(port);
    });
    reactor.run(/*installSignalHandlers=*/false);
  } catch (...) {
    if (!announced) ready_.set_exception(std::current_exception());
  }
}

void ServerThread::post(std::function<void()> f) {
  if (stopped_ || reactor_ == nullptr) throw std::runtime_error("ServerThread: the server is stopped");
  reactor_->callFromThread(std::move(f));
}

std::size_t ServerThread::connectionCount() {
  return call([this] { return server_->factory().connectionCount(); });
}

void ServerThread::stop() {
  if (stopped_ || reactor_ == nullptr) return;
  stopped_ = true;
  reactor::Reactor* r = reactor_;
  modbus::ModbusTcpServer* s = server_;
  r->callFromThread([r, s] {
    s->shutdown();
    try {
      r->stop();
    } catch (const reactor::ReactorNotRunning&) {
      // already stopping
    }
  });
}

std::shared_ptr<modbus::ServerContext> makeUnitContext(std::uint8_t unitId, std::size_t size) {
  auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, size),
      .discreteInputs = modbus::SequentialBitBlock::create(0, size),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, size),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, size),
  });
  return modbus::ServerContext::multiple({{unitId, device}});
}

ServerProcess::ServerProcess(std::vector<std::uint16_t> holdingValues, std::size_t size) {
  char path[] = "/tmp/uvmodbus-integ-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("ServerProcess: cannot create a configuration file");
  ::close(fd);
  configPath_ = path;
  std::string values;
  for (std::uint16_t v : holdingValues) values += (values.empty() ? "" : ", ") + std::to_string(v);
  const std::string count = std::to_string(size);
  std::ofstream(configPath_) << "{\"servers\": [{\"endpoint\": \"tcp:0:interface=127.0.0.1\"}],\n"
                             << " \"units\": {\"1\": {\n"
                             << "   \"coils\": {\"start\": 0, \"count\": " << count << "},\n"
                             << "   \"discrete_inputs\": {\"start\": 0, \"count\": " << count << "},\n"
                             << "   \"holding_registers\": {\"start\": 0, \"count\": " << count << ", \"values\": ["
                             << values << "]},\n"
                             << "   \"input_registers\": {\"start\": 0, \"count\": " << count << "}}}}\n";
  process_ = std::make_unique<Subprocess>(
      std::vector<std::string>{buildDir() + "/uvmodbus-server", "--config", configPath_, "--log-level", "info"});
  auto line = process_->waitForLine(R"(listening on tcp 127\.0\.0\.1:(\d+))", 10);
  if (!line) {
    std::string output = process_->output();
    process_.reset();
    ::unlink(configPath_.c_str());
    throw std::runtime_error("uvmodbus-server did not start listening; its output:\n" + output);
  }
  port_ = static_cast<std::uint16_t>(std::stoi((*line)[1]));
}

ServerProcess::~ServerProcess() {
  process_.reset();
  ::unlink(configPath_.c_str());
}

std::optional<int> ServerProcess::terminate() {
  process_->signal(SIGTERM);
  return process_->wait(5);
}

}  // namespace testsupport
