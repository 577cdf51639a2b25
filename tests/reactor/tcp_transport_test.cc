// Tests for reactor/detail/tcp_transport.cc: Twisted's test_tcp.py transport cases ported by name
// (TCPServerTests, AbortConnectionMixin, WriteSequenceTestsMixin, TCPConnectionTests). More in
// tcp_transport_close_test.cc and tcp_transport_flow_test.cc. Loopback only, port 0.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/reactor.h"
#include "tests/support/reactor_harness.h"

using reactor::asBytes;
using reactor::ByteView;
using reactor::Failure;
using reactor::FailureType;
using reactor::IProducer;
using reactor::Reactor;
using namespace reactor::testing;

namespace {

/// Twisted's ZeroDivisionError stand-in: what a buggy protocol throws.
struct ZeroDivisionError : std::runtime_error {
  ZeroDivisionError() : std::runtime_error("ONO") {}
};

// --- the protocols of test_tcp.py's AbortConnectionMixin ---------------------------------------------

/// AbortServerWritingProtocol: tells the client it is time to abort.
class AbortServerWritingProtocol : public AccumulatingProtocol {
 public:
  void connectionMade() override {
    AccumulatingProtocol::connectionMade();
    transport().write(asBytes("ready"));
  }
};

/// ReadAbortServerProtocol: may only ever receive the 'X's written before the client's abort.
class ReadAbortServerProtocol : public AbortServerWritingProtocol {
 public:
  bool onlyXs() const { return data.find_first_not_of('X') == std::string::npos; }
};

/// NoReadServer: stops reading at once, as a peer that timed out would.
class NoReadServer : public AccumulatingProtocol {
 public:
  void connectionMade() override {
    AccumulatingProtocol::connectionMade();
    transport().pauseProducing();
  }
};

class ServerAbortsTwice : public AccumulatingProtocol {
 public:
  void dataReceived(ByteView bytes) override {
    AccumulatingProtocol::dataReceived(bytes);
    busy([&] {
      transport().abortConnection();
      transport().abortConnection();
    });
  }
};

class ServerAbortsThenLoses : public AccumulatingProtocol {
 public:
  void dataReceived(ByteView bytes) override {
    AccumulatingProtocol::dataReceived(bytes);
    busy([&] {
      transport().abortConnection();
      transport().loseConnection();
    });
  }
};

class WritingButNotAbortingClient : public AccumulatingProtocol {
 public:
  void connectionMade() override {
    AccumulatingProtocol::connectionMade();
    transport().write(asBytes("hello"));
  }
};

/// AbortingClient: X is written before abortConnection (may arrive), Y after (must never arrive).
class AbortingClient : public AccumulatingProtocol {
 public:
  void dataReceived(ByteView bytes) override {
    AccumulatingProtocol::dataReceived(bytes);
    busy([&] { writeAndAbort(); });
  }
  virtual void writeAndAbort() {
    transport().write(asBytes(std::string(10000, 'X')));
    transport().abortConnection();
    transport().write(asBytes(std::string(10000, 'Y')));
  }
};

class AbortingTwiceClient : public AbortingClient {
 public:
  void writeAndAbort() override {
    AbortingClient::writeAndAbort();
    transport().abortConnection();
  }
};

class AbortingThenLosingClient : public AbortingClient {
 public:
  void writeAndAbort() override {
    AbortingClient::writeAndAbort();
    transport().loseConnection();
  }
};

/// ProducerAbortingClient: abortConnection from resumeProducing, i.e. from the write-completion path.
class ProducerAbortingClient : public AccumulatingProtocol, public IProducer {
 public:
  void connectionMade() override {
    AccumulatingProtocol::connectionMade();
    // Twisted writes 762 kB; a fresh loopback socket takes about 4 MB straight into the kernel
    // (our write tries the socket first), so write enough that some is still buffered here when
    // the producer is registered: its second resumeProducing comes when that buffer drains.
    transport().write(asBytes(repeat("lalala", 127000 * 22)));
    inRegisterProducer_ = true;
    transport().registerProducer(std::static_pointer_cast<ProducerAbortingClient>(shared_from_this()), false);
    inRegisterProducer_ = false;
  }
  void resumeProducing() override {
    ++resumeCalls;
    busy([&] {
      if (!inRegisterProducer_) onResume();
    });
  }
  virtual void onResume() { transport().abortConnection(); }
  void stopProducing() override { producerStopped = true; }
  void connectionLost(const Failure& reason) override {
    stoppedBeforeLost = producerStopped;
    AccumulatingProtocol::connectionLost(reason);
  }

