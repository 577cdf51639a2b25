// LoadOptions and LoadResult: what one run of the load generator is asked to do and what it measured.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

#include "bench/loadgen/modbus_request.h"
#include "bench/loadgen/request_mix.h"

namespace bench {

enum class LoadMode {
  ClosedLoop,  ///< every connection keeps `depth` requests in flight for warmup + duration
  Idle,        ///< open N connections, then each sends one request and must get its reply
  FirstReply,  ///< open N connections at once; each sends one request; time to the first reply
  Reconnect,   ///< N connections in turn: connect (TLS: full handshake), one request, close, again
};

/// How requests travel.
enum class LoadTransport {
  Tcp,  ///< connectTCP, MBAP stream
  Udp,  ///< listenUDP on 127.0.0.1:0 per "connection", one MBAP request per datagram
  Tls,  ///< connectTLS, MBAP inside TLS (Modbus/TCP Security)
};
const char* loadTransportName(LoadTransport transport);
const char* loadModeName(LoadMode mode);

struct LoadOptions {
  LoadMode mode = LoadMode::ClosedLoop;
  LoadTransport transport = LoadTransport::Tcp;
  std::string host = "127.0.0.1";
  std::uint16_t port = 5020;
  unsigned connections = 1;
  unsigned depth = 1;                           ///< requests in flight per connection (1..1024)
  double duration = 5.0;                        ///< measured window, seconds
  double warmup = 1.0;                          ///< before the window, seconds (not recorded)
  /// One default RequestSpec (FC3, 10 registers at 0). Built with the count constructor: g++ 12 -O3
  /// reports a false maybe-uninitialized through an initializer_list of RequestSpec here.
  std::vector<RequestSpec> mix = std::vector<RequestSpec>(1);
  std::uint8_t unit = 1;
  pid_t serverPid = 0;                          ///< 0: no server CPU/RSS figures
  double connectRate = 2000.0;                  ///< new connections per second; 0 = all at once
  double connectTimeout = 10.0;                 ///< per connection attempt
  double settleTimeout = 20.0;                  ///< bound on waiting for replies (Idle, FirstReply)
  unsigned slowClients = 0;                     ///< extra connections that send one byte per slowInterval
  double slowInterval = 0.05;
  double firstReplyDeadline = 1.0;              ///< FirstReply: the S in "first reply within S"
  double udpTimeout = 0.2;                      ///< Udp: a request unanswered this long is lost, re-issued
  std::string tlsCaFile;                        ///< Tls: CA that signed the server's certificate
  std::string tlsCertFile;                      ///< Tls: our client certificate and its key
  std::string tlsKeyFile;
  std::string tlsServerName = "localhost";      ///< Tls: SNI and the name checked in the server's cert
  /// Poll without sleeping (Reactor::setBusyPolling): the load generator keeps its core and never
  /// pays a wakeup per reply, so that the server, not the load generator, sets the pace.
  bool busyPoll = false;
};

struct LoadResult {
  LoadMode mode = LoadMode::ClosedLoop;
  unsigned connectionsRequested = 0;
  LoadTransport transport = LoadTransport::Tcp;
  unsigned connected = 0;  ///< Reconnect: every successful connect (handshake) of the run
  unsigned connectFailed = 0;
  unsigned connectionsLost = 0;  ///< closed before the end of the run by the peer or an error
  bool timedOut = false;         ///< the run's overall bound expired before it finished

  // ClosedLoop
  std::uint64_t requests = 0;  ///< valid replies inside the measured window
  double measuredSeconds = 0;
  double requestsPerSecond = 0;
  double p50Us = 0, p99Us = 0, p999Us = 0, maxUs = 0, meanUs = 0;
  std::uint64_t slowReplies = 0;  ///< replies to the slow clients (whole run)
  double loadgenCpuPercent = 0;   ///< this process's CPU over the window (100 = one core)
  std::uint64_t udpLost = 0;      ///< Udp: requests unanswered within udpTimeout, re-issued (whole run)
  std::uint64_t udpLate = 0;      ///< Udp: valid replies that came after their request was declared lost
  // Reconnect: `requests` counts the cycles (connect, handshake, request, reply) in the window.

  // every mode
  std::uint64_t errors = 0;  ///< replies that failed validation (whole run)
  std::array<std::uint64_t, kReplyErrorKinds> errorsByKind{};

  // server (when serverPid was given)
  bool haveServer = false;
  double serverCpuSeconds = 0;          ///< over the measured window
  double serverCpuUsPerRequest = 0;
  double serverCpuPercent = 0;
  std::uint64_t serverPeakRssKb = 0;    ///< VmHWM at the end
  std::uint64_t serverRssBeforeKb = 0;  ///< Idle: before the first connection
  std::uint64_t serverRssAfterKb = 0;   ///< Idle: once every connection had its reply
  double bytesPerConnection = 0;        ///< Idle: (after - before) / connected

  // Idle and FirstReply
  unsigned replied = 0;             ///< connections that got their one reply
  unsigned firstReplyWithin = 0;    ///< FirstReply: within firstReplyDeadline of the start
  double slowestFirstReplyMs = 0;   ///< FirstReply: from the start to the last first reply

  /// True when nothing failed: no connect failure, no loss, no invalid reply, no timeout, and the
  /// mode's work was done (replies in the window; every connection answered in Idle/FirstReply).
  bool ok() const;
};

}  // namespace bench
