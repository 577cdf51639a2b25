// RequestParser on http_parser 2.9: the callbacks gather one Request and enforce the limits as bytes
// arrive. See request_parser.h for the rules.
#include "protocols/http/detail/request_parser.h"

#include <http_parser.h>

#include <string>
#include <utility>
#include <vector>

namespace http::detail {

struct RequestParser::Impl {
  explicit Impl(ParserLimits l) : limits(l) {
    http_parser_settings_init(&settings);
    settings.on_message_begin = [](http_parser* p) { return self(p).onMessageBegin(); };
    settings.on_url = [](http_parser* p, const char* at, std::size_t n) { return self(p).onUrl(at, n); };
    settings.on_header_field = [](http_parser* p, const char* at, std::size_t n) { return self(p).onField(at, n); };
    settings.on_header_value = [](http_parser* p, const char* at, std::size_t n) { return self(p).onValue(at, n); };
    settings.on_headers_complete = [](http_parser* p) { return self(p).onHeadersComplete(); };
    settings.on_body = [](http_parser* p, const char* at, std::size_t n) { return self(p).onBody(at, n); };
    settings.on_message_complete = [](http_parser* p) { return self(p).onMessageComplete(); };
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
  }

  static Impl& self(http_parser* p) { return *static_cast<Impl*>(p->data); }

  // A non-zero return makes http_parser stop with an HPE_CB_* error; errorStatus says which answer.
  int fail(int status) {
    errorStatus = status;
    return 1;
  }
  bool addHeaderBytes(std::size_t n) {
    headerBytes += n;
    return headerBytes <= limits.maxHeaderBytes;
  }

  int onMessageBegin() {
    current = Request{};
    fields.clear();
    headerBytes = 0;
    inValue = false;
    inRequest = true;
    return 0;
  }
  int onUrl(const char* at, std::size_t n) {
    if (!addHeaderBytes(n)) return fail(431);
    current.target.append(at, n);
    return 0;
  }
  // http_parser may hand a name or a value over in pieces (split reads): a name callback after a
  // value (or first) starts a new field, otherwise it continues the last one.
  int onField(const char* at, std::size_t n) {
    if (!addHeaderBytes(n)) return fail(431);
    if (fields.empty() || inValue) {
      if (current.headers.size() + fields.size() >= limits.maxHeaderCount) return fail(431);  // trailers too
      fields.emplace_back();
      inValue = false;
    }
    fields.back().first.append(at, n);
    return 0;
  }
  int onValue(const char* at, std::size_t n) {
    if (!addHeaderBytes(n)) return fail(431);
    if (fields.empty()) return fail(400);
    inValue = true;
    fields.back().second.append(at, n);
    return 0;
  }
  void moveFields() {
    for (auto& f : fields) current.headers.add(std::move(f.first), std::move(f.second));
    fields.clear();
    inValue = false;
  }
  int onHeadersComplete() {
    moveFields();
    current.method = http_method_str(static_cast<http_method>(parser.method));
    current.versionMajor = parser.http_major;
    current.versionMinor = parser.http_minor;
    std::string_view target = current.target;
    std::size_t q = target.find('?');
    std::size_t hash = target.find('#');
    current.path = std::string(target.substr(0, std::min(q, hash)));
    if (q != std::string_view::npos) current.query = std::string(target.substr(q + 1, hash == std::string_view::npos ? hash : hash - q - 1));
    if ((parser.flags & F_CONTENTLENGTH) != 0 && parser.content_length > limits.maxBodyBytes) {
      errorStatus = 413;
      return -1;
    }
    return 0;
  }
  int onBody(const char* at, std::size_t n) {
    if (n > limits.maxBodyBytes - current.body.size()) return fail(413);
    current.body.append(at, n);
    return 0;
  }
  int onMessageComplete() {
    moveFields();  // trailers of a chunked body
    current.keepAlive = http_should_keep_alive(&parser) != 0;
    inRequest = false;
    ready = true;
    http_parser_pause(&parser, 1);
    return 0;
  }

  ParserLimits limits;
  http_parser_settings settings{};
  http_parser parser{};
  Request current;
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t headerBytes = 0;
  bool inValue = false;
  bool inRequest = false;
  bool ready = false;
  int errorStatus = 0;
  bool failed = false;
};

RequestParser::RequestParser(ParserLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
RequestParser::~RequestParser() = default;

RequestParser::Result RequestParser::feed(std::string_view data) {
  Impl& d = *impl_;
  if (d.failed) return {Status::Error, 0, d.errorStatus};
  if (d.parser.upgrade) return {Status::Error, 0, 400};  // nothing after an upgrade is HTTP
  d.ready = false;
  // http_parser treats a zero-length execute as end of input; the caller never means that.
  if (data.empty()) return {Status::NeedMore, 0, 0};
  std::size_t n = http_parser_execute(&d.parser, &d.settings, data.data(), data.size());
  auto err = static_cast<http_errno>(d.parser.http_errno);
  if (d.ready) {
    if (err == HPE_PAUSED) http_parser_pause(&d.parser, 0);
    return {Status::Request, n, 0};
  }
  if (err != HPE_OK) {
    d.failed = true;
    if (d.errorStatus == 0) d.errorStatus = err == HPE_HEADER_OVERFLOW ? 431 : 400;
    return {Status::Error, n, d.errorStatus};
  }
  return {Status::NeedMore, n, 0};
}

Request RequestParser::takeRequest() { return std::move(impl_->current); }

bool RequestParser::midRequest() const { return impl_->inRequest; }

bool RequestParser::upgraded() const { return impl_->parser.upgrade != 0; }

}  // namespace http::detail
