// Test helper: a ModbusTcpServer on a reactor of its own, run by a background thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "datastore/server_context.h"
#include "protocols/servers/server_options.h"
#include "tests/support/subprocess.h"

namespace modbus {
class ModbusTcpServer;
}
namespace reactor {
class Reactor;
}

namespace testsupport {

/// Runs a modbus::ModbusTcpServer serving `context` on its own reactor in a background thread, the
/// way a deployment runs it: the constructor returns once the server listens (on
/// "tcp:0:interface=127.0.0.1" by default, a free port); the destructor shuts the server down
/// through reactor.callFromThread, stops the reactor and joins the thread.
///
/// The datastore belongs to the reactor thread: read or change it from a test with call().
class ServerThread {
 public:
  /// Starts the thread and waits (at most 10 s) until the server listens. Throws what listen()
  /// threw (reactor::CannotListenError, reactor::EndpointError), or std::runtime_error.
  explicit ServerThread(std::shared_ptr<modbus::ServerContext> context, modbus::ServerOptions options = {},
                        std::string endpoint = "tcp:0:interface=127.0.0.1");
  /// Same as stop(), then joins the thread.
  ~ServerThread();
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  /// The port the server listens on (on 127.0.0.1 unless the endpoint said otherwise).
  std::uint16_t port() const { return port_; }

  /// Runs `f` on the reactor thread and returns its result (rethrowing its exception). Throws
  /// std::runtime_error when the reactor has not run it within `timeoutSeconds`, or is stopped.
  template <class F>
  auto call(F f, double timeoutSeconds = 10) -> std::invoke_result_t<F> {
    using R = std::invoke_result_t<F>;
    auto done = std::make_shared<std::promise<R>>();
    std::future<R> result = done->get_future();
    post([done, f = std::move(f)]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          f();
          done->set_value();
        } else {
          done->set_value(f());
        }
      } catch (...) {
        done->set_exception(std::current_exception());
      }
    });
    waitFor(result, timeoutSeconds);
    return result.get();
  }

  /// Open client connections, as the server's factory counts them.
  std::size_t connectionCount();

  /// Shuts the server down (connections closed gracefully) and stops the reactor. Idempotent;
  /// the thread ends soon after (the destructor joins it).
  void stop();

  /// The server itself: touch it only from inside call().
  modbus::ModbusTcpServer& server() { return *server_; }

 private:
  void run(std::shared_ptr<modbus::ServerContext> context, modbus::ServerOptions options, std::string endpoint);
  /// Queues `f` on the reactor thread (std::runtime_error once stopped).
  void post(std::function<void()> f);
  /// Waits for `future` or throws std::runtime_error after `timeoutSeconds`.
  template <class R>
  static void waitFor(std::future<R>& future, double timeoutSeconds) {
    auto limit = std::chrono::duration<double>(timeoutSeconds);
    if (future.wait_for(limit) != std::future_status::ready) {
      throw std::runtime_error("ServerThread: the reactor did not answer within the time limit");
    }
  }

  std::promise<std::uint16_t> ready_;
  std::uint16_t port_ = 0;
  reactor::Reactor* reactor_ = nullptr;        // lives on the thread's stack while it runs
  modbus::ModbusTcpServer* server_ = nullptr;  // likewise
  bool stopped_ = false;
  std::thread thread_;
};

/// A context (ServerContext::multiple) where unit `unitId` has all four tables, each a sequential
/// block of `size` zeros from address 0. Other unit ids have no device.
std::shared_ptr<modbus::ServerContext> makeUnitContext(std::uint8_t unitId = 1, std::size_t size = 1000);

/// The real `uvmodbus-server` binary (buildDir()/uvmodbus-server) run as a subprocess with a
/// temporary configuration: unit 1 only, each of its four tables `size` addresses from 0, holding
/// registers starting with `holdingValues`; one server on "tcp:0:interface=127.0.0.1". The
/// constructor returns once the binary has logged "listening on tcp 127.0.0.1:PORT" (at most 10 s).
class ServerProcess {
 public:
  /// Throws std::runtime_error (with the binary's output) when it does not start listening.
  explicit ServerProcess(std::vector<std::uint16_t> holdingValues = {}, std::size_t size = 1000);
  /// Stops the binary if it still runs (Subprocess's destructor) and deletes the configuration.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  Subprocess& process() { return *process_; }
  /// SIGTERM, then the exit code (nullopt when it has not exited within 5 s).
  std::optional<int> terminate();

 private:
  std::string configPath_;
  std::unique_ptr<Subprocess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace testsupport
