// Console: the commands on the servers (connections, trace, stats, reload, shutdown) and the
// console's own lifetime (trace hooks in, trace hooks out).
#include <algorithm>
#include <exception>
#include <iterator>
#include <string>

#include "protocols/console/console.h"
#include "protocols/console/console_parse.h"
#include "protocols/console/console_trace.h"
#include "protocols/servers/modbus_server_factory.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "protocols/servers/start_server.h"
#include "protocols/serving/connection_log.h"
#include "protocols/serving/modbus_tcp_protocol.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

namespace modbus {

Console::Console(ConsoleTarget target) : target_(std::move(target)), self_(std::make_shared<Console*>(this)) {}

Console::~Console() {
  *self_ = nullptr;  // a hook a factory still holds now sends nowhere
  tracers_.clear();
  stopTracing();
}

std::vector<ModbusServer*> Console::servers() const {
  return target_.servers ? target_.servers() : std::vector<ModbusServer*>{};
}

void Console::sessionClosed(ConsoleSession& session) {
  auto it = std::find(tracers_.begin(), tracers_.end(), &session);
  if (it == tracers_.end()) return;
  tracers_.erase(it);
  if (tracers_.empty()) stopTracing();
}

void Console::traceLine(std::string_view line) {
  // A session cut off for not reading leaves the list (sessionClosed) from inside sendLine: iterate
  // over a copy.
  std::vector<ConsoleSession*> now = tracers_;
  for (ConsoleSession* s : now) {
    if (std::find(tracers_.begin(), tracers_.end(), s) != tracers_.end()) s->sendLine(line);
  }
}

void Console::startTracing() {
  std::weak_ptr<Console*> self = self_;
  auto sink = [self](std::string_view line) {
    if (auto console = self.lock(); console && *console) (*console)->traceLine(line);
  };
  for (ModbusServer* server : servers()) {
    if (std::shared_ptr<ModbusServerFactory> factory = console_parse::factoryOf(*server)) {
      // A stream server: the hook is its factory's, which its connections read per request.
      bool already = std::any_of(hooks_.begin(), hooks_.end(),
                                 [&](const Installed& i) { return i.factory.lock() == factory; });
      if (already) continue;
      auto hook = std::make_shared<ConsoleTraceHook>(console_parse::describeServer(*server),
                                                     factory->options().responseHook, sink);
      factory->setResponseHook(hook);
      hooks_.push_back(Installed{factory, nullptr, hook});
    } else if (console_parse::hasServerResponseHook(*server)) {
      // UDP and serial: the hook is the server's, handed to its ports and its line.
      bool already =
          std::any_of(hooks_.begin(), hooks_.end(), [&](const Installed& i) { return i.server == server; });
      if (already) continue;
      auto hook = std::make_shared<ConsoleTraceHook>(console_parse::describeServer(*server),
                                                     console_parse::serverResponseHook(*server), sink);
      console_parse::setServerResponseHook(*server, hook);
      hooks_.push_back(Installed{{}, server, hook});
    }
  }
}

void Console::stopTracing() {
  // A UDP or serial server is touched only while the target still lists it (it may have gone).
  std::vector<ModbusServer*> present = hooks_.empty() ? std::vector<ModbusServer*>{} : servers();
  for (Installed& i : hooks_) {
    // Put the previous hook back, unless someone replaced ours meanwhile (theirs stays).
    if (i.server != nullptr) {
      if (std::find(present.begin(), present.end(), i.server) != present.end() &&
          console_parse::serverResponseHook(*i.server) == i.hook) {
        console_parse::setServerResponseHook(*i.server, i.hook->next());
      }
    } else if (auto factory = i.factory.lock(); factory && factory->options().responseHook == i.hook) {
      factory->setResponseHook(i.hook->next());
    }
    // Kept alive, not destroyed here: tracing may stop from inside the hook's own call (a tracing
    // session cut off for not reading), and the server still runs that call.
    retired_.push_back(std::move(i.hook));
  }
  hooks_.clear();
}

void Console::trace(const Args& args, ConsoleSession& session) {
  if (args.size() != 1) throw ConsoleCommandError("wrong number of arguments");
  retired_.clear();  // a command runs outside any hook call: the old hooks can go
  bool on = console_parse::onOff(args[0]);
  auto it = std::find(tracers_.begin(), tracers_.end(), &session);
  if (on) {
    if (it == tracers_.end()) tracers_.push_back(&session);
    startTracing();
    std::size_t traced = hooks_.size();
    std::size_t untraced = servers().size() - traced;
    std::string answer = "tracing ";  // appends: g++ 12 -O3 flags "literal" + string (-Wrestrict)
    answer += std::to_string(traced);
    answer += " server(s)";
    if (untraced != 0) {
      answer += "; ";
      answer += std::to_string(untraced);
      answer += " server(s) of another kind are not traced";
    }
    session.sendLine(answer);
  } else {
    if (it != tracers_.end()) tracers_.erase(it);
    if (tracers_.empty()) stopTracing();
    session.sendLine("trace off");
  }
}

void Console::connections(const Args& args, ConsoleSession& session) {
  if (args.empty()) {
    std::size_t n = 0;
    for (ModbusServer* server : servers()) {
      auto factory = console_parse::factoryOf(*server);
      if (!factory) continue;
      std::string label = console_parse::describeServer(*server);
      for (const auto& c : factory->openConnections()) {
        session.sendLine(std::to_string(c.id) + " " + c.protocol->transport().getPeer().toString() + " " + label +
                         " requests=" + std::to_string(c.protocol->requestCount()));
        ++n;
      }
    }
    session.sendLine(std::to_string(n) + " connection(s)");
    return;
  }
  if (args.size() != 2 || args[0] != "close") throw ConsoleCommandError("expected 'connections' or 'connections close ID'");
  unsigned long long id = 0;
  try {
    std::size_t used = 0;
    id = std::stoull(std::string(args[1]), &used);
    if (used != args[1].size()) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    throw ConsoleCommandError("'" + std::string(args[1].substr(0, 32)) + "' is not a connection id");
  }
  for (ModbusServer* server : servers()) {
    auto factory = console_parse::factoryOf(*server);
    if (!factory) continue;
    for (const auto& c : factory->openConnections()) {
      if (c.id != id) continue;
      std::string peer = c.protocol->transport().getPeer().toString();
      reactor::log::info("console: closing connection ", id, " from ", peer);
      c.protocol->transport().loseConnection();
      session.sendLine("closing connection " + std::to_string(id) + " " + peer);
      return;
    }
  }
  throw ConsoleCommandError("no open connection " + std::to_string(id) + " (see connections)");
}

void Console::stats(const Args& args, ConsoleSession& session) {
  if (!args.empty()) throw ConsoleCommandError("stats takes no arguments");
  std::vector<ModbusServer*> all = servers();
  session.sendLine(std::to_string(all.size()) + " server(s), " + std::to_string(tracers_.size()) +
                   " console session(s) tracing");
  for (ModbusServer* server : all) {
    std::string line = console_parse::describeServer(*server) + ":";
    if (auto factory = console_parse::factoryOf(*server)) {
      line += " open=" + std::to_string(factory->connectionCount());
      std::size_t requests = 0;
      for (const auto& c : factory->openConnections()) requests += c.protocol->requestCount();
      line += " requests_on_open=" + std::to_string(requests);
      // One word per ConnectionEvent, in its order (connectionEventName's are phrases for logs).
      static constexpr const char* kKeys[] = {"connected",    "disconnected",  "refused_per_peer",
                                              "refused_full", "evicted",       "frame_deadline",
                                              "idle_timeout", "output_paused", "framing_error"};
      static_assert(std::size(kKeys) == kConnectionEventCount);
      for (std::size_t e = 0; e < kConnectionEventCount; ++e) {
        line += std::string(" ") + kKeys[e] + "=" +
                std::to_string(factory->connectionLog().total(static_cast<ConnectionEvent>(e)));
      }
    } else if (auto* udp = dynamic_cast<ModbusUdpServer*>(server)) {
      line += " requests=" + std::to_string(udp->requestCount()) + " malformed=" + std::to_string(udp->malformedCount());
    }
    session.sendLine(line);
  }
}

void Console::reload(const Args& args, ConsoleSession& session) {
  if (!args.empty()) throw ConsoleCommandError("reload takes no arguments");
  std::size_t tls = 0;
  std::size_t failed = 0;
  for (ModbusServer* server : servers()) {
    auto* s = dynamic_cast<ModbusTlsServer*>(server);
    if (s == nullptr) continue;
    ++tls;
    try {
      s->reloadCertificates();  // logs one line per endpoint
      session.sendLine(console_parse::describeServer(*server) + ": reloaded");
    } catch (const std::exception& e) {
      ++failed;
      session.sendLine(console_parse::describeServer(*server) + ": kept its previous files: " + e.what());
    }
  }
  if (tls == 0) session.sendLine("no TLS server: nothing to reload");
  if (failed != 0) throw std::runtime_error(std::to_string(failed) + " TLS server(s) failed to reload");
}

void Console::shutdown(const Args& args, ConsoleSession& session) {
  if (!args.empty()) throw ConsoleCommandError("shutdown takes no arguments");
  if (shuttingDown_) {
    session.sendLine("already shutting down");
    return;
  }
  shuttingDown_ = true;
  reactor::log::info("console: shutdown requested");
  session.sendLine("shutting down");
  auto stop = [target = target_] {
    if (target.shutdown) {
      target.shutdown();
      return;
    }
    if (target.servers) {
      for (ModbusServer* s : target.servers()) s->shutdown();
    }
    if (target.reactor != nullptr) stopReactorIfRunning(*target.reactor);
  };
  // On the next turn: this command's "ok" is written first, and no server is destroyed under the
  // command that is running.
  if (target_.reactor != nullptr) {
    target_.reactor->callLater(0, stop);
  } else {
    stop();
  }
}

}  // namespace modbus
