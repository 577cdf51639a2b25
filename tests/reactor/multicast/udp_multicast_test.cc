// Multicast on loopback (Twisted's IMulticastTransport: joinGroup, leaveGroup, setLoopbackMode,
// setTTL) through reactor/detail/udp_port.cc. A container may have no multicast route on lo (the
// interface lacks the MULTICAST flag, or no route covers 224.0.0.0/4): then the test says so with a
// doctest MESSAGE and the executable exits 77, which tests/CMakeLists.txt registers as CTest's
// SKIP_RETURN_CODE — a skip shows as "Skipped" in ctest, never as a pass. Its own executable (and
// main) so the skip code is the process's exit status.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reactor/datagram_protocol.h"
#include "reactor/reactor.h"

using reactor::Address;
using reactor::ByteView;
using reactor::Reactor;

namespace {

constexpr int kSkipped = 77;
bool multicastUnavailable = false;
std::string unavailableBecause;

class Recorder : public reactor::DatagramProtocol {
 public:
  void datagramReceived(ByteView datagram, const Address&) override {
    datagrams.emplace_back(reactor::asText(datagram));
  }
  std::vector<std::string> datagrams;
};

/// Polls `done` every 5 ms on the reactor; runs `then` once it holds, or `timedOut` after `limit` s.
void when(Reactor& reactor, std::function<bool()> done, std::function<void()> then, double limit,
          std::function<void()> timedOut) {
  if (done()) {
    then();
    return;
  }
  if (limit <= 0) {
    timedOut();
    return;
  }
  reactor.callLater(0.005, [&reactor, done, then, limit, timedOut] { when(reactor, done, then, limit - 0.005, timedOut); });
}

}  // namespace

TEST_CASE("multicast on loopback: a joined group receives, setLoopbackMode and setTTL apply, leaveGroup leaves") {
  const std::string group = "239.255.77.77";
  Reactor reactor;
  auto receiver = std::make_shared<Recorder>();
  auto sender = std::make_shared<Recorder>();
  auto receiverPort = reactor.listenUDP(0, receiver, "0.0.0.0");
  auto senderPort = reactor.listenUDP(0, sender, "127.0.0.1");
  const Address to{Address::Type::UDP, group, receiverPort->getHost().port, false};
  bool finished = false;
  auto unavailable = [&](const std::string& why) {
    multicastUnavailable = true;
    unavailableBecause = why;
    reactor.stop();
  };
  // One run of the reactor (stop() closes the ports): join, send, then the loopback-mode steps.
  reactor.callWhenRunning([&] {
    try {
      receiver->transport().joinGroup(group, "127.0.0.1");
      sender->transport().setOutgoingInterface("127.0.0.1");
    } catch (const std::exception& e) {
      unavailable(e.what());
      return;
    }
    CHECK(sender->transport().getLoopbackMode());
    sender->transport().setTTL(1);
    CHECK(sender->transport().getTTL() == 1);
    sender->transport().write(reactor::asBytes("to the group"), to);
    when(
        reactor, [&] { return !receiver->datagrams.empty(); },
        [&] {
          // The loopback mode is set on the socket and read back. Its effect cannot be observed
          // here: a datagram sent out of lo comes back in through lo whatever IP_MULTICAST_LOOP
          // says (the flag only governs the copy looped back from a real interface).
          sender->transport().setLoopbackMode(false);
          CHECK_FALSE(sender->transport().getLoopbackMode());
          sender->transport().setLoopbackMode(true);
          CHECK(sender->transport().getLoopbackMode());
          sender->transport().write(reactor::asBytes("marker"), to);
          when(
              reactor, [&] { return receiver->datagrams.size() >= 2; },
              [&] {
                receiver->transport().leaveGroup(group, "127.0.0.1");
                CHECK_THROWS(sender->transport().setTTL(-1));  // the OS's error, named
                CHECK_THROWS(receiver->transport().leaveGroup(group, "127.0.0.1"));  // not a member now
                finished = true;
                reactor.stop();
              },
              5.0, [&] { FAIL("the marker datagram never arrived"); reactor.stop(); });
        },
        2.0, [&] { unavailable("a datagram sent to " + group + " on lo never arrived (no multicast route on lo?)"); });
  });
  auto guard = reactor.callLater(20, [&] { reactor.crash(); });
  reactor.run(false);
  if (guard.active()) guard.cancel();
  if (multicastUnavailable) {
    MESSAGE("SKIPPED: this machine cannot route multicast on loopback: " << unavailableBecause);
    return;
  }
  CHECK(finished);
  CHECK(receiver->datagrams == std::vector<std::string>{"to the group", "marker"});
}

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int failed = context.run();
  if (context.shouldExit()) return failed;
  if (failed != 0) return failed;
  return multicastUnavailable ? kSkipped : 0;
}
