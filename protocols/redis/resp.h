// RESP, the Redis wire protocol, for the reactor's Redis client: commands are encoded here (an
// array of bulk strings, appended to a reusable buffer), replies are decoded by hiredis's reader
// (Debian's libhiredis) and handed out as a Reply view, so no header of ours names hiredis.
// Tests: tests/protocols/redis/resp_test.cc
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <span>
#include <string>
#include <string_view>

namespace redis {

/// Appends one command (`*N\r\n` then `$len\r\narg\r\n` per argument, the form every Redis
/// accepts, binary-safe) to `out`. Reuses `out`'s capacity: no allocation once it is large enough.
void appendCommand(std::string& out, std::span<const std::string_view> args);
void appendCommand(std::string& out, std::initializer_list<std::string_view> args);

/// Builds a command of `count` arguments one argument at a time, straight into `out` (an HMGET of a
/// register range without a vector of strings in between). Redis refuses a zero-padded count, so
/// the count is given first; complete() tells whether exactly that many arguments followed.
class CommandWriter {
 public:
  CommandWriter(std::string& out, std::size_t count);
  void arg(std::string_view value);
  void arg(std::int64_t value);
  bool complete() const { return written_ == count_; }

 private:
  std::string& out_;
  std::size_t count_;
  std::size_t written_ = 0;
};

/// A decoded reply (a view: valid as long as the object that handed it out).
class Reply {
 public:
  enum class Type { String, Array, Integer, Nil, Status, Error };

  explicit Reply(const void* hiredisReply) : reply_(hiredisReply) {}
  Type type() const;
  bool isError() const { return type() == Type::Error; }
  /// The text of a String, Status or Error reply; empty for the others.
  std::string_view string() const;
  std::int64_t integer() const;
  /// Elements of an Array reply (0 for the others).
  std::size_t size() const;
  Reply element(std::size_t i) const;

 private:
  const void* reply_;
};

/// Decodes replies from the bytes a connection receives, as many as are complete.
/// Throws ProtocolError from next() when the bytes are not RESP (the connection must be dropped).
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  void feed(std::span<const std::uint8_t> bytes);
  /// The next complete reply, or false when more bytes are needed. `visit` sees the reply before it
  /// is freed.
  template <class Visit>
  bool next(Visit&& visit) {
    const void* raw = take();
    if (raw == nullptr) return false;
    Holder holder(raw);
    visit(Reply(raw));
    return true;
  }
  /// Drops every byte and partial reply (a new connection starts clean).
  void reset();

 private:
  struct Holder {
    explicit Holder(const void* r) : reply(r) {}
    ~Holder();
    const void* reply;
  };
  const void* take();
  void* reader_;
};

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses decimal text into an integer in [min, max]; nullopt for anything else.
std::optional<std::int64_t> parseInteger(std::string_view text, std::int64_t min, std::int64_t max);

}  // namespace redis
