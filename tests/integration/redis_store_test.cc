// Integration tests of the Redis store (issue 11 §2): a real redis-server (Debian's), started by
// the test on a free loopback port with its own temporary directory and ended by its PID, and two
// uvmodbus-server processes on one prefix, driven by libmodbus. Every wait reads the processes'
// output or a connection with a bounded deadline; nothing sleeps.
#include <doctest/doctest.h>
#include <modbus/modbus.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"

namespace {

using testsupport::Subprocess;
using Clock = std::chrono::steady_clock;
using Registers = std::vector<std::uint16_t>;

constexpr double kStartTimeout = 10.0;
constexpr double kExitTimeout = 5.0;

std::string serverPath() {
  std::string path = testsupport::buildDir() + "/uvmodbus-server";
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing " << path << ": build the uvmodbus-server target");
  return path;
}

/// A port that was free on loopback a moment ago (redis-server cannot be told to pick one: port 0
/// turns its TCP listener off). A lost race shows as redis-server exiting, and start() retries.
int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// A temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = testsupport::buildDir() + "/redis_store_test_XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::string path_;
};

/// redis-server on 127.0.0.1:port, no persistence, in `dir`; ready once it says so.
std::unique_ptr<Subprocess> startRedis(const std::string& dir, int port, const std::string& password = "") {
  std::vector<std::string> argv = {"/usr/bin/redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
                                   "--dir", dir, "--save", "", "--appendonly", "no"};
  if (!password.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(password);
  }
  REQUIRE_MESSAGE(std::filesystem::exists(argv[0]), "redis-server is missing: run scripts/setup.sh");
  auto redis = std::make_unique<Subprocess>(argv);
  if (!redis->waitForLine("Ready to accept connections", kStartTimeout)) {
    redis.reset();
    return nullptr;
  }
  return redis;
}

/// A redis-server the test owns, on a port found free.
struct Redis {
  TempDir dir;
  int port = 0;
  std::unique_ptr<Subprocess> process;
  explicit Redis(const std::string& password = "") {
    for (int attempt = 0; attempt < 3 && !process; ++attempt) {
      port = freePort();
      process = startRedis(dir.path(), port, password);
    }
    REQUIRE_MESSAGE(process != nullptr, "redis-server did not start");
  }
  void stop() {
    process->signal(SIGTERM);
    CHECK(process->wait(kExitTimeout).has_value());
    process.reset();
  }
  void restart() {
    process = startRedis(dir.path(), port);
    REQUIRE_MESSAGE(process != nullptr, "redis-server did not start again on port " << port);
  }
};

std::string config(int redisPort, const std::string& prefix, const std::string& extra = "") {
  return R"({"servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}], "store": "redis",
             "redis": {"endpoint": "tcp:127.0.0.1:)" +
         std::to_string(redisPort) + R"(", "prefix": ")" + prefix + R"(", "timeout": 0.5)" + extra + R"(},
             "units": {"1": {"holding_registers": {"start": 0, "count": 100, "values": [11, 12, 13]},
                             "coils": {"count": 16}}}})";
}

/// A uvmodbus-server on a configuration, ready when it listens, is connected to Redis and hears
/// the writes of the other servers.
struct Server {
  std::string configPath;
  std::unique_ptr<Subprocess> process;
  int port = 0;
  Server(const TempDir& dir, const std::string& name, const std::string& json, bool logWrites = false) {
    configPath = dir.write(name, json);
    std::vector<std::string> argv = {serverPath(), "--config", configPath};
    if (logWrites) argv.push_back("--log-writes");
    process = std::make_unique<Subprocess>(argv);
    auto m = process->waitForLine(R"(listening on tcp 127\.0\.0\.1:(\d+))", kStartTimeout);
    REQUIRE_MESSAGE(m.has_value(), "no listening line; output:\n" << process->output());
    port = std::stoi((*m)[1]);
    // The two connections (commands, subscription) come up in either order.
    for (int i = 0; i < 2; ++i) {
      REQUIRE_MESSAGE(process->waitForLine(R"(redis( 127\.0\.0\.1:\d+ connected|: subscribed to ))", kStartTimeout).has_value(),
                      "not connected to redis; output:\n" << process->output());
    }
  }
};

