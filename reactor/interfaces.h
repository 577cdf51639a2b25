// Port of twisted.internet.interfaces: the contracts between the reactor, transports and protocols.
// Read every method as Twisted's docstring says: "thrown over the wall, to happen at some
// indeterminate time" — nothing here calls back into the protocol re-entrantly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "reactor/address.h"
#include "reactor/bytes.h"

namespace reactor {

/// A producer the consumer can pause (push) or ask for more (pull). Twisted's IPushProducer /
/// IPullProducer in one interface: a pull producer ignores pauseProducing.
class IProducer {
 public:
  virtual ~IProducer() = default;
  virtual void pauseProducing() {}
  virtual void resumeProducing() = 0;
  virtual void stopProducing() = 0;
};

/// A connected byte stream (TCP, TLS, serial). Every method is for the reactor thread only.
class ITransport : public IProducer {
 public:
  /// Queue bytes for sending; never blocks, never fails synchronously. Accepted while disconnecting
  /// (flushed before the close); ignored after connectionLost.
  virtual void write(ByteView data) = 0;
  /// As write for each piece, sent together (scatter/gather).
  virtual void writeSequence(std::span<const ByteView> pieces) = 0;
  /// Close after all pending data is written. connectionLost(ConnectionDone) follows, never from
  /// inside this call. With a registered pull producer, or a paused push producer, the close waits
  /// for unregisterProducer() (what Twisted's doWrite does).
  /// Idempotent.
  virtual void loseConnection() = 0;
  /// Close now, dropping pending data. connectionLost(ConnectionAborted) follows, never from inside
  /// this call. A second call, or loseConnection afterwards, does nothing.
  virtual void abortConnection() = 0;
  /// Twisted's loseWriteConnection: half-close. Once every pending byte is written, the write side
  /// is shut (shutdown(SHUT_WR): the peer reads EOF) while this side keeps reading. A protocol that
  /// implements IHalfCloseableProtocol then gets writeConnectionLost(); connectionLost comes when
  /// the peer closes its side too (or on loseConnection/abortConnection), still exactly once. Writes
  /// made after the shutdown has begun are ignored. Idempotent. TCP and UNIX sockets half-close;
  /// a transport that cannot (serial, TLS) closes entirely, which is this default.
  virtual void loseWriteConnection() { loseConnection(); }

  virtual Address getPeer() const = 0;
  virtual Address getHost() const = 0;

  /// True from makeConnection until connectionLost.
  virtual bool connected() const = 0;
  /// True once loseConnection/abortConnection was called.
  virtual bool disconnecting() const = 0;

  /// Bytes accepted by write() and not yet handed to the kernel.
  virtual std::size_t bufferedAmount() const = 0;
  /// Above this many buffered bytes a registered push producer is paused; it is resumed when the
  /// buffer has fully drained. 64 KiB by default (Twisted's bufferSize).
  virtual void setWriteHighWaterMark(std::size_t bytes) = 0;

  /// Twisted's IConsumer. Only one producer at a time (std::logic_error otherwise). A pull
  /// producer (streaming=false) is asked for data now and every time the buffer empties.
  virtual void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) = 0;
  virtual void unregisterProducer() = 0;

  // IProducer, for the transport's *input*: pauseProducing() stops reading, resumeProducing()
  // reads again (unless disconnecting), stopProducing() is loseConnection().
};

/// Twisted's IHalfCloseableProtocol: a Protocol that also derives from this opts in to half-close
/// on TCP and UNIX sockets. Without it, EOF from the peer closes the connection once what is queued
/// is written (connectionLost(ConnectionDone)).
class IHalfCloseableProtocol {
 public:
  virtual ~IHalfCloseableProtocol() = default;
  /// The peer shut its write side (we read EOF). The connection stays up: this side may still
  /// write, then call loseConnection() or loseWriteConnection(). When our write side is shut
  /// already, connectionLost(ConnectionDone) follows. An exception closes the connection.
  virtual void readConnectionLost() = 0;
  /// Our write side is shut (loseWriteConnection completed); reading goes on. When the peer's side
  /// is shut already, connectionLost(ConnectionDone) follows.
  virtual void writeConnectionLost() = 0;
};

