// RESP encoding (ours, into a reused string) and decoding (hiredis's redisReader).
#include "protocols/redis/resp.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <charconv>
#include <cstdio>
#include <new>

namespace redis {
namespace {

void appendNumber(std::string& out, char tag, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  (void)ec;
  out.push_back(tag);
  out.append(digits, end);
  out.append("\r\n");
}

void appendBulk(std::string& out, std::string_view value) {
  appendNumber(out, '$', value.size());
  out.append(value);
  out.append("\r\n");
}

const redisReply* raw(const void* r) { return static_cast<const redisReply*>(r); }

}  // namespace

void appendCommand(std::string& out, std::span<const std::string_view> args) {
  appendNumber(out, '*', args.size());
  for (std::string_view a : args) appendBulk(out, a);
}

void appendCommand(std::string& out, std::initializer_list<std::string_view> args) {
  appendCommand(out, std::span<const std::string_view>(args.begin(), args.size()));
}

CommandWriter::CommandWriter(std::string& out, std::size_t count) : out_(out), count_(count) {
  appendNumber(out_, '*', count);
}

void CommandWriter::arg(std::string_view value) {
  appendBulk(out_, value);
  ++written_;
}

void CommandWriter::arg(std::int64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec;
  arg(std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

Reply::Type Reply::type() const {
  switch (raw(reply_)->type) {
    case REDIS_REPLY_STRING: return Type::String;
    case REDIS_REPLY_ARRAY: return Type::Array;
    case REDIS_REPLY_INTEGER: return Type::Integer;
    case REDIS_REPLY_STATUS: return Type::Status;
    case REDIS_REPLY_ERROR: return Type::Error;
    default: return Type::Nil;
  }
}

std::string_view Reply::string() const {
  const redisReply* r = raw(reply_);
  if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_ERROR) return {};
  return std::string_view(r->str, r->len);
}

std::int64_t Reply::integer() const { return raw(reply_)->type == REDIS_REPLY_INTEGER ? raw(reply_)->integer : 0; }

std::size_t Reply::size() const { return raw(reply_)->type == REDIS_REPLY_ARRAY ? raw(reply_)->elements : 0; }

Reply Reply::element(std::size_t i) const { return Reply(raw(reply_)->element[i]); }

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

ReplyReader::~ReplyReader() { redisReaderFree(static_cast<redisReader*>(reader_)); }

ReplyReader::Holder::~Holder() { freeReplyObject(const_cast<void*>(reply)); }

void ReplyReader::feed(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return;
  if (redisReaderFeed(static_cast<redisReader*>(reader_), reinterpret_cast<const char*>(bytes.data()),
                      bytes.size()) != REDIS_OK) {
    throw ProtocolError("redis reply reader: out of memory");
  }
}

const void* ReplyReader::take() {
  void* reply = nullptr;
  auto* r = static_cast<redisReader*>(reader_);
  if (redisReaderGetReply(r, &reply) != REDIS_OK) throw ProtocolError(std::string("not RESP: ") + r->errstr);
  return reply;
}

void ReplyReader::reset() {
  redisReaderFree(static_cast<redisReader*>(reader_));
  reader_ = redisReaderCreate();
  if (reader_ == nullptr) throw std::bad_alloc();
}

std::optional<std::int64_t> parseInteger(std::string_view text, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace redis
