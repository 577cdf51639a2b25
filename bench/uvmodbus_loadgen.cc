// uvmodbus-loadgen: a closed-loop Modbus/TCP load generator on our reactor (connectTCP), with an
// idle-connections mode and a first-reply-deadline mode; MBAP over UDP (--udp) and over TLS (--tls,
// connectTLS), a reconnect mode that measures full TLS handshakes, and Modbus RTU over a
// pseudo-terminal (--rtu). Every reply is validated.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/loadgen/load_generator.h"
#include "bench/loadgen/request_mix.h"
#include "bench/loadgen/rtu_bench.h"
#include "reactor/log.h"

namespace {

/// Lift the soft open-file limit to the hard one: 10 000 connections need 10 000 descriptors.
void raiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

nlohmann::json toJson(const std::string& label, const bench::LoadOptions& o, const bench::LoadResult& r) {
  nlohmann::json j;
  j["label"] = label;
  j["mode"] = bench::loadModeName(r.mode);
  j["transport"] = bench::loadTransportName(r.transport);
  j["ok"] = r.ok();
  j["connections"] = o.connections;
  j["depth"] = o.depth;
  j["slow_clients"] = o.slowClients;
  j["connected"] = r.connected;
  j["connect_failed"] = r.connectFailed;
  j["connections_lost"] = r.connectionsLost;
  j["timed_out"] = r.timedOut;
  j["errors"] = r.errors;
  nlohmann::json kinds = nlohmann::json::object();
  for (std::size_t i = 1; i < r.errorsByKind.size(); ++i) {
    if (r.errorsByKind[i] != 0) kinds[bench::replyErrorName(static_cast<bench::ReplyError>(i))] = r.errorsByKind[i];
  }
  j["errors_by_kind"] = kinds;
  if (r.transport == bench::LoadTransport::Udp) {
    j["udp_lost"] = r.udpLost;
    j["udp_late"] = r.udpLate;
    j["udp_timeout_s"] = o.udpTimeout;
  }
  if (r.mode == bench::LoadMode::Reconnect) {
    j["handshakes"] = r.connected;
    j["handshakes_per_s"] = r.requestsPerSecond;
  }
  if (r.mode == bench::LoadMode::ClosedLoop || r.mode == bench::LoadMode::Reconnect) {
    j["requests"] = r.requests;
    j["seconds"] = r.measuredSeconds;
    j["req_per_s"] = r.requestsPerSecond;
    j["p50_us"] = r.p50Us;
    j["p99_us"] = r.p99Us;
    j["p999_us"] = r.p999Us;
    j["max_us"] = r.maxUs;
    j["mean_us"] = r.meanUs;
    j["slow_replies"] = r.slowReplies;
    j["loadgen_cpu_pct"] = r.loadgenCpuPercent;
  } else {
    j["replied"] = r.replied;
  }
  if (r.mode == bench::LoadMode::FirstReply) {
    j["deadline_s"] = o.firstReplyDeadline;
    j["within_deadline"] = r.firstReplyWithin;
    j["slowest_first_reply_ms"] = r.slowestFirstReplyMs;
  }
  if (r.haveServer) {
    j["server_peak_rss_kb"] = r.serverPeakRssKb;
    if (r.mode == bench::LoadMode::ClosedLoop || r.mode == bench::LoadMode::Reconnect) {
      j["server_cpu_s"] = r.serverCpuSeconds;
      j["server_cpu_pct"] = r.serverCpuPercent;
      j["server_cpu_us_per_req"] = r.serverCpuUsPerRequest;
    }
    if (r.mode == bench::LoadMode::Idle) {
      j["server_rss_before_kb"] = r.serverRssBeforeKb;
      j["server_rss_after_kb"] = r.serverRssAfterKb;
      j["bytes_per_connection"] = r.bytesPerConnection;
    }
  }
  return j;
}

void printHuman(const bench::LoadOptions& o, const bench::LoadResult& r) {
  std::printf("mode %s: %u/%u connected, %u failed, %u lost%s\n", bench::loadModeName(r.mode), r.connected,
              r.connectionsRequested, r.connectFailed, r.connectionsLost, r.timedOut ? ", TIMED OUT" : "");
  if (r.transport == bench::LoadTransport::Udp) {
    std::printf("udp: %llu requests lost (re-issued after %.3f s), %llu late replies\n",
                static_cast<unsigned long long>(r.udpLost), o.udpTimeout, static_cast<unsigned long long>(r.udpLate));
  }
  if (r.mode == bench::LoadMode::Reconnect) {
    std::printf("%u connections (handshakes) in the whole run\n", r.connected);
  }
  if (r.mode == bench::LoadMode::ClosedLoop || r.mode == bench::LoadMode::Reconnect) {
    std::printf("requests %llu in %.2f s: %.0f req/s\n", static_cast<unsigned long long>(r.requests),
                r.measuredSeconds, r.requestsPerSecond);
    std::printf("latency us: p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  mean %.1f\n", r.p50Us, r.p99Us, r.p999Us,
                r.maxUs, r.meanUs);
    if (o.slowClients > 0) std::printf("slow clients: %llu replies\n", static_cast<unsigned long long>(r.slowReplies));
    std::printf("loadgen cpu %.0f%%\n", r.loadgenCpuPercent);
  } else {
    std::printf("replied %u/%u\n", r.replied, r.connected);
  }
  if (r.mode == bench::LoadMode::FirstReply) {
    std::printf("first reply within %.3f s: %u/%u, slowest %.1f ms\n", o.firstReplyDeadline, r.firstReplyWithin,
                r.connectionsRequested, r.slowestFirstReplyMs);
  }
  if (r.haveServer) {
    if (r.mode == bench::LoadMode::ClosedLoop || r.mode == bench::LoadMode::Reconnect) {
      std::printf("server cpu %.2f s (%.0f%%), %.2f us/request, peak rss %llu kB\n", r.serverCpuSeconds,
                  r.serverCpuPercent, r.serverCpuUsPerRequest, static_cast<unsigned long long>(r.serverPeakRssKb));
    } else if (r.mode == bench::LoadMode::Idle) {
      std::printf("server rss %llu kB -> %llu kB: %.0f bytes/connection\n",
                  static_cast<unsigned long long>(r.serverRssBeforeKb),
                  static_cast<unsigned long long>(r.serverRssAfterKb), r.bytesPerConnection);
    }
  }
  std::printf("errors %llu", static_cast<unsigned long long>(r.errors));
  for (std::size_t i = 1; i < r.errorsByKind.size(); ++i) {
    if (r.errorsByKind[i] != 0) {
      std::printf(" %s=%llu", bench::replyErrorName(static_cast<bench::ReplyError>(i)),
                  static_cast<unsigned long long>(r.errorsByKind[i]));
    }
  }
  std::printf("\n%s\n", r.ok() ? "OK" : "FAILED");
}

nlohmann::json rtuJson(const std::string& label, const bench::RtuBenchOptions& o, const bench::RtuBenchResult& r) {
  nlohmann::json j;
  j["label"] = label;
  j["mode"] = "rtu";
  j["transport"] = "rtu";
  j["ok"] = r.ok();
  j["pty"] = r.ptyPath;
  j["server_ready"] = r.serverReady;
  j["timed_out"] = r.timedOut;
  j["errors"] = r.errors;
  j["errors_by_kind"] = r.errorsByKind;
  j["connections"] = 1;
  j["depth"] = 1;
  j["requests"] = r.pairs;
  j["seconds"] = r.measuredSeconds;
  j["req_per_s"] = r.pairsPerSecond;
  j["p50_us"] = r.p50Us;
  j["p99_us"] = r.p99Us;
  j["max_us"] = r.maxUs;
  j["mean_us"] = r.meanUs;
  j["loadgen_cpu_pct"] = r.loadgenCpuPercent;
  j["baud"] = o.baud;
  j["bits_per_char"] = o.bitsPerCharacter;
  j["request_bytes"] = 8;
  j["response_bytes"] = o.request.replyLength();
  j["t35_ms"] = r.line.t35Seconds * 1e3;
  j["line_pairs_per_s"] = r.line.pairsPerSecond;
  j["ratio_to_line"] = r.ratioToLine;
  if (r.haveServer) {
    j["server_peak_rss_kb"] = r.serverPeakRssKb;
    j["server_cpu_s"] = r.serverCpuSeconds;
    j["server_cpu_pct"] = r.serverCpuPercent;
    j["server_cpu_us_per_req"] = r.serverCpuUsPerRequest;
  }
  return j;
}

int runRtu(const bench::RtuBenchOptions& o, const std::string& label, bool json) {
  bench::RtuBenchResult r;
  try {
    r = bench::runRtuBench(o, [](const std::string& path) {
      // run.sh waits for this line to start the server on the slave side.
      std::fprintf(stderr, "pty %s\n", path.c_str());
      std::fflush(stderr);
    });
  } catch (const std::exception& e) {
    std::cerr << "uvmodbus-loadgen: " << e.what() << "\n";
    return 2;
  }
  if (json) {
    std::cout << rtuJson(label, o, r).dump() << std::endl;
  } else {
    std::printf("rtu over %s: server %s\n", r.ptyPath.c_str(), r.serverReady ? "ready" : "NEVER ANSWERED");
    std::printf("pairs %llu in %.2f s: %.0f pairs/s; latency us p50 %.0f p99 %.0f max %.0f\n",
                static_cast<unsigned long long>(r.pairs), r.measuredSeconds, r.pairsPerSecond, r.p50Us, r.p99Us,
                r.maxUs);
    std::printf("line maximum at %u baud, %u bits/char, 8+%zu bytes, t3.5 %.3f ms: %.1f pairs/s; ratio %.1fx\n",
                o.baud, o.bitsPerCharacter, o.request.replyLength(), r.line.t35Seconds * 1e3, r.line.pairsPerSecond,
                r.ratioToLine);
    if (r.haveServer) {
      std::printf("server cpu %.2f s (%.0f%%), %.2f us/request\n", r.serverCpuSeconds, r.serverCpuPercent,
                  r.serverCpuUsPerRequest);
    }
    std::printf("errors %llu\n%s\n", static_cast<unsigned long long>(r.errors), r.ok() ? "OK" : "FAILED");
  }
  return r.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvmodbus-loadgen: closed-loop Modbus/TCP load on the uvmodbus reactor"};
  bench::LoadOptions o;
  std::string mix = "3:10";
  std::string label;
  unsigned unit = 1;
  unsigned address = 0;
  int serverPid = 0;
  bool allAtOnce = false;
  bool idle = false;
  double deadline = 0;
  bool json = false;
  bool udp = false;
  bool tls = false;
  bool reconnect = false;
  bool rtu = false;
  bench::RtuBenchOptions rtuOptions;
  std::string serverPidFile;
  auto* portOption = app.add_option("--port", o.port, "server port");
  app.add_option("--host", o.host, "server address")->capture_default_str();
  app.add_flag("--udp", udp, "MBAP over UDP: one socket per connection, -d requests in flight each");
  app.add_option("--udp-timeout", o.udpTimeout, "UDP: seconds before a request counts as lost and is re-issued")
      ->capture_default_str()->check(CLI::Range(0.001, 60.0));
  app.add_flag("--tls", tls, "MBAP over TLS (connectTLS); needs --ca, --cert, --key");
  app.add_option("--ca", o.tlsCaFile, "TLS: CA certificate the server's chains to");
  app.add_option("--cert", o.tlsCertFile, "TLS: client certificate");
  app.add_option("--key", o.tlsKeyFile, "TLS: client private key");
  app.add_option("--tls-server-name", o.tlsServerName, "TLS: name checked in the server's certificate")
      ->capture_default_str();
  app.add_flag("--reconnect", reconnect,
               "each connection loops: connect (TLS: full handshake), one request, close; reports cycles/s");
  app.add_flag("--rtu", rtu, "Modbus RTU over a pseudo-terminal it opens (prints 'pty PATH' on stderr)");
  app.add_option("--baud", rtuOptions.baud, "RTU: baud rate for the line's theoretical rate")->capture_default_str();
  app.add_option("--char-bits", rtuOptions.bitsPerCharacter, "RTU: bits per character, 11 (8E1/8N2) or 10 (8N1)")
      ->capture_default_str()->check(CLI::Range(7u, 12u));
  app.add_option("--server-pid-file", serverPidFile, "RTU: file holding the server's pid (read after start-up)");
  app.add_option("--start-timeout", rtuOptions.startTimeout, "RTU: seconds to wait for the server's first reply")
      ->capture_default_str();
  app.add_option("-c,--connections", o.connections, "connections")->capture_default_str()->check(CLI::Range(1u, 100000u));
  app.add_option("-d,--depth", o.depth, "requests in flight per connection (pipelined)")
      ->capture_default_str()->check(CLI::Range(1u, 1024u));
  app.add_option("--duration", o.duration, "measured seconds")->capture_default_str()->check(CLI::Range(0.01, 3600.0));
  app.add_option("--warmup", o.warmup, "seconds of load before measuring")->capture_default_str()->check(CLI::Range(0.0, 600.0));
  app.add_option("--mix", mix, "FC:QTY[@ADDR][*WEIGHT],... e.g. 3:10,16:10*2,1:100")->capture_default_str();
  app.add_option("--address", address, "default start address for the mix")->capture_default_str()->check(CLI::Range(0u, 65535u));
  app.add_option("--unit", unit, "unit id")->capture_default_str()->check(CLI::Range(0u, 255u));
  app.add_option("--server-pid", serverPid, "server process: report its CPU/request and peak RSS");
  app.add_option("--connect-rate", o.connectRate, "new connections per second (0 = all at once)")->capture_default_str();
  app.add_flag("--open-all-at-once", allAtOnce, "open every connection at once (= --connect-rate 0)");
  app.add_option("--connect-timeout", o.connectTimeout, "seconds per connection attempt")->capture_default_str();
  app.add_option("--slow-clients", o.slowClients, "extra clients sending one byte per --slow-interval")->capture_default_str();
  app.add_option("--slow-interval", o.slowInterval, "seconds between a slow client's bytes")->capture_default_str();
  app.add_flag("--idle", idle, "open the connections, then each sends one request and must get its reply");
  app.add_option("--first-reply-deadline", deadline,
                 "open all connections at once; count first replies within this many seconds");
  app.add_option("--settle-timeout", o.settleTimeout, "bound on waiting for replies (idle, first-reply)")->capture_default_str();
  app.add_flag("--busy-poll", o.busyPoll, "poll without sleeping, so the load generator is never the bottleneck");
  app.add_option("--label", label, "a name echoed in the JSON line");
  app.add_flag("--json", json, "print one JSON line instead of text");
  CLI11_PARSE(app, argc, argv);

  if (rtu) {
    if (udp || tls || idle || deadline > 0 || reconnect) {
      std::cerr << "uvmodbus-loadgen: --rtu excludes --udp, --tls, --idle, --reconnect and --first-reply-deadline\n";
      return 2;
    }
    std::vector<bench::RequestSpec> specs;
    try {
      specs = bench::parseMix(mix, static_cast<std::uint16_t>(address));
    } catch (const bench::MixError& e) {
      std::cerr << "uvmodbus-loadgen: " << e.what() << "\n";
      return 2;
    }
    if (specs.size() != 1 || (specs[0].function != 3 && specs[0].function != 4)) {
      std::cerr << "uvmodbus-loadgen: --rtu takes one FC 3 or FC 4 item in --mix\n";
      return 2;
    }
    rtuOptions.request = bench::RtuReadRequest{static_cast<std::uint8_t>(unit), specs[0].function, specs[0].address,
                                               specs[0].quantity};
    rtuOptions.warmup = o.warmup;
    rtuOptions.duration = o.duration;
    rtuOptions.serverPidFile = serverPidFile;
    return runRtu(rtuOptions, label, json);
  }
  if (portOption->count() == 0) {
    std::cerr << "uvmodbus-loadgen: --port is required\n";
    return 2;
  }
  if (udp && tls) {
    std::cerr << "uvmodbus-loadgen: --udp and --tls exclude each other\n";
    return 2;
  }
  if (tls && (o.tlsCaFile.empty() || o.tlsCertFile.empty() || o.tlsKeyFile.empty())) {
    std::cerr << "uvmodbus-loadgen: --tls needs --ca, --cert and --key\n";
    return 2;
  }
  if (udp) o.transport = bench::LoadTransport::Udp;
  if (tls) o.transport = bench::LoadTransport::Tls;

  try {
    o.mix = bench::parseMix(mix, static_cast<std::uint16_t>(address));
  } catch (const bench::MixError& e) {
    std::cerr << "uvmodbus-loadgen: " << e.what() << "\n";
    return 2;
  }
  o.unit = static_cast<std::uint8_t>(unit);
  o.serverPid = serverPid;
  if (allAtOnce) o.connectRate = 0;
  if (static_cast<int>(idle) + static_cast<int>(deadline > 0) + static_cast<int>(reconnect) > 1) {
    std::cerr << "uvmodbus-loadgen: --idle, --first-reply-deadline and --reconnect exclude each other\n";
    return 2;
  }
  if (reconnect) o.mode = bench::LoadMode::Reconnect;
  if (idle) o.mode = bench::LoadMode::Idle;
  if (deadline > 0) {
    o.mode = bench::LoadMode::FirstReply;
    o.firstReplyDeadline = deadline;
    o.connectRate = 0;
  }
  raiseFileLimit();
  reactor::log::setLevel(reactor::log::Level::Error);

  bench::LoadResult result;
  try {
    result = bench::runLoad(o);
  } catch (const std::exception& e) {
    std::cerr << "uvmodbus-loadgen: " << e.what() << "\n";
    return 2;
  }
  if (json) {
    std::cout << toJson(label, o, result).dump() << std::endl;
  } else {
    printHuman(o, result);
  }
  return result.ok() ? 0 : 1;
}
