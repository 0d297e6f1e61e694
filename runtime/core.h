/* core.h — what the runtime's files share and a program never sees: a
 * coroutine (struct co), the loop of one thread (struct co_loop), and the
 * small helpers every file calls. The API is coro.h; docs/runtime.md gives
 * the order to read the files in.
 *
 * Everything a loop owns lives in one per-thread structure, co__L (L below),
 * so every thread that calls co_init() has a loop of its own: N threads are
 * N independent instances of the library (the loops model). */
#ifndef CO_CORE_H
#define CO_CORE_H

#include "coro.h"
#include "heap.h"
#include "san.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

enum {
    CO_STACK_MIN = 8 * 1024,   /* smaller stacks are refused (EINVAL) */
    CO_STACK_POOL = 1024,      /* finished stacks kept with their pages for reuse while busy (stack.c) */
    CO_BUDGET = 128,           /* I/O calls a coroutine may complete per turn without waiting (budget.c) */
    CO_SLICE_MS = 10,          /* ... or for this long after the loop last polled */
    CO_CLOCK_EVERY = 8,        /* the clock is read once per this many budgeted calls */
};

enum co_state {
    CO_READY,    /* in the ready queue, will run this turn or the next */
    CO_RUNNING,  /* on the CPU right now */
    CO_WAITING,  /* parked until co__wake() */
    CO_DONE,     /* its function returned; waits for co_join (or was freed) */
};

enum co_wait {
    CO_W_NONE,   /* not waiting on anything in particular (sleep, yield) */
    CO_W_FD,     /* in the reader and/or writer slot of fd wait_fd (fd.c) */
    CO_W_DRAIN,  /* waiting for the kernel to give back an operation (uring.c): only its completion ends it */
    CO_W_JOIN,   /* the joiner of join_target */
    CO_W_CHAN,   /* in the channel waiter queue wait_q */
};

struct co_waitq {
    co_t *head;  /* first waiter, woken first */
    co_t *tail;  /* last waiter */
};

struct co {
    void *sp;                  /* saved stack pointer while not running (switch.c) */
    uint64_t id;               /* 1, 2, 3... in creation order: names it in the overflow report */
    void (*fn)(void *);        /* the coroutine's body */
    void *arg;                 /* its argument */
    char *map;                 /* its stack slot: guard page, then the stack; NULL once released */
    int guarded;               /* the guard page is PROT_NONE; else the canary is checked */
    enum co_state state;       /* see enum co_state */
    int detached;              /* started by co_go: freed when it finishes */
    int cancelled;             /* co_cancel was called: every wait fails with ECANCELED */
    int wake_err;              /* why the last wait ended: 0 or an errno */
    enum co_wait wait;         /* what it is parked on, so a wake can undo it */
    int wait_fd;               /* CO_W_FD: which fd */
    int wait_dirs;             /* CO_W_FD: CO_READ and/or CO_WRITE slots taken */
    int64_t parked_at;         /* CO_W_FD: when it parked (co_now), for the epoll backend's audit */
    int in_audit;              /* CO_W_FD: still in the audit list (fd.c) */
    co_t *audit_next, *audit_prev; /* links in the audit list */
    co_t *join_target;         /* CO_W_JOIN: the coroutine it joins */
    struct co_waitq *wait_q;   /* CO_W_CHAN: the channel queue it is in */
    co_t *q_next, *q_prev;     /* links in wait_q */
    co_t *joiner;              /* the coroutine blocked in co_join on this one */
    co_t *ready_next;          /* link in the ready queue */
    struct heap_node timer;    /* in L.timers while its wait has a deadline (key: the deadline) */
    struct co_san_co san;      /* what a sanitizer keeps per coroutine (san.h; empty otherwise) */
};

/* What the runtime knows about one descriptor (fd.c; the backends set the hints). */
struct co_fd {
    co_t *reader;              /* coroutine waiting to read, or NULL */
    co_t *writer;              /* coroutine waiting to write, or NULL */
    unsigned char registered;  /* epoll: added to the epoll set */
    unsigned char readable;    /* epoll hint: a read() may find data (see co_read) */
    unsigned char writable;    /* epoll hint: a write() may find room */
    unsigned char stream;      /* TCP/UNIX stream socket or pipe: a short read means drained */
    unsigned char stream_known;/* stream is settled (co_accept: the listener's type); else treated as not a stream */
    unsigned char rd_closed;   /* peer hung up or error: reads never block again */
    unsigned char wr_closed;   /* hang-up or error: writes never block again */
};

/* The stack pool of one loop (stack.c). */
struct co_stacks {
    char **arenas;             /* every arena mapped, for co_init to unmap */
    size_t narenas;            /* how many */
    size_t arena_len;          /* bytes per arena (a whole number of slots) */
    char *arena_next;          /* the next slot to carve from the newest arena */
    char *arena_end;           /* the end of the newest arena */
    uintptr_t dirty[CO_STACK_POOL]; /* free slots still holding their pages */
    size_t ndirty;             /* how many */
    uintptr_t *clean;          /* free slots whose pages were given back */
    size_t nclean;             /* how many */
    size_t clean_cap;          /* room in clean */
    int64_t used_at;           /* co_now() when a stack last left or joined the pool */
};

