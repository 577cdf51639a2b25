// Port of twisted.internet.protocol.DatagramProtocol and interfaces.IUDPTransport (udp.Port).
// Tests: tests/reactor/udp_test.cc
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "reactor/address.h"
#include "reactor/bytes.h"
#include "reactor/log.h"

namespace reactor {

/// Twisted's MessageLengthError: the datagram is larger than the socket can send (EMSGSIZE).
class MessageLengthError : public std::length_error {
 public:
  using std::length_error::length_error;
};

/// Twisted's InvalidAddressError: write() got something that is not an IP literal and port of the
/// socket's family.
class InvalidAddressError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// What listenUDP hands the protocol: Twisted's IUDPTransport (unconnected, or connect()ed) and
/// IMulticastTransport. Reactor thread only. The connected-mode and multicast methods have
/// defaults that throw std::logic_error, so a test double need only implement the rest.
/// Tests: tests/reactor/udp_test.cc, udp_connected_test.cc, multicast/udp_multicast_test.cc
class IUDPTransport {
 public:
  virtual ~IUDPTransport() = default;

  /// Sends one datagram to `addr` (an IP literal and a port). Never blocks: what the kernel cannot
  /// take at once is copied and sent when the socket is writable. Throws InvalidAddressError for an
  /// address that is not an IP literal of the socket's family and MessageLengthError for a datagram
  /// the socket cannot carry; ECONNREFUSED from an earlier datagram is ignored (as in Twisted); other
  /// send errors are logged and the datagram dropped (UDP promises no delivery). Ignored after
  /// stopListening().
  virtual void write(ByteView datagram, const Address& addr) = 0;
  /// Sends the pieces as one datagram to `addr` (Twisted's writeSequence).
  virtual void writeSequence(std::span<const ByteView> pieces, const Address& addr) = 0;
  /// Twisted's write(data) without an address: to the connect()ed peer. Throws std::logic_error
  /// when the port is not connected.
  void write(ByteView datagram) { write(datagram, Address{}); }

  /// Twisted's connect(host, port): from now on this port exchanges datagrams with that peer only.
  /// The kernel drops datagrams from anyone else; write() needs no address (one given must be the
  /// peer's); an ICMP "port unreachable" for what we sent calls the protocol's connectionRefused().
  /// Once per port (Twisted: "already connected" is an error), IP literals only
  /// (InvalidAddressError), std::logic_error when connected already or not listening.
  virtual void connect(const std::string& host, std::uint16_t port) {
    (void)host;
    (void)port;
    throw std::logic_error("connect: this transport has no connected mode");
  }
  /// The connected peer, or an Address of Type::None when not connected.
  virtual Address getPeer() const { return Address{}; }

  // --- Twisted's IMulticastTransport ----------------------------------------------------------------
  /// Joins the multicast group `address` on the interface with the IP `interface` ("" = the
  /// kernel's choice). Throws std::runtime_error naming the group and the OS error.
  virtual void joinGroup(const std::string& address, const std::string& interface = {}) {
    (void)address;
    (void)interface;
    throw std::logic_error("joinGroup: this transport has no multicast");
  }
  virtual void leaveGroup(const std::string& address, const std::string& interface = {}) {
    (void)address;
    (void)interface;
    throw std::logic_error("leaveGroup: this transport has no multicast");
  }
  /// Whether our own multicast datagrams come back to sockets of this host (on by default).
  virtual void setLoopbackMode(bool enabled) {
    (void)enabled;
    throw std::logic_error("setLoopbackMode: this transport has no multicast");
  }
  virtual bool getLoopbackMode() const { return true; }
  /// Time-to-live of the multicast datagrams we send (1 by default: this network only).
  virtual void setTTL(int ttl) {
    (void)ttl;
    throw std::logic_error("setTTL: this transport has no multicast");
  }
  virtual int getTTL() const { return 1; }
  /// The interface (an IP) multicast datagrams are sent from.
  virtual void setOutgoingInterface(const std::string& interface) {
    (void)interface;
    throw std::logic_error("setOutgoingInterface: this transport has no multicast");
  }
  /// The bound address; for port 0, the port the OS chose.
  virtual Address getHost() const = 0;
  /// Stops receiving and closes the socket; the protocol's stopProtocol() follows. Idempotent.
  virtual void stopListening() = 0;
  /// SO_BROADCAST.
  virtual void setBroadcastAllowed(bool enabled) = 0;
  virtual bool getBroadcastAllowed() const = 0;
  /// Received datagrams longer than this are truncated to it (Twisted's maxPacketSize).
  virtual std::size_t maxPacketSize() const = 0;
  /// Datagrams copied and waiting for the socket to become writable.
  virtual std::size_t queuedDatagrams() const = 0;
};

/// Subclass this and override the hooks; pass an instance straight to Reactor::listenUDP (there is
/// no factory: one protocol instance serves every peer of its port, as in Twisted).
///
/// Lifetime follows Twisted's AbstractDatagramProtocol: makeConnection → startProtocol →
/// datagramReceived* → stopProtocol (when the port stops listening). An exception thrown from
/// datagramReceived is logged and swallowed; the port stays open (unlike a TCP protocol).
class DatagramProtocol : public std::enable_shared_from_this<DatagramProtocol> {
 public:
  virtual ~DatagramProtocol() = default;

  /// Framework only: sets transport() and calls startProtocol() when this is its first port.
  /// Throws std::logic_error when the protocol already has a transport (one port at a time).
  void makeConnection(IUDPTransport* transport) {
    if (transport_ != nullptr) throw std::logic_error("DatagramProtocol::makeConnection: already connected");
    transport_ = transport;
    doStart();
  }
  /// Framework only: counts ports up; startProtocol() runs when the count goes 0 → 1.
  void doStart() {
    if (numPorts_++ == 0) {
      log::debug("starting protocol ", logPrefix());
      startProtocol();
    }
  }
  /// Framework only: forgets the transport; stopProtocol() runs when the count goes 1 → 0.
  void doStop() {
    if (numPorts_ == 0) return;
    transport_ = nullptr;
    if (--numPorts_ == 0) {
      log::debug("stopping protocol ", logPrefix());
      stopProtocol();
    }
  }

  /// Called when the protocol starts listening on its (first) port.
  virtual void startProtocol() {}
  /// Called when the protocol stops listening on its (last) port.
  virtual void stopProtocol() {}
  /// One datagram. `datagram` is borrowed for this call only; `addr` is the sender (type UDP).
  virtual void datagramReceived(ByteView datagram, const Address& addr) {
    (void)datagram;
    (void)addr;
  }
  /// Twisted's connectionRefused: on a connect()ed port, the peer answered a datagram with ICMP
  /// "port unreachable" (nobody listens there). The port stays open.
  virtual void connectionRefused() {}

  /// The port, from makeConnection until it stops listening. Throws std::logic_error otherwise.
  IUDPTransport& transport() const {
    if (transport_ == nullptr) throw std::logic_error("DatagramProtocol::transport: not listening");
    return *transport_;
  }
  bool hasTransport() const { return transport_ != nullptr; }
  int numPorts() const { return numPorts_; }

  virtual std::string logPrefix() const { return "DatagramProtocol"; }

 private:
  IUDPTransport* transport_ = nullptr;
  int numPorts_ = 0;
};

}  // namespace reactor
