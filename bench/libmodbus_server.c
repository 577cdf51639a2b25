/* libmodbus-server: the benchmark's C peer — a select() loop serving many Modbus/TCP clients with
 * Debian's libmodbus (modbus_receive + modbus_reply on each readable client), 10000 of each table.
 * Usage: libmodbus-server PORT   (PORT 0 picks a free one). Prints "listening on PORT" when ready. */
#include <arpa/inet.h>
#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kTableSize = 10000, kBacklog = 1024 };

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int signum) {
  (void)signum;
  stop_requested = 1;
}

static int parse_port(const char* text) {
  char* end = NULL;
  errno = 0;
  long port = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || port < 0 || port > 65535) return -1;
  return (int)port;
}

static int bound_port(int fd) {
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  if (getsockname(fd, (struct sockaddr*)&addr, &len) != 0) return -1;
  return ntohs(addr.sin_port);
}

int main(int argc, char** argv) {
  if (argc != 2 || parse_port(argv[1]) < 0) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  int port = parse_port(argv[1]);

  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal; /* no SA_RESTART: select() returns EINTR and the loop ends */
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  signal(SIGPIPE, SIG_IGN);

  modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
  modbus_mapping_t* mapping = modbus_mapping_new(kTableSize, kTableSize, kTableSize, kTableSize);
  if (ctx == NULL || mapping == NULL) {
    fprintf(stderr, "libmodbus-server: cannot allocate the context or the mapping\n");
    return 1;
  }
  int listener = modbus_tcp_listen(ctx, kBacklog);
  if (listener < 0) {
    fprintf(stderr, "libmodbus-server: listen on 127.0.0.1:%d failed: %s\n", port, modbus_strerror(errno));
    modbus_mapping_free(mapping);
    modbus_free(ctx);
    return 1;
  }
  printf("listening on %d\n", bound_port(listener));
  fflush(stdout);

  uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
  fd_set watched;
  FD_ZERO(&watched);
  FD_SET(listener, &watched);
  int max_fd = listener;

  while (!stop_requested) {
    fd_set readable = watched;
    int ready = select(max_fd + 1, &readable, NULL, NULL, NULL);
    if (ready < 0) {
      if (errno == EINTR) continue;
      perror("libmodbus-server: select");
      break;
    }
    for (int fd = 0; fd <= max_fd && ready > 0; ++fd) {
      if (!FD_ISSET(fd, &readable)) continue;
      --ready;
      if (fd == listener) {
        int client = accept(listener, NULL, NULL);
        if (client < 0) continue;
        if (client >= FD_SETSIZE) { /* select() cannot watch it: refuse */
          close(client);
          continue;
        }
        int one = 1;
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        FD_SET(client, &watched);
        if (client > max_fd) max_fd = client;
        continue;
      }
      /* One request per readable event: a pipelined batch leaves the socket readable, so select()
       * reports it again and the next frame is served on the next pass. */
      modbus_set_socket(ctx, fd);
      int length = modbus_receive(ctx, query);
      if (length > 0) {
        modbus_reply(ctx, query, length, mapping);
      } else if (length < 0) {
        close(fd);
        FD_CLR(fd, &watched);
        while (max_fd > listener && !FD_ISSET(max_fd, &watched)) --max_fd;
      }
    }
  }

  for (int fd = 0; fd <= max_fd; ++fd) {
    if (fd != listener && FD_ISSET(fd, &watched)) close(fd);
  }
  close(listener);
  modbus_set_socket(ctx, -1);
  modbus_mapping_free(mapping);
  modbus_free(ctx);
  return 0;
}
