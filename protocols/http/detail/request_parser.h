// The request side of HTTP/1.1 on Debian's libhttp-parser (2.9): bytes in, one Request at a time out,
// or the status that refuses the input. Pure: no I/O, no reactor, so it is tested byte by byte and
// fuzzed. Not installed (detail/): http_parser.h stays out of public headers.
//
// Rules it keeps:
// - feed() stops after each complete request (the parser is paused in on_message_complete), so the
//   caller answers pipelined requests one by one, in order; the bytes after it are fed again.
// - Limits, checked as the bytes arrive (never after buffering them): request line plus header
//   fields over maxHeaderBytes, or more than maxHeaderCount fields (trailers count) → 431; a
//   Content-Length, or a de-chunked body, over maxBodyBytes → 413; anything http_parser refuses → 400.
// - After an error the parser stays failed: every further feed() reports the same error.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "protocols/http/http_message.h"

namespace http::detail {

struct ParserLimits {
  std::size_t maxHeaderBytes = 8 * 1024;
  std::size_t maxHeaderCount = 100;
  std::size_t maxBodyBytes = 1024 * 1024;
};

class RequestParser {
 public:
  enum class Status { NeedMore, Request, Error };
  struct Result {
    Status status = Status::NeedMore;
    std::size_t consumed = 0;  ///< bytes of the input used (all of it for NeedMore)
    int errorStatus = 0;       ///< 400, 413 or 431 for Error
  };

  explicit RequestParser(ParserLimits limits = {});
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  Result feed(std::string_view data);
  /// The request feed() just reported (moved out).
  Request takeRequest();
  /// True once a byte of a request that is not complete yet has arrived.
  bool midRequest() const;
  /// The last request asked to switch protocols (Upgrade, CONNECT): nothing after it is HTTP.
  bool upgraded() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace http::detail