class Client {
 public:
  explicit Client(int port) : ctx_(modbus_new_tcp("127.0.0.1", port)) {
    REQUIRE(ctx_ != nullptr);
    modbus_set_slave(ctx_, 1);
    modbus_set_response_timeout(ctx_, 3, 0);
    REQUIRE(modbus_connect(ctx_) == 0);
  }
  ~Client() {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
  modbus_t* get() { return ctx_; }
  Registers read(int address, int count) {
    Registers r(static_cast<std::size_t>(count));
    if (modbus_read_registers(ctx_, address, count, r.data()) != count) return {};
    return r;
  }

 private:
  modbus_t* ctx_;
};

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

TEST_CASE("redis store: a write acknowledged by one server is read by another on the same prefix") {
  Redis redis;
  Server a(redis.dir, "a.json", config(redis.port, "shared"));
  Server b(redis.dir, "b.json", config(redis.port, "shared"));
  Client ca(a.port);
  Client cb(b.port);
  // Seeded from the configuration.
  CHECK(cb.read(0, 4) == Registers{11, 12, 13, 0});
  const std::uint16_t values[3] = {100, 200, 300};
  REQUIRE(modbus_write_registers(ca.get(), 1, 3, values) == 3);
  CHECK(cb.read(0, 4) == Registers{11, 100, 200, 300});
  REQUIRE(modbus_write_bit(cb.get(), 7, 1) == 1);
  std::uint8_t bits[8] = {};
  REQUIRE(modbus_read_bits(ca.get(), 0, 8, bits) == 8);
  CHECK(bits[7] == 1);
  CHECK(bits[6] == 0);
  // Checked by the unit's own tables, without Redis: address 100 is not configured.
  CHECK(cb.read(99, 2).empty());
  CHECK(errno == EMBXILADD);
  // A restarted server keeps what is in Redis, not its configured values.
  a.process->signal(SIGTERM);
  CHECK(a.process->wait(kExitTimeout) == std::optional<int>(0));
  Server again(redis.dir, "a.json", config(redis.port, "shared"));
  Client cagain(again.port);
  CHECK(cagain.read(0, 4) == Registers{11, 100, 200, 300});
  // Another prefix is another set of registers.
  Server other(redis.dir, "c.json", config(redis.port, "other"));
  Client cother(other.port);
  CHECK(cother.read(0, 4) == Registers{11, 12, 13, 0});
}

TEST_CASE("redis store: no reader in another process sees half of an FC16 write") {
  Redis redis;
  Server a(redis.dir, "a.json", config(redis.port, "atomic"));
  Server b(redis.dir, "b.json", config(redis.port, "atomic"));
  constexpr int kCount = 60;
  constexpr int kWrites = 400;
  std::atomic<bool> writerDone{false};
  std::atomic<int> writeFailures{0};
  std::thread writer([&] {
    Client ca(a.port);
    std::uint16_t values[kCount];
    for (int i = 0; i < kWrites; ++i) {
      for (auto& v : values) v = static_cast<std::uint16_t>(1000 + i);
      if (modbus_write_registers(ca.get(), 10, kCount, values) != kCount) ++writeFailures;
    }
    writerDone = true;
  });
  Client cb(b.port);
  int reads = 0;
  int torn = 0;
  int failed = 0;
  const auto start = Clock::now();
  // Bounded: stops with the writer, after 20000 reads, or after 30 s.
  while (!writerDone && reads < 20000 && secondsSince(start) < 30) {
    Registers r = cb.read(10, kCount);
    ++reads;
    if (r.empty()) {
      ++failed;
      continue;
    }
    for (std::uint16_t v : r) torn += v != r[0] ? 1 : 0;
  }
  writer.join();
  CHECK(writeFailures == 0);
  CHECK(failed == 0);
  CHECK(reads > 10);
  CHECK(torn == 0);
  CHECK(cb.read(10, kCount) == Registers(kCount, 1000 + kWrites - 1));
}

TEST_CASE("redis store: FC 22 and FC 23 run in Redis, seen by the other server") {
  Redis redis;
  Server a(redis.dir, "a.json", config(redis.port, "rmw"));
  Server b(redis.dir, "b.json", config(redis.port, "rmw"));
  Client ca(a.port);
  Client cb(b.port);
  const std::uint16_t start = 0x0012;
  REQUIRE(modbus_write_registers(cb.get(), 4, 1, &start) == 1);
  // The spec's example: 0x12 AND 0xF2 OR (0x25 AND NOT 0xF2) = 0x17, computed on Redis's value.
  REQUIRE(modbus_mask_write_register(ca.get(), 4, 0x00F2, 0x0025) == 1);
  CHECK(cb.read(4, 1) == Registers{0x17});
  // FC 23: the write first, then the read, through A; B reads the write.
  const std::uint16_t values[2] = {501, 502};
  std::uint16_t readBack[4] = {};
  REQUIRE(modbus_write_and_read_registers(ca.get(), 21, 2, values, 20, 4, readBack) == 4);
  CHECK(Registers(readBack, readBack + 4) == Registers{0, 501, 502, 0});
  CHECK(cb.read(21, 2) == Registers{501, 502});
  // Outside the table: the unit's own answer, 02.
  CHECK(modbus_write_and_read_registers(ca.get(), 99, 2, values, 0, 1, readBack) == -1);
  CHECK(errno == EMBXILADD);
}

TEST_CASE("redis store: write observers fire in every process for a write made through any of them") {
  Redis redis;
  Server a(redis.dir, "a.json", config(redis.port, "observed"), /*logWrites=*/true);
  Server b(redis.dir, "b.json", config(redis.port, "observed"), /*logWrites=*/true);
  Client ca(a.port);
  REQUIRE(modbus_write_register(ca.get(), 5, 4242) == 1);
  CHECK(a.process->waitForLine("write: unit 1 holding_registers 5 = 4242", kStartTimeout).has_value());
  CHECK(b.process->waitForLine("write: unit 1 holding_registers 5 = 4242", kStartTimeout).has_value());
  Client cb(b.port);
  const std::uint8_t coils[3] = {1, 0, 1};
  REQUIRE(modbus_write_bits(cb.get(), 2, 3, coils) == 3);
  CHECK(a.process->waitForLine("write: unit 1 coils 2 = 1 0 1", kStartTimeout).has_value());
  CHECK(b.process->waitForLine("write: unit 1 coils 2 = 1 0 1", kStartTimeout).has_value());
}

TEST_CASE("redis store: Redis stopped under load answers 04 within the timeout, and service resumes when it returns") {
  Redis redis;
  Server a(redis.dir, "a.json", config(redis.port, "outage"));
  Client ca(a.port);
  const std::uint16_t values[2] = {7, 8};
  REQUIRE(modbus_write_registers(ca.get(), 0, 2, values) == 2);
  REQUIRE(ca.read(0, 2) == Registers{7, 8});

  // Load from a second client while Redis goes away.
  std::atomic<bool> stopLoad{false};
  std::atomic<int> loadAnswers{0};
  std::thread load([&] {
    Client cl(a.port);
    for (int i = 0; i < 100000 && !stopLoad; ++i) {
      std::uint16_t r[10];
      modbus_read_registers(cl.get(), 0, 10, r);
      ++loadAnswers;
    }
  });
  redis.stop();
  // Every request now gets 04 at once (not a hang, not a libmodbus timeout).
  for (int i = 0; i < 5; ++i) {
    const auto t = Clock::now();
    CHECK(ca.read(0, 2).empty());
    CHECK(errno == EMBXSFAIL);
    CHECK(secondsSince(t) < 1.0);
  }
  REQUIRE(a.process->waitForLine("redis 127\\.0\\.0\\.1:\\d+ unavailable", kStartTimeout).has_value());

  redis.restart();
  REQUIRE(a.process->waitForLine("redis 127\\.0\\.0\\.1:\\d+ reachable again", kStartTimeout).has_value());
  // The new Redis is empty (no persistence): seeded again with the configured values.
  CHECK(ca.read(0, 4) == Registers{11, 12, 13, 0});
  stopLoad = true;
  load.join();
  CHECK(loadAnswers > 0);

  // Slow: a Redis that stops answering (SIGSTOP) gets 04 after the 0.5 s timeout, not a hang.
  redis.process->signal(SIGSTOP);
  const auto t = Clock::now();
  CHECK(ca.read(0, 2).empty());
  CHECK(errno == EMBXSFAIL);
  CHECK(secondsSince(t) < 2.0);
  redis.process->signal(SIGCONT);
  REQUIRE(a.process->waitForLine("redis 127\\.0\\.0\\.1:\\d+ reachable again", kStartTimeout).has_value());
  CHECK(ca.read(0, 2) == Registers{11, 12});

  // One line per outage (two outages so far), the process still serving.
  const std::string out = a.process->output();
  std::size_t outages = 0;
  for (std::size_t at = out.find(" unavailable ("); at != std::string::npos; at = out.find(" unavailable (", at + 1)) {
    ++outages;
  }
  CHECK(outages == 2);
  a.process->signal(SIGTERM);
  CHECK(a.process->wait(kExitTimeout) == std::optional<int>(0));
}

TEST_CASE("redis store: a password from password_file is sent with AUTH") {
  Redis redis("s3cret-pass");
  const std::string file = redis.dir.write("password", "s3cret-pass\n");
  Server a(redis.dir, "a.json", config(redis.port, "auth", ", \"password_file\": \"" + file + "\""));
  Client ca(a.port);
  const std::uint16_t value = 77;
  REQUIRE(modbus_write_registers(ca.get(), 3, 1, &value) == 1);
  CHECK(ca.read(3, 1) == Registers{77});
}

TEST_CASE("redis store: bad configuration values exit 2 naming the JSON path") {
  TempDir dir;
  struct Case {
    std::string json;
    std::string expected;
  };
  const std::string units = R"("units": {"1": {"holding_registers": {"count": 10}}})";
  const std::string servers = R"("servers": [{"endpoint": "tcp:0:interface=127.0.0.1"}])";
  const std::vector<Case> cases = {
      {"{" + servers + R"(, "store": "redis", "redis": {"endpoint": "tcp:nowhere"}, )" + units + "}",
       "redis.endpoint: "},
      {"{" + servers + R"(, "store": "redis", "redis": {"endpoint": "http://x"}, )" + units + "}", "redis.endpoint: "},
      {"{" + servers + R"(, "store": "disk", )" + units + "}", "store: \"disk\" is not a store (use \"memory\", \"persistent\" or \"redis\")"},
      {"{" + servers + R"(, "units": {"1": {"store": "sql", "holding_registers": {"count": 1}}}})",
       "units.1.store: \"sql\" is not a store (use \"memory\", \"persistent\" or \"redis\")"},
      {"{" + servers + R"(, "store": "redis", "redis": {"password_file": "/nonexistent/pw"}, )" + units + "}",
       "redis.password_file: cannot read \"/nonexistent/pw\""},
      {"{" + servers + R"(, "store": "redis", )" + units + "}", "there is no \"redis\" object"},
      {"{" + servers + R"(, "store": "redis", "redis": {"timeout": 0}, )" + units + "}",
       "redis.timeout: a request timeout must be more than 0 seconds"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].json);
    const std::string path = dir.write("bad" + std::to_string(i) + ".json", cases[i].json);
    Subprocess p({serverPath(), "--config", path});
    CHECK(p.wait(kExitTimeout) == std::optional<int>(2));
    CHECK_MESSAGE(p.output().find(cases[i].expected) != std::string::npos, p.output());
  }
}
