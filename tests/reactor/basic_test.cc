// Tests for reactor/basic.h, after Twisted's test_basic.py (LineReceiverTests, IntNTestCaseMixin,
// NetstringReceiverTests): every stream is also fed split at each offset and byte by byte, and must
// give the same messages.
#include "reactor/basic.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/reactor_harness.h"

namespace {

using reactor::ByteView;
using reactor::asBytes;
using reactor::testing::StringTransport;

template <class P>
struct Connected {
  std::shared_ptr<P> protocol = std::make_shared<P>();
  std::shared_ptr<StringTransport> transport = std::make_shared<StringTransport>();
  Connected() { protocol->makeConnection(transport); }
  void feed(std::string_view data) { protocol->dataReceived(asBytes(data)); }
};

/// Twisted's LineTester: "len N" switches to raw mode for N bytes; "produce"/"pause" pause it;
/// "clear" empties the buffer; "close" loses the connection.
class LineTester : public reactor::LineReceiver {
 public:
  std::vector<std::string> received;
  std::vector<std::string> exceeded;
  std::string cleared;
  std::size_t rawLeft = 0;

  void lineReceived(std::string_view line) override {
    received.emplace_back(line);
    if (line.substr(0, 4) == "len ") {
      rawLeft = std::stoul(std::string(line.substr(4)));
      received.emplace_back();
      setRawMode();
    } else if (line == "pause") {
      pauseProducing();
    } else if (line == "clear") {
      cleared = clearLineBuffer();
    } else if (line == "close") {
      transport().loseConnection();
    }
  }
  void rawDataReceived(ByteView data) override {
    std::string_view text = reactor::asText(data);
    std::string_view mine = text.substr(0, rawLeft);
    received.back().append(mine);
    rawLeft -= mine.size();
    if (rawLeft == 0) setLineMode(text.substr(mine.size()));
  }
  void lineLengthExceeded(std::string_view line) override {
    exceeded.emplace_back(line);
    LineReceiver::lineLengthExceeded(line);
  }
};

/// What `P` receives from `stream` fed in the chunks given by `cuts` (offsets), as a list of strings.
template <class P, class Collect>
std::vector<std::string> feedCut(const std::string& stream, const std::vector<std::size_t>& cuts, Collect collect,
                                 void (*setup)(P&) = nullptr) {
  Connected<P> c;
  if (setup) setup(*c.protocol);
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    c.feed(std::string_view(stream).substr(from, cut - from));
    from = cut;
  }
  c.feed(std::string_view(stream).substr(from));
  return collect(*c.protocol);
}

/// Checks that every split of `stream` in two, and the byte-by-byte feed, give `expected`.
template <class P, class Collect>
void checkEverySplit(const std::string& stream, const std::vector<std::string>& expected, Collect collect,
                     void (*setup)(P&) = nullptr) {
  for (std::size_t k = 0; k <= stream.size(); ++k) {
    CAPTURE(k);
    CHECK(feedCut<P>(stream, {k}, collect, setup) == expected);
  }
  std::vector<std::size_t> everyByte;
  for (std::size_t k = 1; k < stream.size(); ++k) everyByte.push_back(k);
  CHECK(feedCut<P>(stream, everyByte, collect, setup) == expected);
}

// --- LineReceiver -------------------------------------------------------------------------------

TEST_CASE("LineReceiver delivers each line whole, at any split, switching to raw mode and back (test_buffer)") {
  const std::string stream = "len 10\r\n0123456789len 5\r\n1234\nlen 0\r\nfoo 5\r\n\r\nlen 1\r\na";
  const std::vector<std::string> expected{"len 10", "0123456789", "len 5", "1234\n", "len 0", "", "foo 5", "", "len 1", "a"};
  checkEverySplit<LineTester>(stream, expected, [](LineTester& p) { return p.received; });
}

TEST_CASE("LineReceiver delimiter can be changed, and sendLine appends it") {
  Connected<LineTester> c;
  c.protocol->delimiter = "\n";
  c.feed("one\ntwo\r\nthree");
  CHECK(c.protocol->received == std::vector<std::string>{"one", "two\r"});
  c.protocol->sendLine("hello");
  CHECK(c.transport->value() == "hello\n");
}

TEST_CASE("LineReceiver pauseProducing stops delivery and reading, and resumeProducing delivers the rest (test_pausing)") {
  Connected<LineTester> c;
  c.feed("a\r\npause\r\nb\r\nc\r\n");
  CHECK(c.protocol->received == std::vector<std::string>{"a", "pause"});
  CHECK(c.protocol->paused());
  CHECK(c.transport->producerState() == StringTransport::ProducerState::Paused);
  c.feed("d\r\n");  // buffered while paused
  CHECK(c.protocol->received.size() == 2);
  c.protocol->resumeProducing();
  CHECK(c.transport->producerState() == StringTransport::ProducerState::Producing);
  CHECK(c.protocol->received == std::vector<std::string>{"a", "pause", "b", "c", "d"});
}

