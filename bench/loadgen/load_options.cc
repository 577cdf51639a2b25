// LoadOptions / LoadResult helpers: mode names and the pass/fail rule of a run.
#include "bench/loadgen/load_options.h"

namespace bench {

const char* loadModeName(LoadMode mode) {
  switch (mode) {
    case LoadMode::ClosedLoop: return "closed_loop";
    case LoadMode::Idle: return "idle";
    case LoadMode::FirstReply: return "first_reply";
    case LoadMode::Reconnect: return "reconnect";
  }
  return "?";
}

const char* loadTransportName(LoadTransport transport) {
  switch (transport) {
    case LoadTransport::Tcp: return "tcp";
    case LoadTransport::Udp: return "udp";
    case LoadTransport::Tls: return "tls";
  }
  return "?";
}

bool LoadResult::ok() const {
  if (timedOut || connectFailed != 0 || connectionsLost != 0 || errors != 0) return false;
  if (mode == LoadMode::Reconnect) return connected >= connectionsRequested && requests > 0;
  if (connected != connectionsRequested) return false;
  switch (mode) {
    case LoadMode::Reconnect:
    case LoadMode::ClosedLoop: return requests > 0;
    case LoadMode::Idle:
    case LoadMode::FirstReply: return replied == connected;
  }
  return false;
}

}  // namespace bench
