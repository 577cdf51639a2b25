// Port of twisted.internet.tcp.Port: a listening socket that builds a protocol per connection.
#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "reactor/detail/reactor_impl.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor::detail {

class TcpPort final : public IListeningPort, public ManagedPort, public std::enable_shared_from_this<TcpPort> {
 public:
  /// Binds and listens; throws CannotListenError.
  static std::shared_ptr<TcpPort> listen(ReactorImpl& reactor, std::uint16_t port, std::shared_ptr<Factory> factory,
                                         int backlog, std::string_view interface);
  void stopListening() override;
  Address getHost() const override { return host_; }

 private:
  TcpPort(ReactorImpl& reactor, std::shared_ptr<Factory> factory);
  static void onUvConnection(uv_stream_t* server, int status);
  static void onUvClose(uv_handle_t* handle);
  void accept();

  ReactorImpl& reactor_;
  std::shared_ptr<Factory> factory_;
  uv_tcp_t handle_{};
  std::shared_ptr<TcpPort> self_;
  Address host_;
  bool listening_ = false;
};

}  // namespace reactor::detail
