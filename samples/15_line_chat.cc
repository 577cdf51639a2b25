// Port of Twisted's classic chat server (docs "Writing Servers": the Chat LineReceiver): each client
// is asked its name, then every line it sends goes to the others as "<name> line".
// Usage: 15_line_chat [PORT [INTERFACE]] (PORT 8123 by default, 0 = any free port; INTERFACE ""
// = every IPv4 address, as in Twisted). Lines end with "\r\n" (Twisted's delimiter; "\n" alone is
// also accepted here, for netcat users).
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "reactor/basic.h"
#include "reactor/log.h"
#include "reactor/protocol.h"
#include "reactor/reactor.h"

class Chat;

/// Twisted's ChatFactory: the one place the users live, shared by every connection.
class ChatFactory : public reactor::ServerFactory {
 public:
  std::shared_ptr<reactor::Protocol> buildProtocol(const reactor::Address& addr) override;
  std::map<std::string, Chat*> users;
};

class Chat : public reactor::LineReceiver {
 public:
  void connectionMade() override { sendLine("What's your name?"); }

  void connectionLost(const reactor::Failure& reason) override {
    (void)reason;
    auto it = users().find(name_);
    if (it != users().end() && it->second == this) users().erase(it);
  }

  void lineReceived(std::string_view line) override {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (name_.empty()) {
      handleGetName(std::string(line));
    } else {
      handleChat(line);
    }
  }

 private:
  std::map<std::string, Chat*>& users() { return static_cast<ChatFactory&>(*factory()).users; }

  void handleGetName(std::string name) {
    if (name.empty() || users().count(name) != 0) {
      sendLine("Name taken, please choose another.");
      return;
    }
    sendLine("Welcome, " + name + "!");
    name_ = std::move(name);
    users()[name_] = this;
  }

  void handleChat(std::string_view message) {
    std::string line = "<" + name_ + "> " + std::string(message);
    for (auto& [name, protocol] : users()) {
      if (protocol != this) protocol->sendLine(line);
    }
  }

  std::string name_;  // empty until chosen (Twisted's state "GETNAME")
};

std::shared_ptr<reactor::Protocol> ChatFactory::buildProtocol(const reactor::Address& addr) {
  (void)addr;
  auto p = std::make_shared<Chat>();
  p->delimiter = std::string(1, '\n');  // "\r\n" lines arrive with their "\r", which lineReceived drops
  adopt(*p);
  return p;
}

int main(int argc, char** argv) {
  try {
    int port = argc > 1 ? std::stoi(argv[1]) : 8123;
    std::string interface = argc > 2 ? argv[2] : "";
    if (port < 0 || port > 65535) throw std::out_of_range("port");

    reactor::Reactor reactor;
    auto listening = reactor.listenTCP(static_cast<std::uint16_t>(port), std::make_shared<ChatFactory>(), 50, interface);
    reactor::log::info("chat listening on ", listening->getHost().toString());
    reactor.run();  // until Ctrl-C / SIGTERM
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "15_line_chat: %s\nusage: 15_line_chat [PORT [INTERFACE]]\n", e.what());
    return 1;
  }
}