TEST_CASE("LineReceiver stopProducing pauses for good and loses the connection") {
  Connected<LineTester> c;
  c.protocol->stopProducing();
  c.feed("a\r\n");
  CHECK(c.protocol->received.empty());
  CHECK(c.transport->disconnecting());
}

TEST_CASE("LineReceiver clearLineBuffer drops and returns what follows the current line (test_clearLineBuffer)") {
  Connected<LineTester> c;
  c.feed("clear\r\nlost\r\nalso lost");
  CHECK(c.protocol->received == std::vector<std::string>{"clear"});
  CHECK(c.protocol->cleared == "lost\r\nalso lost");
  c.feed("next\r\n");
  CHECK(c.protocol->received == std::vector<std::string>{"clear", "next"});
}

TEST_CASE("LineReceiver delivers no more lines once the transport is disconnecting") {
  Connected<LineTester> c;
  c.feed("a\r\nclose\r\nb\r\nc\r\n");
  CHECK(c.protocol->received == std::vector<std::string>{"a", "close"});
  CHECK(c.transport->disconnecting());
}

TEST_CASE("LineReceiver: a line longer than maxLength calls lineLengthExceeded with the rest and loses the connection") {
  Connected<LineTester> c;
  c.protocol->maxLength = 8;
  c.feed("ok\r\n123456789\r\nafter\r\n");
  CHECK(c.protocol->received == std::vector<std::string>{"ok"});
  CHECK(c.protocol->exceeded == std::vector<std::string>{"123456789\r\nafter\r\n"});
  CHECK(c.transport->disconnecting());
}

TEST_CASE("LineReceiver: an unfinished line past maxLength + delimiter is exceeded before its end arrives") {
  Connected<LineTester> c;
  c.protocol->maxLength = 8;
  c.feed("123456789");  // 9 bytes could still be 8 + "\r"
  CHECK(c.protocol->exceeded.empty());
  c.feed("0");
  CHECK(c.protocol->exceeded == std::vector<std::string>{"1234567890"});
  CHECK(c.transport->disconnecting());
}

TEST_CASE("LineReceiver: a line of exactly maxLength is a line, even with its delimiter split") {
  Connected<LineTester> c;
  c.protocol->maxLength = 8;
  c.feed("12345678\r");
  c.feed("\n");
  CHECK(c.protocol->received == std::vector<std::string>{"12345678"});
  CHECK(c.protocol->exceeded.empty());
  CHECK_FALSE(c.transport->disconnecting());
}

TEST_CASE("LineReceiver handles thousands of lines in one chunk without recursion (test_stackRecursion)") {
  Connected<LineTester> c;
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "x\r\n";
  c.feed(many);
  CHECK(c.protocol->received.size() == 5000);
}

TEST_CASE("LineReceiver setLineMode(extra) from rawDataReceived only appends while a delivery runs") {
  // LineTester's rawDataReceived hands the bytes past its raw block back through setLineMode(extra),
  // inside the delivery loop: the lines in them still arrive in order, once.
  Connected<LineTester> c;
  c.feed("len 3\r\nabcline1\r\nline2\r\n");
  CHECK(c.protocol->received == std::vector<std::string>{"len 3", "abc", "line1", "line2"});
}

// --- IntNStringReceiver -------------------------------------------------------------------------

template <class Base>
class StringCollector : public Base {
 public:
  std::vector<std::string> strings;
  std::vector<std::size_t> tooLong;
  void stringReceived(ByteView s) override { strings.emplace_back(reactor::asText(s)); }
  void lengthLimitExceeded(std::size_t length) override {
    tooLong.push_back(length);
    Base::lengthLimitExceeded(length);
  }
};
using Int32Collector = StringCollector<reactor::Int32StringReceiver>;
using Int16Collector = StringCollector<reactor::Int16StringReceiver>;
using Int8Collector = StringCollector<reactor::Int8StringReceiver>;

std::string prefixed32(const std::string& s) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>(s.size() >> (8 * (3 - i)));
  return out + s;
}

TEST_CASE("Int32StringReceiver delivers each string whole at any split (test_receive, test_partial)") {
  const std::string stream = prefixed32("hello") + prefixed32("") + prefixed32("world!") + prefixed32(std::string(300, 'z'));
  checkEverySplit<Int32Collector>(stream, {"hello", "", "world!", std::string(300, 'z')},
                                  [](Int32Collector& p) { return p.strings; });
}

TEST_CASE("Int16StringReceiver and Int8StringReceiver read their own prefix widths at any split") {
  checkEverySplit<Int16Collector>(std::string("\x00\x03" "abc" "\x00\x01" "d", 8), {"abc", "d"},
                                  [](Int16Collector& p) { return p.strings; });
  checkEverySplit<Int8Collector>(std::string("\x02" "ab" "\x00" "\x01" "c", 6), {"ab", "", "c"},
                                 [](Int8Collector& p) { return p.strings; });
}

