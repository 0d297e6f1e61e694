/* backend.h — the kernel behind the runtime, after Redis's ae.c, which picks
 * ae_epoll.c or ae_kqueue.c behind a handful of functions. A backend is ONE
 * file that defines the three hooks below and the calls of coro.h that
 * touch the kernel (co_read, co_write, co_accept, co_connect, co_wait_fd,
 * co_close, and co_backend, its name); the
 * build links exactly one, the one a model names in its about.txt
 * (`runtime: epoll` or `runtime: uring`):
 *
 *   epoll.c   readiness: epoll says "fd is readable", the coroutine then
 *             calls read(2) itself (the loop and loops models)
 *   uring.c   completion: co_read queues a RECV into the caller's buffer,
 *             the completion carries the bytes (the uring model; its
 *             multishot accept is uring_accept.c)
 *
 * Everything else — coroutines, the scheduler, timers, stacks, the
 * fairness budget, channels, offload — is the same code for both. */
#ifndef CO_BACKEND_H
#define CO_BACKEND_H

/* co_init, once per thread: make the kernel object (an epoll instance, a
 * ring) and keep its descriptor in L.kfd. 0, or -1 + errno. */
int co__backend_init(void);

/* Wait at most `timeout` ms (-1: no limit; 0: just look) for I/O, and wake
 * the coroutines whose descriptors or operations are ready. An interrupted
 * wait is not an error. 0, or -1 + errno. */
int co__backend_poll(int timeout);

/* After the timers have fired, each loop turn that asked the kernel: the
 * backend's own housekeeping (epoll: check that old waits' descriptors are
 * still in the set). */
void co__backend_tick(void);

#endif
