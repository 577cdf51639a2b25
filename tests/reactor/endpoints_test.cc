// Tests for reactor/endpoints.cc: Twisted's endpoint-string grammar and serverFromString.
#include "reactor/endpoints.h"

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "reactor/reactor.h"

using reactor::EndpointDescription;
using reactor::EndpointError;
using reactor::parseEndpoint;

namespace {

/// The message of the EndpointError `f` throws ("" if it throws none).
template <class F>
std::string endpointErrorOf(F&& f) {
  try {
    f();
  } catch (const EndpointError& e) {
    return e.what();
  }
  return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("parseEndpoint: tcp with an interface keyword") {
  EndpointDescription d = parseEndpoint("tcp:5020:interface=127.0.0.1");
  CHECK(d.type == "tcp");
  CHECK(d.args == std::vector<std::string>{"5020"});
  CHECK(d.kwargs.size() == 1);
  CHECK(d.get("interface") == "127.0.0.1");
  CHECK(d.has("interface"));
  CHECK_FALSE(d.has("backlog"));
  CHECK(d.port() == 5020);
}

TEST_CASE("parseEndpoint: tcp with a backlog keyword read by getInt") {
  EndpointDescription d = parseEndpoint("tcp:502:backlog=128");
  CHECK(d.port() == 502);
  CHECK(d.getInt("backlog", 50, 1, 65535) == 128);
  CHECK(d.getInt("absent", 50, 1, 65535) == 50);
  CHECK(d.get("absent", "dflt") == "dflt");
}

TEST_CASE("checkFields accepts named fields and keyword-only ones, refuses extras and doubles") {
  CHECK_NOTHROW(parseEndpoint("udp:502:interface=lo:maxPacketSize=512").checkFields({"port", "interface"}, {"maxPacketSize"}));
  CHECK_THROWS_WITH_AS(parseEndpoint("udp:502:a:b").checkFields({"port", "interface"}),
                       "endpoint 'udp' takes at most 2 positional fields (port, interface)", EndpointError);
  CHECK_THROWS_WITH_AS(parseEndpoint("tcp:502:mtu=9").checkFields({"port", "interface"}),
                       "unknown keyword 'mtu' for endpoint 'tcp'", EndpointError);
  CHECK_THROWS_WITH_AS(parseEndpoint("tcp:502:lo:interface=lo").checkFields({"port", "interface"}),
                       "endpoint 'tcp' got 'interface' both positionally and as a keyword", EndpointError);
}

TEST_CASE("parseEndpoint: an escaped colon stays inside a keyword value") {
  EndpointDescription d = parseEndpoint("tls:802:cert=C\\:/x.pem");
  CHECK(d.type == "tls");
  CHECK(d.args == std::vector<std::string>{"802"});
  CHECK(d.get("cert") == "C:/x.pem");
}

TEST_CASE("parseEndpoint: ssl, Twisted's spelling, is the tls type with Twisted's keyword names") {
  EndpointDescription d = parseEndpoint("ssl:443:privateKey=key.pem:certKey=cert.pem");
  CHECK(d.type == "tls");
  CHECK(d.args == std::vector<std::string>{"443"});
  CHECK(d.get("privateKey") == "key.pem");
  CHECK(parseEndpoint("sslx:1").type == "sslx");  // only the exact word
}

TEST_CASE("parseEndpoint: serial with several keywords") {
  EndpointDescription d = parseEndpoint("serial:/dev/ttyUSB0:baudrate=19200:parity=E");
  CHECK(d.type == "serial");
  CHECK(d.args == std::vector<std::string>{"/dev/ttyUSB0"});
  CHECK(d.getInt("baudrate", 9600, 50, 4000000) == 19200);
  CHECK(d.get("parity") == "E");
}

TEST_CASE("parseEndpoint: an IPv6 interface is written with escaped colons") {
  EndpointDescription d = parseEndpoint("tcp6:5020:interface=\\:\\:1");
  CHECK(d.type == "tcp6");
  CHECK(d.port() == 5020);
  CHECK(d.get("interface") == "::1");
  EndpointDescription full = parseEndpoint("tcp6:502:interface=fe80\\:\\:1\\%eth0");
  CHECK(full.get("interface") == "fe80::1%eth0");
}

TEST_CASE("parseEndpoint: Twisted's _parse example, keywords and positionals interleaved") {
  // _parse('a:b:d=1:c') -> (['a', 'b', 'c'], {'d': '1'})
  EndpointDescription d = parseEndpoint("a:b:d=1:c");
  CHECK(d.type == "a");
  CHECK(d.args == std::vector<std::string>{"b", "c"});
  CHECK(d.kwargs == std::map<std::string, std::string>{{"d", "1"}});
}

TEST_CASE("parseEndpoint: escapes") {
  SUBCASE("an escaped '=' makes a positional field") {
    EndpointDescription d = parseEndpoint("x:a\\=b");
    CHECK(d.args == std::vector<std::string>{"a=b"});
    CHECK(d.kwargs.empty());
  }
  SUBCASE("a keyword splits on the first '=' only") {
    EndpointDescription d = parseEndpoint("x:k=v=w");
    CHECK(d.get("k") == "v=w");
  }
  SUBCASE("an escaped backslash") {
    EndpointDescription d = parseEndpoint("x:path=C\\\\dir");
    CHECK(d.get("path") == "C\\dir");
  }
  SUBCASE("a backslash before an ordinary character keeps the character") {
    EndpointDescription d = parseEndpoint("x:\\a\\b");
    CHECK(d.args == std::vector<std::string>{"ab"});
  }
  SUBCASE("empty fields and values survive") {
    EndpointDescription d = parseEndpoint("x::k=");
    CHECK(d.args == std::vector<std::string>{""});
    CHECK(d.has("k"));
    CHECK(d.get("k", "dflt").empty());
  }
  SUBCASE("a repeated keyword: the last one wins") {
    EndpointDescription d = parseEndpoint("x:k=1:k=2");
    CHECK(d.get("k") == "2");
  }
}

TEST_CASE("parseEndpoint: errors") {
  CHECK(contains(endpointErrorOf([] { parseEndpoint(""); }), "empty"));
  CHECK(contains(endpointErrorOf([] { parseEndpoint("tcp:502\\"); }), "backslash"));
  CHECK(contains(endpointErrorOf([] { parseEndpoint(":502"); }), "type"));
  CHECK(contains(endpointErrorOf([] { parseEndpoint("interface=x:tcp"); }), "type"));
  CHECK(contains(endpointErrorOf([] { parseEndpoint("tcp:502:=x"); }), "keyword"));
  // EndpointError is an std::invalid_argument.
  CHECK_THROWS_AS(parseEndpoint(""), std::invalid_argument);
}

TEST_CASE("EndpointDescription::getInt names the key for a non-number or out-of-range value") {
  EndpointDescription d = parseEndpoint("tcp:502:backlog=lots:timeout=-5:big=99999999999999999999:sp= 7");
  CHECK(contains(endpointErrorOf([&] { d.getInt("backlog", 50, 1, 1000); }), "'backlog'"));
  CHECK(contains(endpointErrorOf([&] { d.getInt("timeout", 1, 0, 60); }), "'timeout'"));
  CHECK(contains(endpointErrorOf([&] { d.getInt("big", 1, 0, 60); }), "'big'"));
  CHECK(contains(endpointErrorOf([&] { d.getInt("sp", 1, 0, 60); }), "'sp'"));
  CHECK(d.getInt("timeout", 1, -10, 60) == -5);
}

TEST_CASE("EndpointDescription::port checks the range 0..65535") {
  CHECK(parseEndpoint("tcp:0").port() == 0);
  CHECK(parseEndpoint("tcp:65535").port() == 65535);
  CHECK(parseEndpoint("tcp:port=5020").port() == 5020);
  CHECK(contains(endpointErrorOf([] { parseEndpoint("tcp:65536").port(); }), "port"));
  CHECK(contains(endpointErrorOf([] { parseEndpoint("tcp:-1").port(); }), "port"));
  CHECK(contains(endpointErrorOf([] { parseEndpoint("tcp:http").port(); }), "port"));
  CHECK(contains(endpointErrorOf([] { parseEndpoint("tcp").port(); }), "needs a port"));
}

TEST_CASE("EndpointDescription::toString round-trips through parseEndpoint") {
  for (const char* text : {"tcp:5020:interface=127.0.0.1", "tls:802:cert=C\\:/x.pem",
                           "serial:/dev/ttyUSB0:baudrate=19200:parity=E", "tcp6:5020:interface=\\:\\:1",
                           "x:a\\=b:k=v=w:p=C\\\\dir"}) {
    EndpointDescription d = parseEndpoint(text);
    EndpointDescription again = parseEndpoint(d.toString());
    CHECK(again.type == d.type);
    CHECK(again.args == d.args);
    CHECK(again.kwargs == d.kwargs);
  }
  CHECK(parseEndpoint("serial:/dev/ttyUSB0:parity=E:baudrate=19200").toString() ==
        "serial:/dev/ttyUSB0:baudrate=19200:parity=E");
  CHECK(parseEndpoint("tcp6:5020:interface=\\:\\:1").toString() == "tcp6:5020:interface=\\:\\:1");
}

TEST_CASE("serverFromString rejects unknown types and bad fields") {
  reactor::Reactor r;
  CHECK(endpointErrorOf([&] { reactor::serverFromString(r, "carrier-pigeon:5020"); }) ==
        "unknown endpoint type 'carrier-pigeon'");
  CHECK(contains(endpointErrorOf([&] { reactor::serverFromString(r, ""); }), "empty"));
  CHECK(contains(endpointErrorOf([&] { reactor::serverFromString(r, "tcp"); }), "needs a port"));
  CHECK(contains(endpointErrorOf([&] { reactor::serverFromString(r, "tcp:70000"); }), "port"));
  CHECK(contains(endpointErrorOf([&] { reactor::serverFromString(r, "tcp:502:backlog=x"); }), "'backlog'"));
  CHECK(contains(endpointErrorOf([&] { reactor::serverFromString(r, "tcp:502:backlog=0"); }), "'backlog'"));
  CHECK(contains(endpointErrorOf([&] { reactor::serverFromString(r, "tcp:502:interfce=1.2.3.4"); }),
                 "unknown keyword 'interfce'"));
  CHECK(contains(endpointErrorOf([&] { reactor::serverFromString(r, "tcp:502:127.0.0.1:interface=x"); }),
                 "both"));
  CHECK(contains(endpointErrorOf([&] { reactor::serverFromString(r, "tcp:502:a:50:extra"); }), "at most"));
  CHECK(reactor::serverFromString(r, "tcp:502:127.0.0.1:10") != nullptr);
  CHECK(reactor::serverFromString(r, "tcp6:5020:interface=\\:\\:1") != nullptr);
}

TEST_CASE("serverFromString tcp endpoint listens on a free port") {
  reactor::Reactor r;
  auto endpoint = reactor::serverFromString(r, "tcp:0:interface=127.0.0.1");
  REQUIRE(endpoint != nullptr);
  auto port = endpoint->listen(std::make_shared<reactor::Factory>());
  REQUIRE(port != nullptr);
  reactor::Address host = port->getHost();
  CHECK(host.port != 0);
  CHECK(host.host == "127.0.0.1");
  port->stopListening();
}
