/* coro.h — the coroutine runtime (runtime/): coroutines with their own
 * stacks, all on one thread, switched only when one of them waits. The loop,
 * loops and uring models run their programs over it; docs/runtime.md walks
 * through its files.
 *
 * A coroutine runs until it calls one of the waiting functions below; then the
 * runtime switches to the next ready coroutine, or, when none is ready, asks
 * the kernel — through epoll or io_uring, the backend the program was built
 * with (co_backend()) — which descriptors or operations are ready and which
 * timers expired. The switch itself is a few instructions in user space: no
 * system call. Each thread that calls co_init() has a loop of its own.
 *
 * Conventions (after libdill): every waiting call takes a deadline, an
 * absolute time in milliseconds from co_now(), or -1 for none, and fails with
 * ETIMEDOUT when it passes. A cancelled coroutine's waits fail with ECANCELED,
 * from its current wait onwards, so it unwinds at its next suspension point.
 * Errors are returned as -1 with errno set, never swallowed.
 *
 * Stacks (co_init sets their size, 32 KiB by default) are carved from large
 * shared mappings and reused, so a thread can hold a million coroutines. An
 * overflow is caught two ways, by how many stacks the process has made: the
 * first ~16,000 (half of vm.max_map_count, 65,530 by default, over two
 * mappings per guard; CORO_GUARD_MAPS=N in the environment sets the budget)
 * get a PROT_NONE guard page — SIGSEGV at the first touch, reported by name;
 * every later one gets a canary, its lowest 64 bytes checked at each switch —
 * abort() at its next switch, reported by name.
 *
 * Descriptors given to co_* must be non-blocking — co_accept returns them so;
 * create others with SOCK_NONBLOCK (co_connect too) — and closed with co_close().
 * Over epoll, each descriptor is added to the set once for its life; on the
 * hot path (co_read, co_write, co_accept, co_connect) the runtime makes no
 * system call a hand-written epoll program would not. It does ask the kernel
 * in three less common places: co_wait_fd on a descriptor its hints call
 * ready (one poll()), the type of a listening socket (one getsockopt() per
 * listener), and a wait older than a second (one epoll_ctl() to check the
 * descriptor is still in the set). */
#ifndef CORO_H
#define CORO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef struct co co_t; /* a joinable coroutine handle */

/* --- the runtime -------------------------------------------------------- */
int     co_init(size_t stack_bytes);   /* once per thread; 0 = default stack (32 KiB); -1 + errno */
int     co_run(void);                  /* run until no coroutine is left or co_stop(); 0, or -1 + errno */
void    co_stop(void);                 /* make co_run() return after the current coroutine suspends */
int64_t co_now(void);                  /* monotonic milliseconds, cached per loop turn */
size_t  co_count(void);                /* coroutines alive (running, ready or waiting) */
const char *co_backend(void);          /* the kernel interface it was built with: "epoll" or "io_uring" */

/* --- coroutines ----------------------------------------------------------- */
int   co_go(void (*fn)(void *), void *arg);      /* start a detached coroutine; 0, or -1 + errno (ENOMEM) */
co_t *co_spawn(void (*fn)(void *), void *arg);   /* start a joinable one; must be co_join()ed; NULL + errno */
int   co_join(co_t *c, int64_t deadline);        /* wait for c to finish and free it; 0, or -1 ETIMEDOUT/ECANCELED (c is kept) */
int   co_cancel(co_t *c);                        /* ask c to stop: its waits fail with ECANCELED from now on; 0 */
int   co_cancelled(void);                        /* has the running coroutine been cancelled? */
co_t *co_self(void);                             /* the running coroutine */

/* --- waiting (each switches to another coroutine until done) ---------------- */
int co_yield(void);                              /* let every other ready coroutine run once; 0, or -1 ECANCELED */
int co_sleep_until(int64_t deadline);            /* 0 when the time comes, -1 ECANCELED */
int co_sleep(int64_t ms);                        /* co_sleep_until(co_now() + ms) */

enum { CO_READ = 1, CO_WRITE = 2 };
int co_wait_fd(int fd, int events, int64_t deadline); /* until fd is readable/writable: 0, -1 ETIMEDOUT/ECANCELED */

/* --- I/O that waits instead of blocking ------------------------------------ */
ssize_t co_read(int fd, void *buf, size_t len, int64_t deadline);         /* like read(2): >0, 0 at EOF, -1 */
ssize_t co_write(int fd, const void *buf, size_t len, int64_t deadline);  /* writes all len bytes: len, or -1 */
int     co_accept(int lfd, int64_t deadline);                             /* a new non-blocking fd, or -1 */
int     co_connect(int fd, const struct sockaddr *sa, socklen_t len, int64_t deadline); /* 0 (connected or under way: a failed handshake shows at the first co_read/co_write) or -1 */
int     co_close(int fd);                                                 /* forget fd, wake its waiters (EBADF), close(2) */

/* --- small synchronisation for coroutines on the same loop ----------------- */
typedef struct co_chan co_chan_t;   /* a bounded queue of pointers */
co_chan_t *co_chan_new(size_t capacity);                 /* NULL + errno */
int   co_chan_send(co_chan_t *ch, void *v, int64_t deadline);  /* waits while full; 0 or -1 (EPIPE once closed) */
int   co_chan_recv(co_chan_t *ch, void **v, int64_t deadline); /* waits while empty; 0 or -1 (EPIPE: closed and empty) */
void  co_chan_close(co_chan_t *ch);                      /* wake all waiters; further sends fail */
void  co_chan_free(co_chan_t *ch);                       /* after every user has stopped */

#endif