struct co_loop {
    int inited;                /* co_init has run on this thread */
    int kfd;                   /* the backend's kernel object: the epoll fd, or the ring's */
    size_t page;               /* page size */
    size_t stack_bytes;        /* usable stack per coroutine, page multiple */
    int64_t now;               /* cached monotonic milliseconds (clock.c) */
    int now_stale;             /* now must be read again before use (co__now) */
    volatile sig_atomic_t stop;/* co_stop() was called */
    int running;               /* inside co_run */
    co_t *current;             /* running coroutine, NULL on the scheduler */
    size_t turn_left;          /* coroutines this turn may still hand off to (co__next) */
    co_t *dead;                /* finished, its stack not yet given back (co__landed) */
    int budget;                /* I/O calls current may still make before it must yield (budget.c) */
    void *sched_sp;            /* scheduler's stack pointer while a coroutine runs */
    co_t *ready_head;          /* ready queue: next to run */
    co_t *ready_tail;          /* ready queue: last in */
    size_t nready;             /* length of the ready queue */
    struct heap timers;        /* deadlines of waits; room kept >= coroutines alive */
    struct co_fd *fds;         /* per-fd state, indexed by fd */
    size_t nfds;               /* length of fds */
    size_t fd_waiters;         /* coroutines parked on a descriptor or draining: the kernel must be asked */
    co_t *audit_head;          /* descriptor waits not yet audited, oldest first (fd.c) */
    co_t *audit_tail;          /* the newest */
    size_t alive;              /* coroutines not yet finished */
    uint64_t next_id;          /* the id the next coroutine gets */
    struct co_stacks stacks;   /* the stack pool (stack.c) */
    struct co_san_loop san;    /* what a sanitizer keeps of the scheduler (san.h) */
};

extern __thread struct co_loop co__L __attribute__((tls_model("initial-exec")));
#define L co__L

/* --- switch.c --------------------------------------------------------------- */
void co__ctx_init(co_t *c);                 /* the first frame of a new coroutine */
void co__jump(co_t *from, co_t *to, int final); /* one switch (NULL: the scheduler) */
void co__landed(co_t *self);                /* after every switch: give back a finished stack */

/* --- sched.c ---------------------------------------------------------------- */
void co__switch_away(co_t *c, int final);   /* c stops running: hand off to the next */
int  co__suspend(co_t *c, int64_t deadline); /* park c until co__wake or deadline; the wake reason */
void co__wake(co_t *c, int err);            /* make a parked coroutine ready; its wait returns err */
void co__entry(void);                       /* where every coroutine starts (from co__stub) */
__attribute__((noreturn)) void co__die(const char *what); /* an internal error: say so, abort() */

/* --- clock.c ---------------------------------------------------------------- */
int  co__timers_timeout(void);              /* ms until the nearest deadline: 0, or -1 for none */
void co__timers_expire(void);               /* wake every wait whose deadline has passed */

/* --- budget.c --------------------------------------------------------------- */
int co__budget(co_t *c, int64_t deadline);  /* spend one unit, go round the loop once when spent */
int co__expired(const co_t *c, int64_t deadline); /* -1 ECANCELED/ETIMEDOUT, else 0 */
static inline void co__budget_refill(void) { L.budget = CO_BUDGET; } /* a coroutine is resumed */

/* --- fd.c ------------------------------------------------------------------- */
struct co_fd *co__fd(int fd);               /* fd's state, the table grown on demand; NULL + errno */
void co__fd_park(co_t *c, int fd, int dirs);/* take fd's reader/writer slot(s) before co__suspend */
void co__fd_unpark(co_t *c);                /* undo co__fd_park (co__wake does) */
void co__fd_forget(int fd);                 /* wake fd's waiters with EBADF and forget it */
int  co__fd_is_stream(int fd);              /* a byte stream: a short read means drained */
void co__audit_push(co_t *c);               /* the audit list, oldest wait first */
void co__audit_remove(co_t *c);

/* --- stack.c, overflow.c ---------------------------------------------------- */
int   co__stack_init(size_t stack_bytes);   /* co_init: drop the old pool, set the size */
char *co__stack_get(int *guarded);          /* a slot for a new coroutine, NULL if none */
void  co__stack_put(char *m, int guarded);  /* a finished coroutine's slot back to the pool */
int   co__stack_trim_due(int64_t *when);    /* 1 and *when if an idle pool is to be trimmed */
void  co__stack_trim(void);                 /* trim the pool if it has been idle long enough */
void  co__overflow_install(void);           /* the SIGSEGV report, and this thread's signal stack */
void  co__canary_check(const co_t *c);      /* an unguarded stack's canary: abort() if spoiled */

/* --- small helpers, inline: they sit on every switch ------------------------ */

static inline int64_t co__clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The clock of this turn. A turn started in place by a hand-off (co__next)
 * only marks it stale; it is read again when someone asks. */
static inline int64_t co__now(void)
{
    if (L.now_stale) {
        L.now = co__clock();
        L.now_stale = 0;
    }
    return L.now;
}

static inline void co__ready(co_t *c)
{
    c->state = CO_READY;
    c->ready_next = NULL;
    if (L.ready_tail)
        L.ready_tail->ready_next = c;
    else
        L.ready_head = c;
    L.ready_tail = c;
    L.nready++;
}

static inline co_t *co__ready_pop(void)
{
    co_t *c = L.ready_head;
    L.ready_head = c->ready_next;
    if (!L.ready_head)
        L.ready_tail = NULL;
    L.nready--;
    return c;
}

/* The running coroutine, if it may wait: -1 + EPERM outside a coroutine,
 * ECANCELED once cancelled (libdill's rule: a cancelled coroutine's blocking
 * calls all fail, so it unwinds). */
static inline co_t *co__waiter(void)
{
    co_t *c = L.current;
    if (!c) {
        errno = EPERM;
        return NULL;
    }
    if (c->cancelled) {
        errno = ECANCELED;
        return NULL;
    }
    return c;
}

#endif
