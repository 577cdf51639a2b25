// Port of pymodbus's TLS server example (examples/server_async.py --comm tls) as Modbus/TCP Security:
// on first start it makes a CA, a server certificate and two client certificates (roles "Operator"
// and "Reader") in DIR with the openssl command, then serves them with StartTlsServer.
// Usage: 05_tls_server DIR [PORT [INTERFACE]]   (default port 802 on 127.0.0.1)
// Try:   openssl s_client -connect 127.0.0.1:802 -cert DIR/reader.pem -key DIR/reader.key -CAfile DIR/ca.pem
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tls_server.h"
#include "reactor/endpoints.h"

extern char** environ;

namespace {

const char* const kConfig = R"([req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[server]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[Operator]
extendedKeyUsage = clientAuth
1.3.6.1.4.1.50316.802.1 = ASN1:UTF8String:Operator
[Reader]
extendedKeyUsage = clientAuth
1.3.6.1.4.1.50316.802.1 = ASN1:UTF8String:Reader
)";

void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t quiet;  // openssl's key-generation dots go to /dev/null
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&quiet, 1, 2);
  pid_t pid = 0;
  int status = 0;
  int rc = posix_spawnp(&pid, "openssl", &quiet, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&quiet);
  if (rc != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("openssl " + args[1] + " failed (is the openssl command installed?)");
  }
}

/// A key and a certificate signed by the CA (the CA itself when name == "ca").
void issue(const std::string& dir, const std::string& name, const std::string& section, const std::string& cn) {
  const std::string cnf = dir + "/openssl.cnf", key = dir + "/" + name + ".key", pem = dir + "/" + name + ".pem";
  if (name == "ca") {
    openssl({"req", "-x509", "-config", cnf, "-extensions", "ca", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
             "-out", pem, "-days", "3650", "-subj", "/CN=" + cn});
    return;
  }
  openssl({"req", "-new", "-config", cnf, "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", dir + "/" + name + ".csr",
           "-subj", "/CN=" + cn});
  openssl({"x509", "-req", "-in", dir + "/" + name + ".csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
           "-CAcreateserial", "-days", "825", "-extfile", cnf, "-extensions", section, "-out", pem});
}

void makeCertificates(const std::string& dir) {
  if (std::filesystem::exists(dir + "/server.pem")) return;
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/openssl.cnf") << kConfig;
  std::printf("generating a CA and certificates in %s\n", dir.c_str());
  issue(dir, "ca", "ca", "uvmodbus sample CA");
  issue(dir, "server", "server", "localhost");
  issue(dir, "operator", "Operator", "operator");
  issue(dir, "reader", "Reader", "reader");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: 05_tls_server DIR [PORT [INTERFACE]]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string port = argc > 2 ? argv[2] : "802";
  const std::string interface = argc > 3 ? argv[3] : "127.0.0.1";
  auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 100),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 100),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 100, 17),
  });
  modbus::TlsServerOptions tls;
  // The issue's roles: an Operator reads and writes, a Reader only reads, no role = nothing.
  tls.roles = modbus::parseRoleTable(R"({"Operator": {"functions": [1, 2, 3, 4, 5, 6, 15, 16]},
                                         "Reader": {"functions": [1, 2, 3, 4]}})");
  try {
    makeCertificates(dir);
    const std::string d = reactor::quoteStringArgument(dir);
    std::string endpoint = "tls:" + port + ":interface=" + reactor::quoteStringArgument(interface) + ":cert=" + d + "/server.pem:key=" + d +
                           "/server.key:ca=" + d + "/ca.pem";
    modbus::StartTlsServer(modbus::ServerContext::single(device), endpoint, std::move(tls));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "05_tls_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
