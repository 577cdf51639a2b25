// The Modbus server side of one stream connection (TCP, TLS, RTU or ASCII over TCP): joins a
// framer to a stream transport. pymodbus calls it ModbusTcpProtocol (server/async.py); that name
// stays as an alias (below, and in modbus_tcp_protocol.h).
// The path of one request (DESIGN.md): dataReceived → the framer decodes every complete frame →
// RequestProcessor executes it against the datastore, encoding the response straight into this
// connection's output buffer → one transport write per read batch.
// Tests: tests/protocols/serving/modbus_stream_protocol_test.cc
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "framers/buffer.h"
#include "framers/framer.h"
#include "protocols/serving/frame_server.h"
#include "protocols/serving/serving_metrics.h"
#include "reactor/delayed_call.h"
#include "reactor/protocol.h"

namespace modbus {

class ModbusServerFactory;
class AsyncDevice;

/// One per connection. Pipelined requests are all answered, in order. Malformed input gets the
/// spec's answer; only an MBAP length that cannot be resynchronised closes the connection.
/// Also a push producer, so output and input are bounded per connection: once the answers of a
/// batch plus what the transport still holds pass maxBufferedOutput, decoding stops, the answers go
/// out and the rest of the batch waits unread in the input buffer (at most one read chunk); the
/// transport pauses us and we stop reading the socket. When the client has read everything
/// (resumeProducing) the held requests are answered, then reading resumes.
///
/// Asynchronous units (RequestProcessor::setAsyncDevice): each request keeps its own header
/// (transaction id) and the answers leave in the order the requests came — a FIFO of pending
/// answers per connection; synchronous answers behind a pending one wait in it (copied, the only
/// allocation on that path). With more than maxPendingRequests waiting, reading stops until
/// answers go out. With no asynchronous unit and no trace hook, the path is the allocation-free
/// one: encoded straight into the output buffer, one write per read batch.
///
/// Deadlines (ServerOptions, on the factory's clock): idleTimeout from the last byte received;
/// frameTimeout from the first byte of a frame that is still incomplete (trickling a frame byte by
/// byte does not keep a connection). Both close the connection; every close is counted in the
/// factory's ConnectionLog.
///
/// Hooks (ServerOptions): traceConnect on connect and disconnect; tracePacket on each received
/// chunk and each frame sent; tracePdu on each request before it runs and each answer before it
/// is framed. responseHook (response_hook.h) on each answer before it is sent: it may rewrite it,
/// silence it, replace it with junk, split it in two writes or delay it, the order kept.
///
/// Subclass hooks (pymodbus 1.x's ModbusTcpProtocol._execute and _send): execute() runs each
/// request, send() sees each answer before it is framed. A server uses a subclass through
/// ModbusServerFactory::makeProtocol. The defaults cost one virtual call each per request and
/// keep the path allocation-free.
class ModbusStreamProtocol : public reactor::Protocol, public reactor::IProducer {
 public:
  explicit ModbusStreamProtocol(std::unique_ptr<Framer> framer);
  ~ModbusStreamProtocol() override;

  void connectionMade() override;
  void dataReceived(reactor::ByteView data) override;
  void connectionLost(const reactor::Failure& reason) override;
  std::string logPrefix() const override { return "ModbusStreamProtocol"; }

  // IProducer: the transport pauses us when its output passes the high-water mark.
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override {}

  /// Requests answered on this connection.
  std::size_t requestCount() const { return requests_; }
  /// Answers waiting for an asynchronous answer ahead of them (or being that answer).
  std::size_t pendingCount() const { return pending_.size(); }
  /// Since when this connection has made no progress (clock seconds): the start of a frame still
  /// incomplete, else the last byte received. The factory evicts the stalest to make room.
  double staleSince() const { return frameStarted_ ? frameStart_ : lastActivity_; }
  /// This connection's number, unique in the process (1, 2, ...; 0 before connectionMade).
  std::uint64_t connectionId() const { return connectionId_; }
  /// When it connected (the factory's clock seconds; 0 without a clock).
  double connectedAt() const { return connectedAt_; }
  /// Bytes received and not yet decoded: a split frame, or requests held while the output is full.
  std::size_t bufferedInput() const { return input_.readableBytes(); }

 protected:
  /// Called for every decoded request before it runs. Return true to execute it; return false to
  /// send `response[0, responseLength)` instead (responseLength 0 = no answer). The TLS server
  /// checks the client's role here.
  virtual bool authorize(std::uint8_t unitId, std::span<const std::uint8_t> pdu, std::span<std::uint8_t> response,
                         std::size_t& responseLength) {
    (void)unitId;
    (void)pdu;
    (void)response;
    (void)responseLength;
    return true;
  }
  ModbusServerFactory& serverFactory() const { return *serverFactory_; }

  /// pymodbus 1.x's _execute: runs the request PDU `request` for `unitId` and writes the answer PDU
  /// into `response` (room for kMaxPduSize bytes), returning what it gave (Send with its length,
  /// Silence, or Pending when an asynchronous unit will answer later). The default runs it against
  /// the factory's datastore (the RequestProcessor, or the unit's asynchronous device). Override it
  /// to observe a request, run another PDU instead (call this with it), or change the answer after
  /// this returns. An exception it throws is logged and answered with exception 04. Called after
  /// authorize() and the tracePdu hook.
  virtual Answer execute(std::uint8_t unitId, std::span<const std::uint8_t> request, std::span<std::uint8_t> response);
  /// pymodbus 1.x's _send: the answer `response[0, length)` (a PDU; room for kMaxPduSize bytes) to
  /// the request with `header` is about to be framed and written. Override it to observe or rewrite
  /// it in place (setting `length`; 0 sends nothing). Every answer passes here once, in request
  /// order, asynchronous ones included (after the responseHook's plan; not a hook's junk bytes).
  /// The default does nothing. An exception it throws is logged and the answer goes out unchanged.
  virtual void send(const FrameHeader& header, std::span<std::uint8_t> response, std::size_t& length) {
    (void)header;
    (void)response;
    (void)length;
  }