  static std::string repeat(const std::string& s, int n) {
    std::string out;
    out.reserve(s.size() * static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) out += s;
    return out;
  }

  int resumeCalls = 0;
  bool producerStopped = false;
  bool stoppedBeforeLost = false;

 private:
  bool inRegisterProducer_ = false;
};

/// ResumeThrowsClient: abortConnection and then an exception from resumeProducing.
class ResumeThrowsClient : public ProducerAbortingClient {
 public:
  void onResume() override {
    transport().abortConnection();
    throw ZeroDivisionError();
  }
};

/// StreamingProducerClient: aborts once the local buffers are full (the usual timeout case).
class StreamingProducerClient : public AccumulatingProtocol, public IProducer {
 public:
  explicit StreamingProducerClient(Reactor& reactor) : reactor_(reactor) {}
  void connectionMade() override {
    AccumulatingProtocol::connectionMade();
    transport().registerProducer(std::static_pointer_cast<StreamingProducerClient>(shared_from_this()), true);
    // 32 MB, as Twisted writes: more than the loopback socket buffers hold while the peer is not reading.
    const std::string chunk(320000, '1');
    for (int i = 0; i < 100; ++i) transport().write(asBytes(chunk));
  }
  void resumeProducing() override { paused = false; }
  void stopProducing() override {}
  void pauseProducing() override {
    ++pauseCalls;
    if (paused) return;
    paused = true;
    // Let some writes happen so the OS buffers fill up too, then abort (twisted#5303).
    reactor_.callLater(0.01, [this] {
      pausedAtAbort = paused;
      busy([&] { transport().abortConnection(); });
    });
  }
  void connectionLost(const Failure& reason) override {
    // Tell the server to read again, so it sees the reset and goes away.
    if (other) other->transport().resumeProducing();
    AccumulatingProtocol::connectionLost(reason);
  }

  AccumulatingProtocol* other = nullptr;
  bool paused = false;
  bool pausedAtAbort = false;
  int pauseCalls = 0;

 private:
  Reactor& reactor_;
};

class DataReceivedRaisingClient : public AccumulatingProtocol {
 public:
  void dataReceived(ByteView bytes) override {
    AccumulatingProtocol::dataReceived(bytes);
    transport().abortConnection();
    throw ZeroDivisionError();
  }
};

/// Twisted's runAbortTest: run both until both are disconnected, then check the reasons and that
/// everything was shut down.
/// Twisted's ConnectionAborted is a ConnectionLost; ours is a type of its own, so it is listed.
void runAbortTest(Reactor& r, const std::shared_ptr<AccumulatingProtocol>& client,
                  const std::shared_ptr<AccumulatingProtocol>& server,
                  std::initializer_list<FailureType> clientReasons = {FailureType::ConnectionAborted,
                                                                       FailureType::ConnectionLost},
                  std::initializer_list<FailureType> serverReasons = {FailureType::ConnectionLost,
                                                                       FailureType::ConnectionDone}) {
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(r.connectionCount() == 0);
  CHECK(r.getDelayedCalls().empty());
  CHECK(client->madeCount == 1);
  CHECK(server->madeCount == 1);
  CHECK(client->lostCount == 1);
  CHECK(server->lostCount == 1);
  CHECK_FALSE(client->reentrantLoss);
  CHECK_FALSE(server->reentrantLoss);
  CHECK_MESSAGE(isOneOf(client->closedReason, clientReasons), "client: " << describe(client->closedReason));
  CHECK_MESSAGE(isOneOf(server->closedReason, serverReasons), "server: " << describe(server->closedReason));
}

const std::string kFifty(50, 'x');

}  // namespace

// --- writes after the connection is gone -------------------------------------------------------------

TEST_CASE("test_writeAfterDisconnect: write after connectionLost is discarded") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  server->onMade = [](AccumulatingProtocol& p) { p.transport().loseConnection(); };
  bool connectedAfterLoss = true;
  std::size_t bufferedAfterWrite = 1;
  server->onLost = [&](AccumulatingProtocol& p, const Failure&) {
    p.transport().write(asBytes("hello world"));
    connectedAfterLoss = p.transport().connected();
    bufferedAfterWrite = p.transport().bufferedAmount();
  };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK_FALSE(connectedAfterLoss);
  CHECK(bufferedAfterWrite == 0);
  CHECK(client->data.empty());
  CHECK(client->closedReason->check(FailureType::ConnectionDone));
  // The protocol's transport stays a valid, dead object after the loss.
  server->transport().write(asBytes("still ignored"));
  CHECK_FALSE(server->transport().connected());
  CHECK_FALSE(server->connected());
}

