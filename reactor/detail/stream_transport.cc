// The producer slot and the error and close helpers of the stream transports. The rules are the
// ones stated in stream_transport.h: pause on the high-water mark, resume on a full drain, an
// exception from a producer goes to the transport's error path, never further.
#include "reactor/detail/stream_transport.h"

#include <stdexcept>

#include "reactor/detail/access.h"
#include "reactor/log.h"

namespace reactor::detail {

bool ProducerSlot::admit(std::shared_ptr<IProducer>& producer, bool streaming, bool accepting) {
  if (producer_) throw std::logic_error("registerProducer: a producer is already registered");
  if (!accepting) {
    producer->stopProducing();
    return false;
  }
  producer_ = producer;
  streaming_ = streaming;
  paused_ = false;
  return true;
}

void ProducerSlot::registerProducer(std::shared_ptr<IProducer> producer, bool streaming, bool accepting,
                                    std::size_t buffered) {
  if (!admit(producer, streaming, accepting)) return;
  if (!streaming_) {
    producer_->resumeProducing();
  } else {
    checkHighWater(buffered);
  }
}

void ProducerSlot::unregister() {
  producer_.reset();
  paused_ = false;
}

void ProducerSlot::checkHighWater(std::size_t buffered) {
  if (!producer_ || !streaming_ || paused_ || buffered <= highWater_) return;
  paused_ = true;
  auto p = producer_;
  try {
    p->pauseProducing();
  } catch (...) {
    onError_(std::current_exception(), "pauseProducing");
  }
}

bool ProducerSlot::drained() {
  // Twisted resumes a paused push producer only when the buffer has fully drained; a pull
  // producer is asked for more on every drain (paused_ is never set for one).
  if (!producer_ || (streaming_ && !paused_)) return true;
  paused_ = false;
  auto p = producer_;
  try {
    p->resumeProducing();
  } catch (...) {
    onError_(std::current_exception(), "resumeProducing");
    return false;
  }
  return true;
}

void ProducerSlot::stop() {
  paused_ = false;
  if (auto producer = std::move(producer_)) {
    callSafely("stopProducing", [&] { producer->stopProducing(); });
  }
}

Failure reportUserError(std::exception_ptr error, const char* where, const Protocol* protocol, const std::string& who,
                        const char* what) {
  Failure f = Failure::fromException(error);
  log::error("exception in ", where, " (", protocol ? protocol->logPrefix() : "Protocol", ", ", who,
             "): ", f.getErrorMessage(), "; closing the ", what);
  return f;
}

void deliverConnectionLost(Protocol& protocol, const Failure& reason) {
  ProtocolAccess::markDisconnected(protocol);
  callSafely("connectionLost", [&] { protocol.connectionLost(reason); });
}

}  // namespace reactor::detail
