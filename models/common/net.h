/* net.h — the socket chores every program shares: listen, connect, write all. */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <sys/types.h>

/* Bind and listen on host:port (IPv4 dotted quad or "localhost"); port 0 asks
 * the kernel for a free one. Returns the listening fd and stores the real
 * port in *bound_port, or -1 with errno set. */
int net_listen(const char *host, int port, int backlog, int *bound_port);
/* The same with SO_REUSEPORT: several such sockets may listen on one port,
 * and the kernel deals the connections out among them (echo-loops). */
int net_listen_shared(const char *host, int port, int backlog, int *bound_port);

/* Connect a blocking TCP socket to host:port. Returns the fd or -1 with errno. */
int net_connect(const char *host, int port);

/* Start a non-blocking connect; returns the fd (connect may still be in
 * progress: wait for it to become writable, then check net_connect_result). */
int net_connect_start(const char *host, int port);
int net_connect_result(int fd); /* 0, or the connect's errno */

/* Resolve host (dotted quad or "localhost") into a sockaddr_in; -1 if neither. */
struct sockaddr_in;
int net_addr(const char *host, int port, struct sockaddr_in *sa);

int net_set_nonblock(int fd);
int net_set_nodelay(int fd);

/* Raise the soft RLIMIT_NOFILE to the hard one (a client with many sockets);
 * if that is still too few, socket() fails with EMFILE and says so. */
void net_raise_nofile(void);

/* Write all n bytes to a blocking fd, retrying partial writes and EINTR.
 * Returns n, or -1 with errno. */
ssize_t net_write_all(int fd, const void *buf, size_t n);

/* Monotonic clock in nanoseconds. */
long long net_now_ns(void);

#endif
