// Port of Twisted's echoserv.py (docs/core/examples): an Echo protocol, a Factory, listenTCP and
// reactor.run(). Usage: 01_echo_server [PORT [INTERFACE]] (PORT 8000 by default, 0 = any free port;
// INTERFACE "" = every IPv4 address, as in Twisted).
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "reactor/log.h"
#include "reactor/protocol.h"
#include "reactor/reactor.h"

/// As simple as can be: every byte received goes straight back (Twisted's Echo).
class Echo : public reactor::Protocol {
 public:
  void dataReceived(reactor::ByteView data) override { transport().write(data); }
};

int main(int argc, char** argv) {
  try {
    int port = argc > 1 ? std::stoi(argv[1]) : 8000;
    std::string interface = argc > 2 ? argv[2] : "";
    if (port < 0 || port > 65535) throw std::out_of_range("port");

    reactor::Reactor reactor;
    auto factory = reactor::Factory::forProtocol<Echo>();
    auto listening = reactor.listenTCP(static_cast<std::uint16_t>(port), factory, 50, interface);
    reactor::log::info("listening on ", listening->getHost().toString());
    reactor.run();  // until Ctrl-C / SIGTERM
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "01_echo_server: %s\nusage: 01_echo_server [PORT [INTERFACE]]\n", e.what());
    return 1;
  }
}
