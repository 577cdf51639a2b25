// Port of twisted.internet.unix.Port (and the FilesystemLock its wantPID takes) on uv_pipe_t.
// Rules kept: the socket file gets its mode between bind and listen, so no client can connect
// while the default umask's permissions apply; a lock is only ever broken when the pid it names is
// dead, and then the stale socket beside it is removed; a port removes only files it created.
#include "reactor/detail/unix_port.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "reactor/detail/tcp_transport.h"
#include "reactor/failure.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

namespace reactor::detail {

namespace {

std::string unixError(const std::string& path, const std::string& what, int uvCode) {
  return "couldn't listen on unix:" + path + ": " + what + ": " + uv_strerror(uvCode) + " (" + uv_err_name(uvCode) +
         ")";
}

/// The pid written in a lock file, or 0 when it holds none (empty, garbage, unreadable).
long readLockPid(const std::string& lockPath) {
  int fd = ::open(lockPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[32] = {0};
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  char* end = nullptr;
  long pid = std::strtol(buf, &end, 10);
  return pid > 0 ? pid : 0;
}

bool processAlive(long pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

}  // namespace

std::size_t maxUnixPathLength() { return sizeof(sockaddr_un{}.sun_path) - 1; }

Address unixAddress(const uv_pipe_t* handle, bool local, Address fallback) {
  char name[sizeof(sockaddr_un{}.sun_path) + 1] = {0};
  std::size_t len = sizeof name;
  const int status = local ? uv_pipe_getsockname(handle, name, &len) : uv_pipe_getpeername(handle, name, &len);
  if (status != 0) return fallback;
  return Address{Address::Type::UNIX, std::string(name, len), 0, false};
}

UnixPort::UnixPort(ReactorImpl& reactor, std::shared_ptr<Factory> factory, std::string path)
    : reactor_(reactor), factory_(std::move(factory)), path_(std::move(path)) {}

std::shared_ptr<UnixPort> UnixPort::listen(ReactorImpl& reactor, std::string_view path,
                                           std::shared_ptr<Factory> factory, int backlog, unsigned mode,
                                           bool wantPID) {
  if (!factory) throw std::invalid_argument("listenUNIX: null factory");
  std::string p(path);
  if (p.empty()) throw CannotListenError("couldn't listen on unix:: an empty path", UV_EINVAL);
  if (p.size() > maxUnixPathLength()) {
    throw CannotListenError(unixError(p, "the path is longer than " + std::to_string(maxUnixPathLength()) + " bytes",
                                      UV_ENAMETOOLONG),
                            UV_ENAMETOOLONG);
  }
  std::shared_ptr<UnixPort> port(new UnixPort(reactor, std::move(factory), p));
  if (wantPID) port->lock();  // throws before any handle exists
  uv_pipe_init(reactor.loop(), &port->handle_, 0);
  port->handle_.data = port.get();
  port->self_ = port;  // until onUvClose
  int rc = uv_pipe_bind(&port->handle_, p.c_str());
  const char* step = "bind";
  if (rc == 0) {
    port->bound_ = true;
    step = "chmod";
    // Before listen: until then a connect is refused, so no client ever sees the umask's mode.
    if (::chmod(p.c_str(), static_cast<mode_t>(mode)) != 0) rc = uv_translate_sys_error(errno);
  }
  if (rc == 0) {
    step = "listen";
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&port->handle_), backlog, onUvConnection);
  }
  if (rc != 0) {
    if (port->bound_) ::unlink(p.c_str());
    port->unlock();
    uv_close(reinterpret_cast<uv_handle_t*>(&port->handle_), onUvClose);
    throw CannotListenError(unixError(p, step, rc), rc);
  }
  port->host_ = Address{Address::Type::UNIX, p, 0, false};
  port->listening_ = true;
  reactor.addPort(port.get());
  port->factory_->doStart();
  return port;
}

void UnixPort::lock() {
  lockPath_ = path_ + ".lock";
  // Two tries, as Twisted's FilesystemLock: the second after clearing a dead owner's lock.
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(lockPath_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      std::string pid = std::to_string(::getpid()) + "\n";
      bool ok = ::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      ::close(fd);
      if (!ok) {
        int rc = uv_translate_sys_error(errno);
        ::unlink(lockPath_.c_str());
        throw CannotListenError(unixError(path_, "cannot write the lock file " + lockPath_, rc), rc);
      }
      locked_ = true;
      return;
    }
    if (errno != EEXIST) {
      int rc = uv_translate_sys_error(errno);
      throw CannotListenError(unixError(path_, "cannot create the lock file " + lockPath_, rc), rc);
    }
    long owner = readLockPid(lockPath_);
    if (owner != 0 && processAlive(owner)) {
      throw CannotListenError("couldn't listen on unix:" + path_ + ": in use by the live process " +
                                  std::to_string(owner) + " (lock file " + lockPath_ + ")",
                              UV_EADDRINUSE);
    }
    // The owner is dead (or the lock names none): its socket is stale too.
    log::info("unix:", path_, ": removing the stale lock of process ", owner, " and its socket");
    ::unlink(lockPath_.c_str());
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path_.c_str());
  }
  throw CannotListenError("couldn't listen on unix:" + path_ + ": the lock file " + lockPath_ +
                              " keeps reappearing (another process is starting?)",
                          UV_EADDRINUSE);
}

void UnixPort::unlock() {
  if (!locked_) return;
  locked_ = false;
  ::unlink(lockPath_.c_str());
}

void UnixPort::onUvConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<UnixPort*>(server->data);
  if (status < 0) {
    log::warning("accept on ", self->host_.toString(), " failed: ", uv_strerror(status));
    return;
  }
  self->accept();
}

void UnixPort::accept() {
  auto transport = TcpTransport::create(reactor_, TcpTransport::Kind::UNIX);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&handle_), transport->stream()) != 0) {
    transport->closeWithoutProtocol();
    return;
  }
  std::shared_ptr<Protocol> protocol = buildProtocolFor(*factory_, transport->peerAddress(Address{Address::Type::UNIX, {}, 0, false}));
  if (!protocol) {
    transport->closeWithoutProtocol();
    return;
  }
  transport->start(std::move(protocol));
}

void UnixPort::stopListening() {
  if (!listening_) return;
  listening_ = false;
  reactor_.removePort(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), onUvClose);
  // The path is free from here on: a new listenUNIX on it may start before the close callback.
  if (bound_) ::unlink(path_.c_str());
  bound_ = false;
  unlock();
  callSafely("stopFactory", [this] { factory_->doStop(); });
}

void UnixPort::onUvClose(uv_handle_t* handle) {
  auto* raw = static_cast<UnixPort*>(handle->data);
  std::shared_ptr<UnixPort> guard = std::move(raw->self_);
}

}  // namespace reactor::detail

namespace reactor {

std::shared_ptr<IListeningPort> Reactor::listenUNIX(std::string_view address, std::shared_ptr<Factory> factory,
                                                    int backlog, unsigned mode, bool wantPID) {
  return detail::UnixPort::listen(impl(), address, std::move(factory), backlog, mode, wantPID);
}

}  // namespace reactor
