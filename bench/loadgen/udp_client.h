// UdpClient: one UDP socket of the load generator (listenUDP on 127.0.0.1, port 0) that keeps
// `depth` MBAP requests in flight to the server, one request per datagram, checks every reply as
// the TCP client does, and re-issues a request unanswered after the timeout under a new id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "bench/loadgen/datagram_slots.h"
#include "reactor/address.h"
#include "reactor/datagram_protocol.h"
#include "reactor/interfaces.h"

namespace bench {

class LoadGenerator;

class UdpClient final : public reactor::DatagramProtocol {
 public:
  UdpClient(LoadGenerator& generator, unsigned depth, std::size_t scheduleOffset, reactor::Address server);

  /// Binds the socket (throws reactor::CannotListenError).
  void start();
  /// Closes the socket.
  void stop();
  /// Fill every free slot, one datagram per request.
  void fillSlots();
  /// Declares lost the requests older than `timeoutNanos` and re-issues them.
  void expire(std::int64_t now, std::int64_t timeoutNanos);

  void datagramReceived(reactor::ByteView datagram, const reactor::Address& addr) override;
  std::string logPrefix() const override { return "UdpClient"; }

 private:
  LoadGenerator& gen_;
  DatagramSlots slots_;
  std::size_t scheduleIndex_;
  reactor::Address server_;
  std::shared_ptr<reactor::IListeningPort> port_;
  std::vector<std::uint16_t> lost_;
};

}  // namespace bench
