// Test helpers for serial lines without hardware: a pseudo-terminal whose master side the test
// drives (Pty), and two pseudo-terminals joined master to master by a relay thread (PtyLink), the
// software null-modem cable that libmodbus and pyserial clients open by path.
// A pseudo-terminal has no baud rate: bytes cross it at once, so a test that needs line timing
// controls its own write timing (writePaced, or write + sleepSeconds between pieces).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace testsupport {

using Bytes = std::vector<std::uint8_t>;

/// Sleeps the calling thread (for controlled write timing only, never to wait for readiness).
void sleepSeconds(double seconds);

/// Parses "01 03 00 00" (spaces optional) into bytes; throws std::invalid_argument on bad hex.
Bytes hexBytes(std::string_view hex);
/// Appends the CRC-16/MODBUS of `frame` (low byte first), independent of the code under test.
Bytes withCrc(Bytes frame);

/// One pseudo-terminal (openpty). The code under test opens slavePath(); the test reads and writes
/// the master. The helper keeps a slave descriptor of its own open (raw mode), so the master never
/// sees a hang-up before or between the opens by the code under test.
class Pty {
 public:
  /// Throws std::runtime_error when openpty fails.
  Pty();
  ~Pty();
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;

  const std::string& slavePath() const { return slavePath_; }
  int masterFd() const { return master_; }

  /// Writes every byte to the master (towards the code under test); false on error.
  bool write(const Bytes& bytes);
  bool write(std::string_view text);
  /// Writes one byte at a time, `secondsPerByte` apart (a line at some baud rate; e.g. 11 / 1200).
  bool writePaced(const Bytes& bytes, double secondsPerByte);
  /// Reads from the master until `expected` bytes came or `timeoutSeconds` passed; returns what came.
  Bytes read(std::size_t expected, double timeoutSeconds);
  /// Reads everything that arrives during `seconds` (to check that nothing comes).
  Bytes readFor(double seconds);
  /// Closes the master: the slave side hangs up (reads fail with EIO), like a pulled USB adapter.
  void closeMaster();
  /// Closes the helper's own slave descriptor.
  void releaseSlave();

 private:
  int master_ = -1;
  int slave_ = -1;
  std::string slavePath_;
};

/// Two pseudo-terminals A and B whose masters a relay thread joins: what a program writes to
/// pathA() comes out of pathB() and back. The relay records the traffic in each direction.
class PtyLink {
 public:
  /// Throws std::runtime_error when openpty or the thread fails.
  PtyLink();
  /// Stops and joins the relay thread.
  ~PtyLink();
  PtyLink(const PtyLink&) = delete;
  PtyLink& operator=(const PtyLink&) = delete;

  const std::string& pathA() const { return a_.slavePath(); }
  const std::string& pathB() const { return b_.slavePath(); }
  /// Bytes relayed from A to B, and from B to A, so far.
  Bytes trafficAtoB();
  Bytes trafficBtoA();
  /// Writes bytes towards the program on A / on B, as a third device on the line would.
  bool injectToA(const Bytes& bytes) { return a_.write(bytes); }
  bool injectToB(const Bytes& bytes) { return b_.write(bytes); }

 private:
  void relay();

  Pty a_;
  Pty b_;
  int wake_[2] = {-1, -1};
  std::mutex mutex_;
  Bytes aToB_;
  Bytes bToA_;
  std::thread thread_;
};

}  // namespace testsupport
