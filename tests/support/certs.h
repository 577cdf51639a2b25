// Test certificates made at test time with the `openssl` command (a CA, a server certificate for
// 127.0.0.1/localhost, client certificates with and without the Modbus role extension, one from a
// foreign CA, one expired), and a one-shot command runner with stdin and a time limit.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace testsupport {

/// What a command run by runCommand did.
struct CommandResult {
  int exitCode = -1;      ///< the exit code, 128+signal if killed by one, -1 if it never started
  bool timedOut = false;  ///< killed (SIGKILL) because the time limit passed
  std::string out;        ///< stdout
  std::string err;        ///< stderr
};

/// Runs argv (argv[0] looked up in PATH), writes `input` to its stdin and then closes it, and
/// collects stdout and stderr until it exits or `timeoutSeconds` pass (then SIGKILL). Always reaps
/// the process. poll()-driven, no sleeping.
CommandResult runCommand(const std::vector<std::string>& argv, std::string_view input = {},
                         double timeoutSeconds = 30);

/// A certificate (PEM) and its unencrypted private key (PEM).
struct CertFiles {
  std::string cert;
  std::string key;
};

struct TestCertificates {
  std::string dir;
  CertFiles ca;              ///< "uvmodbus test CA"
  CertFiles foreignCa;       ///< "uvmodbus foreign CA": trusted by nobody
  CertFiles server;          ///< CN "uvmodbus test server", SAN IP:127.0.0.1 and DNS:localhost (RSA)
  CertFiles server2;         ///< CN "uvmodbus test server 2", same SAN and CA (for reload tests)
  CertFiles operatorClient;  ///< CN "operator", role "Operator"
  CertFiles readerClient;    ///< CN "reader", role "Reader"
  CertFiles noRoleClient;    ///< CN "norole", no role extension
  CertFiles foreignClient;   ///< CN "foreign", role "Operator", signed by foreignCa
  CertFiles expiredClient;   ///< CN "expired", role "Operator", valid only in January 2020
};

/// Generates the set into `dir` (created if missing). Throws std::runtime_error with openssl's
/// output when a step fails.
TestCertificates generateTestCertificates(const std::string& dir);

/// The set for this process: generated on first use into a fresh directory under $TMPDIR (or
/// /tmp), removed when the process exits.
const TestCertificates& testCertificates();

/// Reads a whole file (empty if unreadable); writes one (throws std::runtime_error on failure).
std::string readTextFile(const std::string& path);
void writeTextFile(const std::string& path, std::string_view text);

}  // namespace testsupport
