// Test certificates made with the `openssl` command, and the one-shot command runner they use.
// The expired certificate comes from `openssl ca -startdate/-enddate` (x509 -days cannot go back).
#include "tests/support/certs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace testsupport {
namespace {

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

CommandResult runCommand(const std::vector<std::string>& argv, std::string_view input, double timeoutSeconds) {
  CommandResult result;
  if (argv.empty()) return result;
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    for (int* p : {in, out, err}) {
      closeFd(p[0]);
      closeFd(p[1]);
    }
    throw std::runtime_error("runCommand: pipe: " + std::string(std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  closeFd(in[0]);
  closeFd(out[1]);
  closeFd(err[1]);
  if (rc != 0) {
    closeFd(in[1]);
    closeFd(out[0]);
    closeFd(err[0]);
    result.err = "cannot start " + argv[0] + ": " + std::strerror(rc);
    return result;
  }
  ::fcntl(in[1], F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  if (input.empty()) closeFd(in[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSeconds);
  char buf[16 * 1024];
  while (out[0] >= 0 || err[0] >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timedOut = true;
      break;
    }
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
    int n = ::poll(fds, 3, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        closeFd(i == 0 ? out[0] : err[0]);
      }
    }
    if (in[1] >= 0 && fds[2].revents != 0) {
      ssize_t w = ::write(in[1], input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // EPIPE: it stopped reading
      if (written >= input.size()) closeFd(in[1]);
    }
  }
  closeFd(in[1]);
  closeFd(out[0]);
  closeFd(err[0]);
  int status = 0;
  if (result.timedOut) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    result.exitCode = exitCodeOf(status);
    return result;
  }
  // Both pipes are closed: the process has exited or is about to; wait for it, bounded.
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timedOut = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    ::poll(nullptr, 0, 5);  // it closed its output; exit is imminent
  }
  result.exitCode = exitCodeOf(status);
  return result;
}

std::string readTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeTextFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

namespace {

constexpr const char* kOpensslConfig = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca]
default_ca = test_ca
[test_ca]
database = @DIR@/index.txt
new_certs_dir = @DIR@/newcerts
serial = @DIR@/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[policy_any]
commonName = supplied
organizationName = optional
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[v3_operator]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
1.3.6.1.4.1.50316.802.1 = ASN1:UTF8String:Operator
[v3_reader]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
1.3.6.1.4.1.50316.802.1 = ASN1:UTF8String:Reader
[v3_norole]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
)";

class Generator {
 public:
  explicit Generator(std::string dir) : dir_(std::move(dir)) {}

  void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    CommandResult r = runCommand(args, {}, 60);
    if (r.exitCode != 0) {
      std::string line;
      for (const auto& a : args) line += a + " ";
      throw std::runtime_error("certificate generation failed (exit " + std::to_string(r.exitCode) + "): " + line +
                               "\n" + r.out + r.err);
    }
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  CertFiles ca(const std::string& name, const std::string& subject) {
    CertFiles f{path(name + ".pem"), path(name + ".key")};
    openssl({"req", "-x509", "-config", path("openssl.cnf"), "-newkey", "rsa:2048", "-nodes", "-keyout", f.key,
             "-out", f.cert, "-days", "3650", "-subj", subject, "-extensions", "v3_ca"});
    return f;
  }

  /// A key (RSA for servers, EC P-256 for clients) and its signing request.
  CertFiles request(const std::string& name, const std::string& subject, bool rsa) {
    CertFiles f{path(name + ".pem"), path(name + ".key")};
    std::vector<std::string> args = {"req", "-new", "-config", path("openssl.cnf"), "-nodes", "-keyout", f.key,
                                     "-out", path(name + ".csr"), "-subj", subject, "-newkey"};
    if (rsa) {
      args.push_back("rsa:2048");
    } else {
      args.insert(args.end(), {"ec", "-pkeyopt", "ec_paramgen_curve:P-256"});
    }
    openssl(args);
    return f;
  }

  CertFiles signed_(const std::string& name, const std::string& subject, const CertFiles& ca,
                    const std::string& extensions, bool rsa = false) {
    CertFiles f = request(name, subject, rsa);
    openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", ca.cert, "-CAkey", ca.key, "-set_serial",
             std::to_string(++serial_), "-days", "3650", "-extfile", path("openssl.cnf"), "-extensions", extensions,
             "-out", f.cert});
    return f;
  }

  /// Valid 2020-01-01 .. 2020-02-01 only: `openssl ca` takes explicit dates.
  CertFiles expired(const std::string& name, const std::string& subject, const CertFiles& ca) {
    CertFiles f = request(name, subject, false);
    std::filesystem::create_directories(path("newcerts"));
    writeTextFile(path("index.txt"), "");
    writeTextFile(path("serial"), "1000\n");
    openssl({"ca", "-batch", "-config", path("openssl.cnf"), "-cert", ca.cert, "-keyfile", ca.key, "-in",
             path(name + ".csr"), "-out", f.cert, "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
             "-extfile", path("openssl.cnf"), "-extensions", "v3_operator", "-notext"});
    return f;
  }

 private:
  std::string dir_;
  int serial_ = 1;
};

/// Removes the per-process directory at exit.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TestCertificates generateTestCertificates(const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::string config = kOpensslConfig;
  for (std::size_t at = config.find("@DIR@"); at != std::string::npos; at = config.find("@DIR@", at)) {
    config.replace(at, 5, dir);
  }
  writeTextFile(dir + "/openssl.cnf", config);
  Generator g(dir);
  TestCertificates t;
  t.dir = dir;
  t.ca = g.ca("ca", "/O=uvmodbus tests/CN=uvmodbus test CA");
  t.foreignCa = g.ca("foreign-ca", "/O=elsewhere/CN=uvmodbus foreign CA");
  t.server = g.signed_("server", "/O=uvmodbus tests/CN=uvmodbus test server", t.ca, "v3_server", /*rsa=*/true);
  t.server2 = g.signed_("server2", "/O=uvmodbus tests/CN=uvmodbus test server 2", t.ca, "v3_server", /*rsa=*/true);
  t.operatorClient = g.signed_("operator", "/O=uvmodbus tests/CN=operator", t.ca, "v3_operator");
  t.readerClient = g.signed_("reader", "/O=uvmodbus tests/CN=reader", t.ca, "v3_reader");
  t.noRoleClient = g.signed_("norole", "/O=uvmodbus tests/CN=norole", t.ca, "v3_norole");
  t.foreignClient = g.signed_("foreign", "/O=elsewhere/CN=foreign", t.foreignCa, "v3_operator");
  t.expiredClient = g.expired("expired", "/O=uvmodbus tests/CN=expired", t.ca);
  return t;
}

const TestCertificates& testCertificates() {
  static TempDir dir;
  static const TestCertificates certs = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/uvmodbus-certs-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
    dir.path = buf.data();
    return generateTestCertificates(dir.path);
  }();
  return certs;
}

}  // namespace testsupport
