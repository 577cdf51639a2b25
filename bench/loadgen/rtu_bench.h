// RtuBench: Modbus RTU over a pseudo-terminal, one request at a time (a serial line is half
// duplex). It opens the pty (openpty) and keeps the master side; the server under test opens the
// slave by its path. Each request is sent, its whole reply read and checked (CRC, unit, function,
// byte count, register values), then the next one goes. Blocking, poll()-driven, bounded in time.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "bench/loadgen/rtu_frame.h"

namespace bench {

struct RtuBenchOptions {
  RtuReadRequest request;           ///< FC3 x10 at 0, unit 1 by default
  std::uint32_t baud = 115200;      ///< set on the pty (which ignores it) and used for the line rate
  unsigned bitsPerCharacter = 11;   ///< 11: 8E1 (the guide's RTU character); 10: 8N1
  bool expectAddressValues = true;  ///< register i holds i (the bench server fills them so)
  double warmup = 1.0;
  double duration = 5.0;
  double startTimeout = 10.0;       ///< waiting for the server's first valid reply
  double replyTimeout = 0.5;        ///< a reply not complete after this is a timeout (an error)
  std::string serverPidFile;        ///< holds the server's pid: its CPU over the window is reported
};

struct RtuBenchResult {
  std::string ptyPath;
  bool serverReady = false;  ///< a valid reply came within startTimeout
  bool timedOut = false;
  std::uint64_t pairs = 0;   ///< valid request/response pairs in the window
  double measuredSeconds = 0;
  double pairsPerSecond = 0;
  double p50Us = 0, p99Us = 0, maxUs = 0, meanUs = 0;
  std::uint64_t errors = 0;  ///< invalid replies and timeouts (whole run)
  std::map<std::string, std::uint64_t> errorsByKind;
  RtuLineRate line;          ///< the theoretical maximum for these frames at this baud rate
  double ratioToLine = 0;    ///< pairsPerSecond / line.pairsPerSecond
  double loadgenCpuPercent = 0;
  bool haveServer = false;
  double serverCpuSeconds = 0;
  double serverCpuUsPerRequest = 0;
  double serverCpuPercent = 0;
  std::uint64_t serverPeakRssKb = 0;

  bool ok() const { return serverReady && !timedOut && errors == 0 && pairs > 0; }
};

/// Runs it. `onPty` is called with the slave's path once the pty exists (print it, start the
/// server on it). Throws std::runtime_error when openpty fails, std::invalid_argument for bad options.
RtuBenchResult runRtuBench(const RtuBenchOptions& options, const std::function<void(const std::string&)>& onPty);

}  // namespace bench