 private:
  /// An answer in the FIFO: ready once its PDU is known (empty PDU = no answer).
  struct PendingAnswer {
    FrameHeader header;
    std::uint8_t functionCode = 0;
    bool ready = false;
    bool raw = false;  // `pdu` holds wire bytes to send as they are (a response hook's junk or half frame)
    double receivedAt = -1;  // the read that brought its request (clock seconds); < 0: not timed (junk, a first half)
    std::vector<std::uint8_t> pdu;
  };

  struct StreamPolicy;

  void handleRequest(const FrameHeader& header, std::span<const std::uint8_t> request);
  /// authorize, then execute(); hands the request to an asynchronous device (pending = true).
  std::size_t runRequest(const FrameHeader& header, std::span<const std::uint8_t> request,
                         std::span<std::uint8_t> response, bool& pending);
  /// send(), with what it throws logged.
  void sendHook(const FrameHeader& header, std::span<std::uint8_t> response, std::size_t& length);
  void startAsync(const FrameHeader& header, std::span<const std::uint8_t> request, AsyncDevice& device);
  void complete(std::uint64_t slot, std::span<const std::uint8_t> pdu);
  /// Asks the response hook how the answer `response[0, length)` leaves. True: send it (length may
  /// have changed; 0 = nothing); false: the hook's plan took it (junk, split or delayed answer).
  bool planResponse(const FrameHeader& header, std::span<const std::uint8_t> request,
                    std::span<std::uint8_t> response, std::size_t& length);
  /// Wire bytes after every answer before them: into the output, or in line behind a pending one.
  void queueRaw(std::vector<std::uint8_t> bytes);
  /// Reserves an answer slot completed `delay` seconds from now with `bytes` (framed PDU, or raw).
  void completeLater(const FrameHeader& header, std::uint8_t functionCode, double delay,
                     std::vector<std::uint8_t> bytes, bool raw);
  /// Sends every ready answer at the front of the FIFO.
  void drainPending();
  /// The tracePdu hook on a copy of `pdu` (which it may rewrite); false = drop it. A throwing hook keeps it.
  bool tracePdu(bool isResponse, std::uint8_t unitId, std::span<const std::uint8_t> pdu,
                std::vector<std::uint8_t>& copy);
  /// Frames one answer into the output (after tracePdu / tracePacket); an empty PDU sends nothing.
  void emit(const FrameHeader& header, std::span<const std::uint8_t> pdu);
  /// Decodes `data` after what input_ holds, until the input is done or the output is full.
  void serveInput(reactor::ByteView data);
  /// Stops reading and answers the rest of input_ on the reactor's next turn (fairness).
  void continueNextTurn();
  void updateReading();
  void flushOutput();
  /// The earlier of lastActivity_ + idleTimeout and frameStart_ + frameTimeout (infinity if neither).
  double nextDeadline() const;
  /// Makes the one timer fire no later than nextDeadline().
  void armDeadline();
  /// Closes the connection for the deadline that passed (frame, then idle), or re-arms.
  void onDeadline();

  std::unique_ptr<Framer> framer_;
  ModbusServerFactory* serverFactory_ = nullptr;
  std::optional<FrameServer> core_;  // from connectionMade, when the factory's processor is known
  Buffer input_;
  Buffer output_;
  reactor::IReactorTime* clock_ = nullptr;  // the factory's; without one, no deadlines
  reactor::DelayedCall deadline_;
  reactor::DelayedCall continuation_;  // continueNextTurn's call, while one is due
  std::vector<reactor::DelayedCall> planned_;  // a response hook's delayed answers (cancelled on close)
  double lastActivity_ = 0;
  double connectedAt_ = 0;
  std::uint64_t connectionId_ = 0;
  double frameStart_ = 0;
  bool frameStarted_ = false;  // input_ holds the start of an incomplete frame
  std::size_t requests_ = 0;
  // Metrics (serving_metrics.h): the factory's, kept alive by this connection; null without a factory.
  std::shared_ptr<ServingMetrics> metrics_;
  double batchStart_ = 0;          // when the read that brought the requests being answered came
  std::size_t unsentAnswers_ = 0;  // synchronous answers in output_, timed when it is written
  bool registeredProducer_ = false;
  // Asynchronous answers and hooks (untouched on the plain path).
  // A vector, not a deque: libstdc++'s deque allocates ~600 bytes as soon as it is constructed,
  // which every idle connection would pay for. At most maxPendingRequests long.
  std::vector<PendingAnswer> pending_;
  std::uint64_t firstSlot_ = 0;  // slot number of pending_.front()
  bool inBatch_ = false;
  bool pausedByTransport_ = false;
  bool pausedForPending_ = false;
  bool outputHeld_ = false;  // decoding stopped with whole requests left in input_ (output full)
  std::vector<std::uint8_t> traceRequest_;
  std::vector<std::uint8_t> traceResponse_;
  std::vector<std::uint8_t> tracePacket_;
};

/// pymodbus's name (server/async.py), for porting users.
using ModbusTcpProtocol = ModbusStreamProtocol;

}  // namespace modbus