/// TCP specifics (ITCPTransport). Connections on UNIX sockets offer it too (Twisted's unix.Server
/// is a tcp.Server): there the TCP options are ignored and read back false.
class ITCPTransport : public ITransport {
 public:
  virtual void setTcpNoDelay(bool enabled) = 0;
  virtual bool getTcpNoDelay() const = 0;
  /// SO_KEEPALIVE; the first probe goes after 60 s of silence.
  virtual void setTcpKeepAlive(bool enabled) = 0;
  virtual bool getTcpKeepAlive() const = 0;
};

/// What listenTCP/listenUDP/... return.
class IListeningPort {
 public:
  virtual ~IListeningPort() = default;
  /// Stop accepting. Connections already accepted stay up (as in Twisted). Idempotent.
  virtual void stopListening() = 0;
  /// The bound address; for port 0, the port the OS chose.
  virtual Address getHost() const = 0;
};

/// What connectTCP returns.
class IConnector {
 public:
  virtual ~IConnector() = default;
  /// Abandon a connection attempt in progress (clientConnectionFailed follows).
  virtual void stopConnecting() = 0;
  /// loseConnection on the connection, or stopConnecting while still connecting.
  virtual void disconnect() = 0;
  /// Try again (from clientConnectionFailed / clientConnectionLost, to reconnect).
  virtual void connect() = 0;
  virtual Address getDestination() const = 0;
};

class Factory;           // reactor/protocol.h
class ClientFactory;     // reactor/protocol.h
class DatagramProtocol;  // reactor/datagram_protocol.h

/// Twisted's IReactorTCP: what code that listens or connects needs of a reactor. Write a function
/// against it (not against Reactor) and a test can hand it a testing::MemoryReactor, which records
/// the calls instead of opening sockets. Reactor implements it; see Reactor for the semantics.
class IReactorTCP {
 public:
  virtual ~IReactorTCP() = default;
  virtual std::shared_ptr<IListeningPort> listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory,
                                                    int backlog = 50, std::string_view interface = {}) = 0;
  virtual std::shared_ptr<IConnector> connectTCP(std::string_view host, std::uint16_t port,
                                                 std::shared_ptr<ClientFactory> factory, double timeout = 30,
                                                 std::string_view bindAddress = {}) = 0;
};

/// Twisted's IReactorUNIX: stream connections on UNIX-domain sockets (a path on the filesystem).
class IReactorUNIX {
 public:
  virtual ~IReactorUNIX() = default;
  /// Listens on `address` (a path). `mode`: the socket file's permission bits (0666 as in Twisted),
  /// set before the port accepts anything. `wantPID`: Twisted's lockfile, "ADDRESS.lock" holding
  /// this process's pid; a socket left by a dead process is then removed and reused, one held by a
  /// live process refuses (CannotListenError). stopListening removes the socket file and the lock.
  virtual std::shared_ptr<IListeningPort> listenUNIX(std::string_view address, std::shared_ptr<Factory> factory,
                                                     int backlog = 50, unsigned mode = 0666,
                                                     bool wantPID = false) = 0;
  /// Connects to the socket at `address`; the ClientFactory hears the outcome as with connectTCP.
  virtual std::shared_ptr<IConnector> connectUNIX(std::string_view address, std::shared_ptr<ClientFactory> factory,
                                                  double timeout = 30) = 0;
};

/// Twisted's IReactorUDP, likewise.
class IReactorUDP {
 public:
  virtual ~IReactorUDP() = default;
  virtual std::shared_ptr<IListeningPort> listenUDP(std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                                                    std::string_view interface = {},
                                                    std::size_t maxPacketSize = 8192) = 0;
};

}  // namespace reactor