TEST_CASE("IntNStringReceiver sendString writes the big-endian length and the string (test_send)") {
  Connected<Int32Collector> c32;
  c32.protocol->sendString("abc");
  CHECK(c32.transport->value() == std::string("\x00\x00\x00\x03" "abc", 7));
  Connected<Int16Collector> c16;
  c16.protocol->sendString(std::string(258, 'q'));
  CHECK(c16.transport->value().substr(0, 2) == std::string("\x01\x02", 2));
  CHECK(c16.transport->value().size() == 260);
}

TEST_CASE("IntNStringReceiver sendString of a string too long for the prefix throws StringTooLongError") {
  Connected<Int8Collector> c8;
  CHECK_THROWS_AS(c8.protocol->sendString(std::string(256, 'x')), reactor::StringTooLongError);
  CHECK_NOTHROW(c8.protocol->sendString(std::string(255, 'x')));
  Connected<Int16Collector> c16;
  CHECK_THROWS_AS(c16.protocol->sendString(std::string(65536, 'x')), reactor::StringTooLongError);
  CHECK(c16.transport->value().size() == 0);
}

TEST_CASE("IntNStringReceiver: a prefix above maxLength calls lengthLimitExceeded and loses the connection") {
  Connected<Int32Collector> c;
  c.protocol->maxLength = 10;
  c.feed(prefixed32("0123456789") + prefixed32("01234567890") + prefixed32("x"));
  CHECK(c.protocol->strings == std::vector<std::string>{"0123456789"});
  CHECK(c.protocol->tooLong == std::vector<std::size_t>{11});
  CHECK(c.transport->disconnecting());
}

TEST_CASE("IntNStringReceiver paused holds strings until resumeProducing") {
  Connected<Int32Collector> c;
  c.protocol->pauseProducing();
  c.feed(prefixed32("a") + prefixed32("b"));
  CHECK(c.protocol->strings.empty());
  c.protocol->resumeProducing();
  CHECK(c.protocol->strings == std::vector<std::string>{"a", "b"});
}

// --- NetstringReceiver --------------------------------------------------------------------------

class NetstringCollector : public reactor::NetstringReceiver {
 public:
  std::vector<std::string> strings;
  std::vector<std::string> errors;
  void stringReceived(std::string_view s) override { strings.emplace_back(s); }

 protected:
  void handleParseError(std::string_view why) override {
    errors.emplace_back(why);
    NetstringReceiver::handleParseError(why);
  }
};

TEST_CASE("NetstringReceiver delivers each netstring whole at any split (test_receiving, test_emptyString)") {
  checkEverySplit<NetstringCollector>("5:hello,0:,12:hello world!,1::,", {"hello", "", "hello world!", ":"},
                                      [](NetstringCollector& p) { return p.strings; });
}

TEST_CASE("NetstringReceiver sendString writes LENGTH:DATA, (test_writing)") {
  Connected<NetstringCollector> c;
  c.protocol->sendString("hello");
  c.protocol->sendString("");
  CHECK(c.transport->value() == "5:hello,0:,");
}

TEST_CASE("NetstringReceiver: malformed netstrings mark the peer broken and lose the connection (test_illegal)") {
  for (const char* bad : {"abc", "4:abcde", "01:a,", ":a,", "3x:abc,", "-1:a,"}) {
    CAPTURE(bad);
    Connected<NetstringCollector> c;
    c.feed(bad);
    CHECK(c.protocol->brokenPeer);
    CHECK(c.protocol->errors.size() == 1);
    CHECK(c.transport->disconnecting());
    c.feed("1:a,");  // nothing more is read from a broken peer
    CHECK(c.protocol->strings.empty());
  }
}

TEST_CASE("NetstringReceiver: a length above maxLength is refused as soon as its digits show it") {
  Connected<NetstringCollector> c;
  c.protocol->maxLength = 99;
  c.feed("99:");
  CHECK_FALSE(c.protocol->brokenPeer);
  Connected<NetstringCollector> d;
  d.protocol->maxLength = 99;
  d.feed("100");  // too many digits: no need to wait for the colon
  CHECK(d.protocol->brokenPeer);
  Connected<NetstringCollector> e;
  e.protocol->maxLength = 50;
  e.feed("51:");
  CHECK(e.protocol->brokenPeer);
}

TEST_CASE("NetstringReceiver waits for the comma before delivering") {
  Connected<NetstringCollector> c;
  c.feed("3:abc");
  CHECK(c.protocol->strings.empty());
  c.feed(",");
  CHECK(c.protocol->strings == std::vector<std::string>{"abc"});
}

}  // namespace