TEST_CASE("test_writeSequenceAfterDisconnect: writeSequence after connectionLost is discarded") {
  LoopCleanCheck clean;
  Reactor r;
  auto server = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  server->onMade = [](AccumulatingProtocol& p) { p.transport().loseConnection(); };
  std::size_t bufferedAfterWrite = 1;
  server->onLost = [&](AccumulatingProtocol& p, const Failure&) {
    std::vector<ByteView> pieces{asBytes("hello "), asBytes("world")};
    p.transport().writeSequence(pieces);
    bufferedAfterWrite = p.transport().bufferedAmount();
  };
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(bufferedAfterWrite == 0);
  CHECK(client->data.empty());
  CHECK(server->lostCount == 1);
}

// --- AbortConnectionMixin ------------------------------------------------------------------------------

TEST_CASE("test_dataReceivedAbort: abortConnection in dataReceived, connectionLost not re-entrant") {
  LoopCleanCheck clean;
  Reactor r;
  auto client = std::make_shared<AbortingClient>();
  auto server = std::make_shared<ReadAbortServerProtocol>();
  runAbortTest(r, client, server);
  CHECK(client->data == "ready");
  CHECK(server->onlyXs());
}

TEST_CASE("test_clientAbortsConnectionTwice: the second abort does nothing") {
  LoopCleanCheck clean;
  Reactor r;
  auto client = std::make_shared<AbortingTwiceClient>();
  auto server = std::make_shared<ReadAbortServerProtocol>();
  runAbortTest(r, client, server);
  CHECK(server->onlyXs());
}

TEST_CASE("test_clientAbortsConnectionThenLosesConnection: loseConnection after abort does nothing") {
  LoopCleanCheck clean;
  Reactor r;
  auto client = std::make_shared<AbortingThenLosingClient>();
  auto server = std::make_shared<ReadAbortServerProtocol>();
  runAbortTest(r, client, server);
  CHECK(client->closedReason->check(FailureType::ConnectionAborted));
  CHECK(server->onlyXs());
}

TEST_CASE("test_serverAbortsConnectionTwice: the client sees ConnectionLost, the server aborts once") {
  LoopCleanCheck clean;
  Reactor r;
  auto client = std::make_shared<WritingButNotAbortingClient>();
  auto server = std::make_shared<ServerAbortsTwice>();
  runAbortTest(r, client, server, {FailureType::ConnectionLost, FailureType::ConnectionAborted},
               {FailureType::ConnectionAborted});
  CHECK(server->data == "hello");
}

TEST_CASE("test_serverAbortsConnectionThenLosesConnection: loseConnection after abort does nothing") {
  LoopCleanCheck clean;
  Reactor r;
  auto client = std::make_shared<WritingButNotAbortingClient>();
  auto server = std::make_shared<ServerAbortsThenLoses>();
  runAbortTest(r, client, server, {FailureType::ConnectionLost, FailureType::ConnectionAborted},
               {FailureType::ConnectionAborted});
  CHECK(server->data == "hello");
}

TEST_CASE("test_resumeProducingAbort: abortConnection in a pull producer's resumeProducing") {
  LoopCleanCheck clean;
  Reactor r;
  auto client = std::make_shared<ProducerAbortingClient>();
  auto server = std::make_shared<AccumulatingProtocol>();
  runAbortTest(r, client, server);
  CHECK(client->resumeCalls == 2);  // once on registerProducer, once when the buffer emptied
  CHECK(client->producerStopped);
  CHECK(client->stoppedBeforeLost);  // stopProducing comes before connectionLost
}

TEST_CASE("test_resumeProducingThrows: the exception thrown after abortConnection is the reason") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  auto client = std::make_shared<ResumeThrowsClient>();
  auto server = std::make_shared<AccumulatingProtocol>();
  runAbortTest(r, client, server, {FailureType::UserError});
  REQUIRE(client->closedReason);
  CHECK_THROWS_AS(client->closedReason->raiseException(), ZeroDivisionError);
  CHECK(logs.count("ONO") == 1);
}

TEST_CASE("test_fullWriteBuffer: abortConnection once the write buffers are full") {
  LoopCleanCheck clean;
  Reactor r;
  auto client = std::make_shared<StreamingProducerClient>(r);
  auto server = std::make_shared<NoReadServer>();
  client->other = server.get();
  runAbortTest(r, client, server);
  CHECK(client->pauseCalls >= 1);
  CHECK(client->pausedAtAbort);
  CHECK(client->closedReason->check(FailureType::ConnectionAborted));
}

