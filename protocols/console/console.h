// The debug console's commands (pymodbus 1.x's console=True, made safe): what a client may ask of a
// running server once authenticated — units, read, write (raw or typed), connections, counters,
// diagnostics, listen-only, trace, stats, reload, shutdown. The line protocol and authentication
// are console_protocol.h's; listening is console_server.h's. docs/console.md is the user's page.
// Rules:
// - Every command's answer ends with one line "ok" or "error: WHY"; trace lines (asynchronous)
//   start with "trace ". An unknown command is "error: unknown command 'X' (type help)".
// - Reactor thread only, nothing blocks: every command reads or changes state in memory, or
//   schedules (shutdown runs on the next turn, after "ok" was written).
// - Addresses are wire addresses, as clients use them (the device's addressOffset applied).
// - Typed values use the simulator's encode/decode (datastore/simulator/cell_types.h), big-endian
//   words and bytes as pymodbus: `read 1 hr 10 float32`, `write 1 hr 10 float32 3.5`.
// - trace is a ResponseHook (protocols/serving/response_hook.h) put in front of any hook a server
//   already has (a stream server's factory's; a UDP or serial server's own), and taken out when the
//   last session stops tracing. Nobody tracing, no hook of ours is on any request path.
// Tests: tests/protocols/console/console_test.cc, tests/integration/console_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reactor {
class Reactor;
}

namespace modbus {

class ServerContext;
class ModbusServer;
class ModbusServerFactory;
class ConsoleTraceHook;

/// What a console looks at and acts on. The context and the servers must outlive the console.
struct ConsoleTarget {
  /// The reactor the servers run on: `shutdown` stops it. May be null (unit tests).
  reactor::Reactor* reactor = nullptr;
  /// The datastore of units, read and written by `read`, `write`, `counters`, `listen-only`.
  ServerContext* context = nullptr;
  /// The running servers (connections, stats, reload, trace); unset = none.
  std::function<std::vector<ModbusServer*>()> servers{};
  /// Replaces what `shutdown` does (default: shut every server down, then stop the reactor).
  std::function<void()> shutdown{};
};

/// One authenticated client, as the commands see it.
class ConsoleSession {
 public:
  virtual ~ConsoleSession() = default;
  /// Sends one line of output (the session bounds what it holds unsent).
  virtual void sendLine(std::string_view line) = 0;
  /// Ends this session once what was sent has gone (`quit`).
  virtual void close() = 0;
};

class Console {
 public:
  explicit Console(ConsoleTarget target);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  /// Runs one command line (already authenticated) and answers on `session`: its output, then
  /// "ok" or "error: WHY". Never throws; an empty line answers nothing.
  void execute(std::string_view line, ConsoleSession& session);
  /// `session` is going away: it stops tracing.
  void sessionClosed(ConsoleSession& session);
  /// Sessions with trace on.
  std::size_t tracingSessions() const { return tracers_.size(); }

  /// Sends one trace line to every tracing session (the trace hook calls it).
  void traceLine(std::string_view line);

 private:
  using Args = std::vector<std::string_view>;
  struct Command {
    std::string_view name;
    std::string_view usage;
    std::string_view summary;
    void (Console::*run)(const Args& args, ConsoleSession& session);
  };
  static const std::vector<Command>& commands();

  // console_commands.cc: the datastore.
  void help(const Args& args, ConsoleSession& session);
  void units(const Args& args, ConsoleSession& session);
  void read(const Args& args, ConsoleSession& session);
  void write(const Args& args, ConsoleSession& session);
  void counters(const Args& args, ConsoleSession& session);
  void diagnostics(const Args& args, ConsoleSession& session);
  void listenOnly(const Args& args, ConsoleSession& session);
  void quit(const Args& args, ConsoleSession& session);
  // console_admin.cc: the servers.
  void connections(const Args& args, ConsoleSession& session);
  void trace(const Args& args, ConsoleSession& session);
  void stats(const Args& args, ConsoleSession& session);
  void reload(const Args& args, ConsoleSession& session);
  void shutdown(const Args& args, ConsoleSession& session);

  std::vector<ModbusServer*> servers() const;
  void startTracing();
  void stopTracing();

  ConsoleTarget target_;
  std::vector<ConsoleSession*> tracers_;
  /// The hooks put in front of each server's own while anyone traces.
  struct Installed {
    std::weak_ptr<ModbusServerFactory> factory;  ///< a stream server's
    ModbusServer* server = nullptr;              ///< a UDP or serial server (no factory)
    std::shared_ptr<ConsoleTraceHook> hook;
  };
  std::vector<Installed> hooks_;
  std::vector<std::shared_ptr<ConsoleTraceHook>> retired_;
  /// Shared with the hooks, which may outlive this console in a factory: they test it before use.
  std::shared_ptr<Console*> self_;
  bool shuttingDown_ = false;
};

/// A command's failure: Console::execute answers "error: " + what().
class ConsoleCommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace modbus
