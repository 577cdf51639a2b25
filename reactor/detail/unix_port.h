// Port of twisted.internet.unix.Port on a uv_pipe_t: listenUNIX with the socket file's mode set
// before the port accepts, and Twisted's wantPID lockfile ("PATH.lock" holding the pid) that lets a
// restarted server reuse the socket a dead one left behind. Connections are TcpTransports of
// Kind::UNIX. Tests: tests/reactor/unix_socket_test.cc
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <string_view>

#include "reactor/detail/reactor_impl.h"
#include "reactor/interfaces.h"
#include "reactor/protocol.h"

namespace reactor::detail {

/// A UNIX socket handle's address (with `local`, its own end): Type::UNIX with the path, an empty
/// path for an unnamed socket; `fallback` when libuv has none.
Address unixAddress(const uv_pipe_t* handle, bool local, Address fallback = {});

/// The longest socket path the kernel takes (sun_path less its terminating NUL). libuv 1.44 would
/// silently truncate a longer one, so listenUNIX and connectUNIX refuse it.
std::size_t maxUnixPathLength();

class UnixPort final : public IListeningPort, public ManagedPort, public std::enable_shared_from_this<UnixPort> {
 public:
  /// Takes the lock (wantPID), binds, sets `mode`, listens; throws CannotListenError.
  static std::shared_ptr<UnixPort> listen(ReactorImpl& reactor, std::string_view path, std::shared_ptr<Factory> factory,
                                          int backlog, unsigned mode, bool wantPID);
  /// Also removes the socket file and the lock file (Twisted's unix.Port.connectionLost).
  void stopListening() override;
  Address getHost() const override { return host_; }

 private:
  UnixPort(ReactorImpl& reactor, std::shared_ptr<Factory> factory, std::string path);
  static void onUvConnection(uv_stream_t* server, int status);
  static void onUvClose(uv_handle_t* handle);
  void accept();
  /// Takes PATH.lock for this pid, clearing a dead process's lock and socket; throws CannotListenError.
  void lock();
  void unlock();

  ReactorImpl& reactor_;
  std::shared_ptr<Factory> factory_;
  std::string path_;
  std::string lockPath_;  // empty without wantPID
  uv_pipe_t handle_{};
  std::shared_ptr<UnixPort> self_;
  Address host_;
  bool listening_ = false;
  bool bound_ = false;   // the socket file is ours to remove
  bool locked_ = false;  // the lock file is ours to remove
};

}  // namespace reactor::detail