TEST_CASE("test_dataReceivedThrows: the exception thrown after abortConnection is the reason") {
  LoopCleanCheck clean;
  LogCapture logs;
  Reactor r;
  auto client = std::make_shared<DataReceivedRaisingClient>();
  auto server = std::make_shared<AbortServerWritingProtocol>();
  runAbortTest(r, client, server, {FailureType::UserError});
  REQUIRE(client->closedReason);
  CHECK(client->closedReason->exception() != nullptr);
  CHECK_THROWS_AS(client->closedReason->raiseException(), ZeroDivisionError);
  CHECK(logs.count("ONO") == 1);  // logged once: bugs are not masked
}

// --- producers ------------------------------------------------------------------------------------------

TEST_CASE("test_streamingProducer: writeSequence pauses a streaming producer, then resumes it") {
  LoopCleanCheck clean;
  Reactor r;
  struct SaveActionProducer : IProducer {
    std::vector<std::string> actions;
    AccumulatingProtocol* client = nullptr;
    AccumulatingProtocol* server = nullptr;
    void pauseProducing() override { actions.push_back("pause"); }
    void resumeProducing() override {
      actions.push_back("resume");
      client->transport().unregisterProducer();  // so the connection can close
      server->transport().loseConnection();
    }
    void stopProducing() override { actions.push_back("stop"); }
  };
  auto producer = std::make_shared<SaveActionProducer>();
  auto client = std::make_shared<AccumulatingProtocol>();
  auto server = std::make_shared<AccumulatingProtocol>();
  std::vector<std::string> afterRegister, afterWrite;
  whenBothConnected(client, server, [&] {
    producer->client = client.get();
    producer->server = server.get();
    client->transport().registerProducer(producer, true);
    afterRegister = producer->actions;
    client->transport().setWriteHighWaterMark(500);
    std::vector<ByteView> pieces(20, asBytes(kFifty));
    client->transport().writeSequence(pieces);
    afterWrite = producer->actions;
  });
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(afterRegister.empty());
  CHECK(afterWrite == std::vector<std::string>{"pause"});
  CHECK(producer->actions == std::vector<std::string>{"pause", "resume"});
}

TEST_CASE("test_nonStreamingProducer: a pull producer is resumed at once and again on every drain") {
  LoopCleanCheck clean;
  Reactor r;
  struct SaveActionProducer : IProducer {
    std::vector<std::string> actions;
    AccumulatingProtocol* client = nullptr;
    void resumeProducing() override {
      actions.push_back("resume");
      if (std::count(actions.begin(), actions.end(), "resume") == 2) {
        client->transport().unregisterProducer();  // Twisted's stopConsuming
        client->transport().loseConnection();
      } else {
        client->transport().setWriteHighWaterMark(500);
        std::vector<ByteView> pieces(20, asBytes(kFifty));
        client->transport().writeSequence(pieces);
      }
    }
    void stopProducing() override { actions.push_back("stop"); }
  };
  auto producer = std::make_shared<SaveActionProducer>();
  auto client = std::make_shared<AccumulatingProtocol>();
  auto server = std::make_shared<AccumulatingProtocol>();
  std::vector<std::string> afterRegister;
  whenBothConnected(client, server, [&] {
    producer->client = client.get();
    client->transport().registerProducer(producer, false);
    afterRegister = producer->actions;
  });
  REQUIRE(runProtocolsWithReactor(r, server, client));
  CHECK(afterRegister == std::vector<std::string>{"resume"});
  CHECK(producer->actions == std::vector<std::string>{"resume", "resume"});
  CHECK(server->data == std::string(1000, 'x'));
  CHECK(client->closedReason->check(FailureType::ConnectionDone));
}

TEST_CASE("test_connectionLostAfterPausedTransport: the loss is delivered after resumeProducing") {
  LoopCleanCheck clean;
  Reactor r;
  std::vector<std::string> events;
  auto pauser = std::make_shared<AccumulatingProtocol>();
  auto client = std::make_shared<AccumulatingProtocol>();
  pauser->onData = [&](AccumulatingProtocol& p, ByteView) {
    events.push_back("paused");
    p.transport().pauseProducing();
    r.callLater(0, [&events, &p] {
      events.push_back("resumed");
      p.transport().resumeProducing();
    });
  };
  pauser->onLost = [&](AccumulatingProtocol&, const Failure&) { events.push_back("lost"); };
  client->onMade = [](AccumulatingProtocol& p) {
    p.transport().write(asBytes("some bytes for you"));
    p.transport().loseConnection();
  };
  REQUIRE(runProtocolsWithReactor(r, pauser, client));
  CHECK(events == std::vector<std::string>{"paused", "resumed", "lost"});
  CHECK(pauser->data == "some bytes for you");
  CHECK(pauser->closedReason->check(FailureType::ConnectionDone));
}
