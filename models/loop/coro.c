/* coro.c — the cooperative runtime of the loop model (the API is in coro.h;
 * docs/runtime.md tells the story for students).
 *
 * The pieces, in the order this file defines them:
 *   1. stacks   — slots carved from large arenas, each a guard page and a
 *                 stack; PROT_NONE guards while the process's mapping budget
 *                 lasts, a canary checked at every switch beyond; finished
 *                 stacks go to a free list.
 *   2. switch   — co__switch (coro_switch_<arch>.S) saves the callee-saved
 *                 registers on one stack and restores them from another: no
 *                 system call. A coroutine that stops running hands off
 *                 straight to the next ready one; the scheduler only polls.
 *   3. queues   — a FIFO ready queue; deadlines go to a min-heap (heap.h).
 *   4. waiting  — co__suspend() parks the running coroutine; co__wake() makes
 *                 it ready again and says why (0, ETIMEDOUT, ECANCELED, EBADF).
 *   5. fds      — one epoll instance, each fd registered once, edge-triggered,
 *                 with "readable"/"writable" hints so the hot path makes one
 *                 read() per message instead of read()+EAGAIN+epoll.
 *   6. the loop — co_run(): run what is ready, then epoll_wait for I/O and
 *                 timers, wake the waiters, repeat.
 * Then the public calls: coroutines, waiting, I/O, channels.
 *
 * Everything lives in one per-thread structure (co__L), so every thread may
 * run its own independent loop. */
#include "coro.h"
#include "heap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* --- build-time choices ------------------------------------------------- */

/* Hand-written switch where we have one; ucontext elsewhere (slower: glibc's
 * swapcontext makes a sigprocmask system call on every switch). */
#if defined(__x86_64__) || defined(__aarch64__)
#define CO_ASM_SWITCH 1
#else
#define CO_ASM_SWITCH 0
#endif

/* Sanitizers must be told when the stack changes under them. */
#if defined(__SANITIZE_ADDRESS__)
#define CO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CO_ASAN 1
#endif
#endif
#ifndef CO_ASAN
#define CO_ASAN 0
#endif
#if CO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__SANITIZE_THREAD__)
#define CO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CO_TSAN 1
#endif
#endif
#ifndef CO_TSAN
#define CO_TSAN 0
#endif
#if CO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

enum {
    CO_STACK_MIN = 8 * 1024,   /* smaller stacks are refused (EINVAL) */
    CO_ARENA_BYTES = 64 << 20, /* stacks are carved from mappings of this size */
    CO_CANARY = 64,            /* bytes at the bottom of an unguarded stack that must stay zero */
    CO_STACK_POOL = 1024,      /* finished stacks kept with their pages for reuse while busy */
    CO_STACK_KEEP = 64,        /* ... and once the pool has been idle for CO_POOL_IDLE_MS */
    CO_POOL_IDLE_MS = 1000,    /* no stack taken or given back for this long: trim the pool */
    CO_EVENT_BATCH = 256,      /* epoll events taken per loop turn */
    CO_BUDGET = 128,           /* I/O calls a coroutine may complete per turn without waiting */
    CO_SLICE_MS = 10,          /* ... or for this long after the loop last polled */
    CO_CLOCK_EVERY = 8,        /* the clock is read once per this many budgeted calls */
    CO_ALTSTACK = 64 * 1024,   /* the signal stack the overflow report runs on */
    CO_AUDIT_MS = 1000,        /* a descriptor wait this old gets its registration checked */
};

/* Default stack: 32 KiB (an echo session needs 20, see server.h); sanitizers
 * grow every frame, so give them more. */
#if CO_ASAN || CO_TSAN
#define CO_STACK_DEFAULT (256 * 1024)
#else
#define CO_STACK_DEFAULT (32 * 1024)
#endif

/* --- data ----------------------------------------------------------------- */

enum co_state {
    CO_READY,    /* in the ready queue, will run this turn or the next */
    CO_RUNNING,  /* on the CPU right now */
    CO_WAITING,  /* parked until co__wake() */
    CO_DONE,     /* its function returned; waits for co_join (or was freed) */
};

enum co_wait {
    CO_W_NONE,   /* not waiting on anything in particular (sleep, yield) */
    CO_W_FD,     /* in the reader and/or writer slot of fd wait_fd */
    CO_W_JOIN,   /* the joiner of join_target */
    CO_W_CHAN,   /* in the channel waiter queue wait_q */
};

struct co_waitq {
    co_t *head;  /* first waiter, woken first */
    co_t *tail;  /* last waiter */
};

struct co {
#if CO_ASM_SWITCH
    void *sp;                  /* saved stack pointer while not running */
#else
    ucontext_t uc;             /* saved context while not running */
#endif
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
    int64_t parked_at;         /* CO_W_FD: when it parked (co_now) */
    int in_audit;              /* CO_W_FD: still in the audit list */
    co_t *audit_next, *audit_prev; /* links in the audit list */
    co_t *join_target;         /* CO_W_JOIN: the coroutine it joins */
    struct co_waitq *wait_q;   /* CO_W_CHAN: the channel queue it is in */
    co_t *q_next, *q_prev;     /* links in wait_q */
    co_t *joiner;              /* the coroutine blocked in co_join on this one */
    co_t *ready_next;          /* link in the ready queue */
    struct heap_node timer;    /* in L.timers while its wait has a deadline (key: the deadline) */
#if CO_ASAN
    void *asan_fake;           /* ASan's fake stack of this coroutine while away */
#endif
#if CO_TSAN
    void *tsan_fiber;          /* TSan's context for this coroutine */
#endif
};

/* What the runtime knows about one descriptor. */
struct co_fd {
    co_t *reader;              /* coroutine waiting to read, or NULL */
    co_t *writer;              /* coroutine waiting to write, or NULL */
    unsigned char registered;  /* added to the epoll set */
    unsigned char readable;    /* hint: a read() may find data (see co_read) */
    unsigned char writable;    /* hint: a write() may find room */
    unsigned char stream;      /* TCP/UNIX stream socket or pipe: a short read means drained */
    unsigned char stream_known;/* stream is settled (co_accept: the listener's type); else treated as not a stream */
    unsigned char rd_closed;   /* peer hung up or error: reads never block again */
    unsigned char wr_closed;   /* hang-up or error: writes never block again */
};

struct co_loop {
    int inited;                /* co_init has run on this thread */
    int epfd;                  /* the epoll instance */
    size_t page;               /* page size */
    size_t stack_bytes;        /* usable stack per coroutine, page multiple */
    int64_t now;               /* cached monotonic milliseconds */
    int now_stale;             /* now must be read again before use (co__now) */
    volatile sig_atomic_t stop;/* co_stop() was called */
    int running;               /* inside co_run */
    co_t *current;             /* running coroutine, NULL on the scheduler */
    size_t turn_left;          /* coroutines this turn may still hand off to (co__next) */
    co_t *dead;                /* finished, its stack not yet given back (co__landed) */
    int budget;                /* I/O calls current may still make before it must yield (co__budget) */
#if CO_ASM_SWITCH
    void *sched_sp;            /* scheduler's stack pointer while a coroutine runs */
#else
    ucontext_t sched_uc;       /* scheduler's context while a coroutine runs */
#endif
    co_t *ready_head;          /* ready queue: next to run */
    co_t *ready_tail;          /* ready queue: last in */
    size_t nready;             /* length of the ready queue */
    struct heap timers;        /* deadlines of waits; room kept >= coroutines alive */
    struct co_fd *fds;         /* per-fd state, indexed by fd */
    size_t nfds;               /* length of fds */
    size_t fd_waiters;         /* coroutines parked on a descriptor */
    co_t *audit_head;          /* descriptor waits not yet checked, oldest first */
    co_t *audit_tail;          /* the newest */
    size_t alive;              /* coroutines not yet finished */
    uint64_t next_id;          /* the id the next coroutine gets */
    char **arenas;             /* every arena mapped, for co_init to unmap */
    size_t narenas;            /* how many */
    size_t arena_len;          /* bytes per arena (a whole number of slots) */
    char *arena_next;          /* the next slot to carve from the newest arena */
    char *arena_end;           /* the end of the newest arena */
    uintptr_t dirty[CO_STACK_POOL]; /* free slots still holding their pages (see CO_UNGUARDED) */
    size_t ndirty;             /* how many */
    uintptr_t *clean;          /* free slots whose pages were given back */
    size_t nclean;             /* how many */
    size_t clean_cap;          /* room in clean */
    int64_t pool_used;         /* co_now() when a stack last left or joined the pool */
#if CO_ASAN
    const void *sched_bottom;  /* the scheduler's stack, for ASan */
    size_t sched_size;         /* its size */
    void *sched_fake;          /* ASan's fake stack of the scheduler while away */
    int from_sched;            /* the switch under way left the scheduler */
#endif
#if CO_TSAN
    void *sched_fiber;         /* TSan's context of the scheduler */
#endif
};

static __thread struct co_loop co__L;
#define L co__L

/* Defined in coro_switch_<arch>.S; co__entry is called from co__stub. */
void co__switch(void **save_sp, void *load_sp);
void co__stub(void);
void co__entry(void);

static void co__die(const char *what)
{
    fprintf(stderr, "coro: internal error: %s\n", what);
    abort();
}

static int64_t co__clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The clock of this turn. A turn started in place by a hand-off (co__next)
 * only marks it stale; it is read again when someone asks. */
static int64_t co__now(void)
{
    if (L.now_stale) {
        L.now = co__clock();
        L.now_stale = 0;
    }
    return L.now;
}

/* === 1. stacks ============================================================ */

/* A stack slot: [map, map+page) is the guard, [map+page, map+page+stack)
 * the stack, growing down from the top. Slots are carved from ARENAS, large
 * mappings of CO_ARENA_BYTES each, never one mapping per coroutine: the
 * kernel allows a process vm.max_map_count mappings (65,530 by default), and
 * a million coroutines need a million stacks. Pages are only backed by memory
 * once touched, so a million idle coroutines cost what their call chains
 * touched (one page each for a sleeper), not a million x 64 KiB.
 *
 * Overflow protection, in two kinds (the count is per process):
 *   - the guard page is made PROT_NONE (mprotect) while the process has
 *     mapping budget left: touching it is a SIGSEGV at once, named by the
 *     handler below. Each guard inside an arena splits the arena's mapping in
 *     two more, so the first co__guard_budget / 2 stacks carved (about 16,000
 *     at the default limit) get one;
 *   - beyond that the guard page stays ordinary, untouched memory — a red
 *     zone that an overflow of less than a page spoils without reaching the
 *     neighbour below — and the stack gets a CANARY: its lowest CO_CANARY
 *     bytes must still read zero, checked every time the coroutine switches
 *     away (co__canary_check). Reading an untouched page maps the kernel's
 *     shared zero page, so the canary costs no memory.
 *
 * Finished stacks go back to a free list and are reused: in steady state a
 * new coroutine costs no mmap, no mprotect and no munmap. The list is two:
 * "dirty" slots still hold the pages their last user touched (at most
 * CO_STACK_POOL of them; more are released at once), "clean" ones were
 * released (MADV_DONTNEED: the pages go back to the kernel, the address
 * range and its guard stay). Once nobody has taken or returned a stack for
 * CO_POOL_IDLE_MS, the loop cleans all but CO_STACK_KEEP (co__stack_trim). */
static size_t co__guard_budget;             /* mappings the process may spend on guards */
static size_t co__maps_used;                /* ... spent so far, by every thread (atomic) */

static void co__guard_budget_init(void)
{
    /* CORO_GUARD_MAPS=N sets the budget instead (0: canaries only), for the
     * tests and for anyone who wants to see the other kind at work. */
    const char *env = getenv("CORO_GUARD_MAPS");
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        if (*end == 0) {
            co__guard_budget = (size_t)v;
            return;
        }
    }
    long max = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1)
            max = 65530;
        fclose(f);
    }
    /* Half for the stacks' guards, half for everything else (malloc, libraries,
     * other runtimes' threads). */
    co__guard_budget = (size_t)(max > 0 ? max : 0) / 2;
}

/* Spend n mappings of the budget, or say there is none left. */
static int co__maps_take(size_t n)
{
    size_t used = __atomic_load_n(&co__maps_used, __ATOMIC_RELAXED);
    do {
        if (used + n > co__guard_budget)
            return 0;
    } while (!__atomic_compare_exchange_n(&co__maps_used, &used, used + n, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return 1;
}

static size_t co__slot_bytes(void)
{
    return L.page + L.stack_bytes;
}

/* A fresh slot from the current arena, mapping a new arena when it is used
 * up. *guarded says whether it got a PROT_NONE guard page. */
static char *co__stack_carve(int *guarded)
{
    size_t slot = co__slot_bytes();
    if (L.arena_next + slot > L.arena_end) {
        size_t len = CO_ARENA_BYTES / slot * slot;
        if (len < slot)
            len = slot;
        char **t = realloc(L.arenas, (L.narenas + 1) * sizeof *t);
        if (!t)
            return NULL;
        L.arenas = t;
        char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        co__maps_take(1); /* counted even when over budget: it is there */
        L.arenas[L.narenas++] = m;
        L.arena_len = len; /* the same for every arena of this stack size */
        L.arena_next = m;
        L.arena_end = m + len;
    }
    char *m = L.arena_next;
    L.arena_next += slot;
    /* A guard in the middle of an arena: one mapping becomes three. */
    *guarded = co__maps_take(2);
    if (*guarded && mprotect(m, L.page, PROT_NONE) < 0) {
        __atomic_fetch_sub(&co__maps_used, 2, __ATOMIC_RELAXED);
        *guarded = 0;
    }
    return m;
}

/* The free lists hold slots as their address with the low bit set when the
 * slot has no guard page (slots are page-aligned: the bit is free). */
#define CO_UNGUARDED ((uintptr_t)1)

/* A stack slot for a new coroutine: from the free lists, else carved. */
static char *co__stack_get(int *guarded)
{
    L.pool_used = L.now;
    uintptr_t s;
    if (L.ndirty > 0)
        s = L.dirty[--L.ndirty];
    else if (L.nclean > 0)
        s = L.clean[--L.nclean];
    else
        return co__stack_carve(guarded);
    char *m = (char *)(s & ~CO_UNGUARDED);
    *guarded = !(s & CO_UNGUARDED);
#if CO_ASAN
    /* Frames of the last user may have left poisoned redzones behind. */
    ASAN_UNPOISON_MEMORY_REGION(m + L.page, L.stack_bytes);
#endif
    return m;
}

static int co__slot_cmp(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a & ~CO_UNGUARDED, y = *(const uintptr_t *)b & ~CO_UNGUARDED;
    return x < y ? -1 : x > y;
}

/* Give the pages of the n oldest dirty slots back to the kernel (they read
 * zero again) and move them to the clean list. Sorted by address, slots
 * carved one after another form runs, each released by ONE madvise (guard
 * pages included: MADV_DONTNEED may span them): when a million coroutines
 * finish, that is a few thousand system calls, not a million. */
static void co__stack_release(size_t n)
{
    if (L.nclean + n > L.clean_cap) {
        size_t cap = L.clean_cap ? L.clean_cap : 1024;
        while (cap < L.nclean + n)
            cap *= 2;
        uintptr_t *t = realloc(L.clean, cap * sizeof *t);
        if (!t)
            return; /* they stay dirty: memory is held, nothing breaks */
        L.clean = t;
        L.clean_cap = cap;
    }
    qsort(L.dirty, n, sizeof *L.dirty, co__slot_cmp);
    size_t slot = co__slot_bytes();
    for (size_t i = 0; i < n;) {
        char *lo = (char *)(L.dirty[i] & ~CO_UNGUARDED);
        size_t j = i + 1;
        while (j < n && (char *)(L.dirty[j] & ~CO_UNGUARDED) == lo + (j - i) * slot)
            j++;
        madvise(lo + L.page, (j - i) * slot - L.page, MADV_DONTNEED);
        i = j;
    }
    memcpy(L.clean + L.nclean, L.dirty, n * sizeof *L.dirty);
    L.nclean += n;
    L.ndirty -= n;
    memmove(L.dirty, L.dirty + n, L.ndirty * sizeof *L.dirty);
}

/* A finished coroutine's slot m goes back to the free lists: a full dirty
 * list first releases its older half. */
static void co__stack_put(char *m, int guarded)
{
    L.pool_used = L.now;
    if (L.ndirty == CO_STACK_POOL)
        co__stack_release(CO_STACK_POOL / 2);
    if (L.ndirty == CO_STACK_POOL)
        co__die("out of memory for the stack free list");
    L.dirty[L.ndirty++] = (uintptr_t)m | (guarded ? 0 : CO_UNGUARDED);
}

/* Forget every arena (co_init with another stack size, nothing alive). */
static void co__stack_cache_drop(void)
{
    size_t guards = 0;
    for (size_t i = 0; i < L.ndirty; i++)
        guards += !(L.dirty[i] & CO_UNGUARDED);
    for (size_t i = 0; i < L.nclean; i++)
        guards += !(L.clean[i] & CO_UNGUARDED);
    for (size_t i = 0; i < L.narenas; i++)
        munmap(L.arenas[i], L.arena_len);
    __atomic_fetch_sub(&co__maps_used, L.narenas + 2 * guards, __ATOMIC_RELAXED);
    free(L.arenas);
    free(L.clean);
    L.arenas = NULL;
    L.clean = NULL;
    L.narenas = L.ndirty = L.nclean = L.clean_cap = 0;
    L.arena_next = L.arena_end = NULL;
}

/* An idle pool gives back the pages of all but CO_STACK_KEEP stacks. */
static void co__stack_trim(void)
{
    if (L.ndirty <= CO_STACK_KEEP || L.now - L.pool_used < CO_POOL_IDLE_MS)
        return;
    co__stack_release(L.ndirty - CO_STACK_KEEP);
}

/* --- stack overflow: a named report instead of a bare SIGSEGV ------------- */

/* A coroutine that overflows its stack touches the guard page (or, with a
 * frame larger than a page, jumps over it) and gets SIGSEGV. Its stack is
 * exhausted, so the handler runs on an alternate signal stack (sigaltstack,
 * one per thread), checks whether the fault belongs to the running
 * coroutine's stack, and if so writes one line naming the coroutine with
 * async-signal-safe calls only (write(2), no stdio). Either way it then puts
 * the previous disposition back and returns: the faulting instruction runs
 * again and this time dies by the default SIGSEGV (status 139 in a shell, a
 * core dump if enabled), or goes to whoever handled SIGSEGV before us (a
 * sanitizer). */
static struct sigaction co__old_segv; /* the SIGSEGV disposition before ours */

/* The interrupted stack pointer, or 0 where we do not know how to find it. */
static uintptr_t co__fault_sp(void *uctx)
{
    ucontext_t *uc = uctx;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

/* Did the running coroutine c run off the bottom of its stack? Either the
 * fault is in its guard page, or its stack pointer is already below it (a
 * big frame jumped over the guard; the fault came from the first push or
 * store that hit something unmapped). */
static int co__overflowed(const co_t *c, uintptr_t addr, uintptr_t sp)
{
    uintptr_t guard = (uintptr_t)c->map, lo = guard + L.page;
    if (addr >= guard && addr < lo)
        return 1;
    return sp != 0 && sp < lo && lo - sp < ((uintptr_t)16 << 20);
}

static char *co__put_str(char *p, char *end, const char *s)
{
    while (*s && p < end)
        *p++ = *s++;
    return p;
}

static char *co__put_u64(char *p, char *end, uint64_t v)
{
    char d[20];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0 && p < end)
        *p++ = d[--n];
    return p;
}

static void co__segv(int sig, siginfo_t *si, void *uctx)
{
    int saved = errno;
    co_t *c = L.current;
    if (c && c->map && co__overflowed(c, (uintptr_t)si->si_addr, co__fault_sp(uctx))) {
        char msg[200], *p = msg, *end = msg + sizeof msg;
        p = co__put_str(p, end, program_invocation_short_name);
        p = co__put_str(p, end, ": stack overflow in coroutine ");
        p = co__put_u64(p, end, c->id);
        p = co__put_str(p, end, " (stack ");
        p = co__put_u64(p, end, L.stack_bytes / 1024);
        p = co__put_str(p, end, " KiB); raise --stack-kib\n");
        ssize_t w = write(STDERR_FILENO, msg, (size_t)(p - msg));
        (void)w; /* nothing more to do if even this fails */
    }
    sigaction(SIGSEGV, &co__old_segv, NULL);
    errno = saved;
}

static void co__segv_install_once(void)
{
    struct sigaction sa = {.sa_sigaction = co__segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &co__old_segv);
}

/* The handler is process-wide (installed once); the signal stack is per
 * thread, and only added where the thread has none yet (a sanitizer may
 * have set one up). Failure is not an error: only the report is lost. */
static void co__segv_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, co__segv_install_once);
    stack_t cur;
    if (sigaltstack(NULL, &cur) < 0 || !(cur.ss_flags & SS_DISABLE))
        return;
    void *m = mmap(NULL, CO_ALTSTACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return;
    stack_t ss = {.ss_sp = m, .ss_size = CO_ALTSTACK};
    if (sigaltstack(&ss, NULL) < 0)
        munmap(m, CO_ALTSTACK);
}

/* The canary of an unguarded stack (see "1. stacks"): its lowest CO_CANARY
 * bytes must still read zero whenever the coroutine switches away. Once they
 * do not, the coroutine has run off its stack: say which one and abort, before
 * it runs again on memory it spoiled. Read with ASan's checks off: those bytes
 * belong to no object, and may lie under a redzone a frame left there. */
__attribute__((no_sanitize_address)) static void co__canary_check(const co_t *c)
{
    const uint64_t *w = (const uint64_t *)(const void *)(c->map + L.page);
    uint64_t any = 0;
    for (size_t i = 0; i < CO_CANARY / sizeof *w; i++)
        any |= w[i];
    if (!any)
        return;
    fprintf(stderr, "%s: stack overflow in coroutine %llu (stack %zu KiB, caught by its canary); raise --stack-kib\n",
            program_invocation_short_name, (unsigned long long)c->id, L.stack_bytes / 1024);
    abort();
}

/* === 2. the switch ======================================================== */

/* Build the first frame of a new coroutine so that switching to it "returns"
 * into co__stub, which calls co__entry (see the .S files for the layout). */
static void co__ctx_init(co_t *c)
{
    char *lo = c->map + L.page;
    uintptr_t top = ((uintptr_t)lo + L.stack_bytes) & ~(uintptr_t)15;
#if defined(__x86_64__)
    uint64_t *f = (uint64_t *)top - 8;          /* csr, r15..r12, rbx, rbp, ret */
    memset(f, 0, 8 * sizeof *f);
    f[0] = 0x1F80u | ((uint64_t)0x037Fu << 32); /* default MXCSR and x87 control word */
    f[7] = (uint64_t)(uintptr_t)co__stub;       /* where the first `ret` goes */
    c->sp = f;
#elif defined(__aarch64__)
    uint64_t *f = (uint64_t *)top - 22;         /* the 176-byte frame */
    memset(f, 0, 22 * sizeof *f);
    f[11] = (uint64_t)(uintptr_t)co__stub;      /* x30, where the first `ret` goes */
    c->sp = f;
#else
    if (getcontext(&c->uc) < 0)
        co__die("getcontext failed");
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = L.stack_bytes;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, co__entry, 0);
#endif
}

static void co__landed(co_t *self);
static co_t *co__ready_pop(void);

/* One switch, from the running context to another: `from` and `to` are
 * coroutines, or NULL for the scheduler (co_run's own stack). `final`: from
 * has finished and never comes back (ASan may then drop its fake stack).
 * Returns when something switches back to `from`. */
static void co__jump(co_t *from, co_t *to, int final)
{
#if CO_ASAN
    L.from_sched = from == NULL;
    __sanitizer_start_switch_fiber(final ? NULL : from ? &from->asan_fake : &L.sched_fake,
                                   to ? to->map + L.page : L.sched_bottom, to ? L.stack_bytes : L.sched_size);
#endif
#if CO_TSAN
    __tsan_switch_to_fiber(to ? to->tsan_fiber : L.sched_fiber, 0);
#endif
    (void)final;
    L.current = to;
    if (to) {
        to->state = CO_RUNNING;
        L.budget = CO_BUDGET; /* a fresh turn: the fairness budget starts again */
    }
#if CO_ASM_SWITCH
    co__switch(from ? &from->sp : &L.sched_sp, to ? to->sp : L.sched_sp);
#else
    if (swapcontext(from ? &from->uc : &L.sched_uc, to ? &to->uc : &L.sched_uc) < 0)
        co__die("swapcontext failed");
#endif
    co__landed(from);
}

/* Back on `self` (NULL: the scheduler) after a switch: tell ASan, and give
 * back the stack of a coroutine that finished on the way here — it could
 * not do that itself while standing on it. */
static void co__landed(co_t *self)
{
#if CO_ASAN
    const void *bottom;
    size_t size;
    int from_sched = L.from_sched;
    __sanitizer_finish_switch_fiber(self ? self->asan_fake : L.sched_fake, &bottom, &size);
    if (self && from_sched) {
        L.sched_bottom = bottom; /* the scheduler's stack, to switch back to it */
        L.sched_size = size;
    }
#endif
    (void)self;
    co_t *dead = L.dead;
    if (!dead)
        return;
    L.dead = NULL;
    co__stack_put(dead->map, dead->guarded);
    dead->map = NULL;
#if CO_TSAN
    __tsan_destroy_fiber(dead->tsan_fiber);
    dead->tsan_fiber = NULL;
#endif
    if (dead->detached)
        free(dead);
}

/* The hand-off (after libdill): a coroutine that waits, yields or finishes
 * switches STRAIGHT to the next ready coroutine — one switch, not two via
 * the scheduler. It goes back to the scheduler only when the loop must look
 * outside: the turn is over (every coroutine that was ready when it began
 * has run) and someone waits for a descriptor or a timer; or co_stop(); or
 * nobody is ready. A turn that ends with only CPU work left (coroutines that
 * yield, nobody waiting on I/O or time) starts the next turn in place, and
 * marks the clock stale instead of reading it (co__now reads it when asked):
 * two coroutines ping-ponging never leave their stacks. NULL = the scheduler. */
static co_t *co__next(void)
{
    if (L.stop || !L.ready_head)
        return NULL;
    if (L.turn_left == 0) {
        if (L.fd_waiters > 0 || heap_top(&L.timers) || L.ndirty > CO_STACK_KEEP)
            return NULL;
        L.turn_left = L.nready; /* a new turn, with nothing to poll */
        L.now_stale = 1;
    }
    L.turn_left--;
    return co__ready_pop();
}

/* The running coroutine c stops running: it has queued itself (yield),
 * parked (a wait) or finished (`final`; L.dead is c). Checks its canary on
 * the way out. */
static void co__switch_away(co_t *c, int final)
{
    if (!c->guarded)
        co__canary_check(c);
    co_t *next = co__next();
    if (next == c) { /* it was the only one ready: carry on */
        c->state = CO_RUNNING;
        L.budget = CO_BUDGET;
        return;
    }
    co__jump(c, next, final);
}

/* === 3. queues ============================================================ */

static void co__ready(co_t *c)
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

static co_t *co__ready_pop(void)
{
    co_t *c = L.ready_head;
    L.ready_head = c->ready_next;
    if (!L.ready_head)
        L.ready_tail = NULL;
    L.nready--;
    return c;
}

/* The coroutine whose timer node n is. */
static co_t *co__of_timer(struct heap_node *n)
{
    return heap_entry(n, co_t, timer);
}

/* Channel waiter queues: doubly linked so a wake can unlink from the middle. */
static void co__q_push(struct co_waitq *q, co_t *c)
{
    c->q_next = NULL;
    c->q_prev = q->tail;
    if (q->tail)
        q->tail->q_next = c;
    else
        q->head = c;
    q->tail = c;
}

static void co__q_remove(struct co_waitq *q, co_t *c)
{
    if (c->q_prev)
        c->q_prev->q_next = c->q_next;
    else
        q->head = c->q_next;
    if (c->q_next)
        c->q_next->q_prev = c->q_prev;
    else
        q->tail = c->q_prev;
    c->q_next = c->q_prev = NULL;
}

/* The audit list: descriptor waits in the order they began (see
 * co__fd_audit), doubly linked so a wake can unlink from the middle. */
static void co__audit_push(co_t *c)
{
    c->in_audit = 1;
    c->audit_next = NULL;
    c->audit_prev = L.audit_tail;
    if (L.audit_tail)
        L.audit_tail->audit_next = c;
    else
        L.audit_head = c;
    L.audit_tail = c;
}

static void co__audit_remove(co_t *c)
{
    if (!c->in_audit)
        return;
    c->in_audit = 0;
    if (c->audit_prev)
        c->audit_prev->audit_next = c->audit_next;
    else
        L.audit_head = c->audit_next;
    if (c->audit_next)
        c->audit_next->audit_prev = c->audit_prev;
    else
        L.audit_tail = c->audit_prev;
    c->audit_next = c->audit_prev = NULL;
}

/* === 4. waiting and waking ================================================ */

/* The running coroutine, if it may wait: -1 + EPERM outside a coroutine,
 * ECANCELED once cancelled (libdill's rule: a cancelled coroutine's blocking
 * calls all fail, so it unwinds). */
static co_t *co__waiter(void)
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

/* Undo whatever registration the waiting coroutine c made. */
static void co__unwait(co_t *c)
{
    heap_remove(&L.timers, &c->timer);
    switch (c->wait) {
    case CO_W_FD:
        if (c->wait_dirs & CO_READ)
            L.fds[c->wait_fd].reader = NULL;
        if (c->wait_dirs & CO_WRITE)
            L.fds[c->wait_fd].writer = NULL;
        L.fd_waiters--;
        co__audit_remove(c);
        break;
    case CO_W_JOIN:
        c->join_target->joiner = NULL;
        break;
    case CO_W_CHAN:
        co__q_remove(c->wait_q, c);
        break;
    case CO_W_NONE:
        break;
    }
    c->wait = CO_W_NONE;
}

/* Make a waiting coroutine ready; its wait returns `err` (0 = success). */
static void co__wake(co_t *c, int err)
{
    if (c->state != CO_WAITING)
        return;
    co__unwait(c);
    c->wake_err = err;
    co__ready(c);
}

/* Park the running coroutine (the caller has filled in c->wait and friends)
 * until co__wake, or until `deadline` (ETIMEDOUT). Returns the wake reason. */
static int co__suspend(co_t *c, int64_t deadline)
{
    /* Room was reserved when the coroutine was created: this cannot fail. */
    if (deadline >= 0 && heap_push(&L.timers, &c->timer, deadline) < 0)
        co__die("timer heap full");
    c->state = CO_WAITING;
    co__switch_away(c, 0);
    return c->wake_err;
}

/* The fairness budget (after Tokio's cooperative budget). An I/O call that
 * finds its data or room ready completes without waiting, so a coroutine fed
 * by a peer that never pauses would never wait: it would keep the thread, the
 * clock (read once per turn) would stand still, its deadline would never be
 * checked, and nobody else would run — not even the coroutine that handles
 * SIGTERM. So every I/O call spends one unit of a budget of CO_BUDGET, which
 * is refilled whenever the scheduler resumes the coroutine (after any real
 * wait or yield); every CO_CLOCK_EVERY units it also reads the clock, and
 * the turn is over after CO_SLICE_MS too (a clock read costs ~80 ns on a
 * virtual machine: too dear for every call, cheap once per eight). The call
 * that finds the budget spent first goes round the loop once, as co_yield()
 * does — everyone ready runs, epoll is polled, the clock is read — and then
 * fails with ECANCELED if the coroutine was cancelled meanwhile, or
 * ETIMEDOUT if its deadline has passed. Checked before the I/O, never after,
 * so no byte read is ever thrown away. A coroutine that waits now and then
 * (every echo or fetch under normal load) never reaches the clock check. */
/* Has c been cancelled, or has its deadline passed by the clock of this
 * turn? -1 with ECANCELED or ETIMEDOUT, else 0. Costs no system call. */
static int co__expired(const co_t *c, int64_t deadline)
{
    if (c->cancelled) {
        errno = ECANCELED;
        return -1;
    }
    if (deadline >= 0 && co__now() >= deadline) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

static int co__budget(co_t *c, int64_t deadline)
{
    /* First the free check against the clock of this turn: a coroutine woken
     * by data every turn is never woken by its timer (events are handed out
     * before timers fire), so a peer that drips fast enough would keep it
     * past its deadline. */
    if (co__expired(c, deadline) < 0)
        return -1;
    if (L.budget > 0) {
        L.budget--;
        if (L.budget % CO_CLOCK_EVERY != 0 || co__clock() - co__now() < CO_SLICE_MS)
            return 0;
    }
    co__ready(c);
    co__switch_away(c, 0); /* back with a full budget */
    if (co__expired(c, deadline) < 0)
        return -1;
    L.budget--;
    return 0;
}

/* === 5. descriptors ======================================================= */

/* The state of fd, growing the table on demand. The table may move, so
 * never keep a pointer into it across a wait. */
static struct co_fd *co__fd(int fd)
{
    if (fd < 0) {
        errno = EBADF;
        return NULL;
    }
    if ((size_t)fd < L.nfds)
        return &L.fds[fd];
    size_t n = L.nfds ? L.nfds : 64;
    while (n <= (size_t)fd)
        n *= 2;
    struct co_fd *t = realloc(L.fds, n * sizeof *t);
    if (!t)
        return NULL;
    memset(t + L.nfds, 0, (n - L.nfds) * sizeof *t);
    L.fds = t;
    L.nfds = n;
    return &L.fds[fd];
}

/* Is fd a byte stream (pipe, FIFO, SOCK_STREAM)? Only then does a short read
 * prove the queue was drained; a datagram socket may hold more datagrams. */
static int co__fd_is_stream(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
        return type == SOCK_STREAM; /* a socket: one system call tells */
    struct stat st;
    return errno == ENOTSOCK && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* Add fd to the epoll set once, for everything, edge-triggered: no
 * epoll_ctl per wait. EPOLL_CTL_ADD reports a descriptor that is already
 * ready, so nothing that happened before registration is missed. */
static int co__fd_register(int fd, struct co_fd *s)
{
    if (s->registered)
        return 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd};
    if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        /* EEXIST means exactly "this file under this number is in the set
         * already" (our state for it was reset, e.g. by co_accept after a
         * plain close()): set our mask. Any other failure is returned. */
        if (errno != EEXIST || epoll_ctl(L.epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
            return -1;
    }
    s->registered = 1;
    return 0;
}

/* Forget fd: wake its waiters with EBADF, drop its epoll registration. */
static void co__fd_forget(int fd)
{
    if (fd < 0 || (size_t)fd >= L.nfds)
        return;
    if (L.fds[fd].reader)
        co__wake(L.fds[fd].reader, EBADF);
    if (L.fds[fd].writer)
        co__wake(L.fds[fd].writer, EBADF);
    /* No EPOLL_CTL_DEL: closing the file takes it out of the epoll set (a
     * system call per connection saved). Only a file that is still open
     * elsewhere (dup'ed, inherited by a child) stays in the set; its events
     * then arrive under this number as hints for whatever file holds it
     * next — a wasted read() that finds EAGAIN, never a lost wake. */
    memset(&L.fds[fd], 0, sizeof L.fds[fd]);
}

/* Check that a descriptor someone has waited on for CO_AUDIT_MS is really in
 * the epoll set. The runtime keeps a "registered" flag per fd NUMBER, but the
 * kernel drops a file from the set when it is closed; if the program closed
 * it with plain close() (not co_close) and the kernel gave the number to a
 * new file, the flag lies, no event will ever come, and the wait would last
 * until its deadline. Checking every wait would cost a system call per
 * message; checking the few that last long costs at most one epoll_ctl per
 * CO_AUDIT_MS of waiting. EPOLL_CTL_MOD answers without guessing:
 *   0       it is there (MOD also reports readiness that already exists);
 *   ENOENT  the number names a file that is not in the set: a reused number.
 *           Forget what we knew about the old file, ADD the new one (ADD
 *           reports its readiness, which wakes the waiter);
 *   EBADF   the number is closed: wake the waiters with EBADF;
 *   else    (EPERM: a file epoll cannot watch) wake them with that error. */
static void co__fd_audit(int fd)
{
    struct co_fd *s = &L.fds[fd];
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd};
    if (epoll_ctl(L.epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return;
    int err = errno;
    if (err == ENOENT) {
        co_t *r = s->reader, *w = s->writer;
        memset(s, 0, sizeof *s);
        s->reader = r;
        s->writer = w;
        if (co__fd_register(fd, s) == 0)
            return;
        err = errno;
    }
    if (s->reader)
        co__wake(s->reader, err);
    if (s->writer)
        co__wake(s->writer, err);
    memset(s, 0, sizeof *s);
}

/* Audit the descriptor waits that began CO_AUDIT_MS ago or earlier. */
static void co__audit(void)
{
    while (L.audit_head && L.audit_head->parked_at + CO_AUDIT_MS <= L.now) {
        co_t *c = L.audit_head;
        co__audit_remove(c);
        co__fd_audit(c->wait_fd);
    }
}

/* Park the running coroutine c until fd gives an edge in one of `dirs`
 * (CO_READ, CO_WRITE), or the deadline, cancellation or co_close. */
static int co__fd_wait(co_t *c, int fd, int dirs, int64_t deadline)
{
    struct co_fd *s = co__fd(fd);
    if (!s)
        return -1;
    if (co__fd_register(fd, s) < 0)
        return -1;
    if (((dirs & CO_READ) && s->reader) || ((dirs & CO_WRITE) && s->writer)) {
        errno = EBUSY; /* one reader and one writer per descriptor */
        return -1;
    }
    if (dirs & CO_READ)
        s->reader = c;
    if (dirs & CO_WRITE)
        s->writer = c;
    c->wait = CO_W_FD;
    c->wait_fd = fd;
    c->wait_dirs = dirs;
    c->parked_at = co__now();
    co__audit_push(c);
    L.fd_waiters++;
    int err = co__suspend(c, deadline);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

/* An epoll event for fd: turn it into hints and wake the waiters. A hang-up
 * or an error is sticky: from then on every read/write just tries, and gets
 * its 0 or its error from the kernel. */
static void co__fd_event(int fd, uint32_t ev)
{
    if (fd < 0 || (size_t)fd >= L.nfds || !L.fds[fd].registered)
        return;
    struct co_fd *s = &L.fds[fd];
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        s->rd_closed = 1;
    if (ev & (EPOLLHUP | EPOLLERR))
        s->wr_closed = 1;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        s->readable = 1;
        if (s->reader)
            co__wake(s->reader, 0);
    }
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
        s->writable = 1;
        if (s->writer)
            co__wake(s->writer, 0);
    }
}

/* === 6. the loop ========================================================== */

/* Every coroutine starts here (via co__stub) and ends here. */
void co__entry(void)
{
    co_t *c = L.current;
    co__landed(c);
    c->fn(c->arg);
    c->state = CO_DONE;
    L.alive--;
    if (c->joiner)
        co__wake(c->joiner, 0);
    L.dead = c; /* whoever runs next gives its stack back */
    co__switch_away(c, 1);
    co__die("a finished coroutine was resumed");
}

/* Run a turn: the coroutines that are ready now, each handing off to the
 * next (co__next). Those made ready meanwhile (a co_yield, a new co_go) wait
 * for the next turn, so I/O is polled between. */
static void co__run_ready(void)
{
    L.turn_left = L.nready;
    while (L.turn_left > 0 && L.ready_head && !L.stop) {
        L.turn_left--;
        co__jump(NULL, co__ready_pop(), 0);
    }
    L.turn_left = 0;
}

/* How long epoll_wait may sleep: not at all if something is ready, until
 * the nearest deadline or registration audit if there is one, else for ever
 * (-1). */
static int co__timeout(void)
{
    if (L.nready > 0)
        return 0;
    struct heap_node *t = heap_top(&L.timers);
    int64_t next = t ? t->key : -1;
    if (L.audit_head && (next < 0 || L.audit_head->parked_at + CO_AUDIT_MS < next))
        next = L.audit_head->parked_at + CO_AUDIT_MS;
    if (next < 0)
        return -1;
    int64_t ms = next - L.now;
    if (ms < 0)
        return 0;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void co__expire_timers(void)
{
    struct heap_node *t;
    while ((t = heap_top(&L.timers)) && t->key <= L.now)
        co__wake(co__of_timer(t), ETIMEDOUT);
}

/* One wait for the outside world: fd events and timers. */
static int co__poll(void)
{
    struct epoll_event ev[CO_EVENT_BATCH];
    L.now = co__clock();
    L.now_stale = 0;
    if (L.nready > 0 && L.fd_waiters == 0) {
        /* Only CPU work and timers: no need to ask the kernel. Edges stay
         * queued in epoll until someone waits on a descriptor. */
        co__expire_timers();
        return 0;
    }
    int timeout = co__timeout();
    if (timeout < 0 && L.fd_waiters == 0) {
        errno = EDEADLK; /* everyone waits on a channel or join, for ever */
        return -1;
    }
    /* A pool worth trimming wakes the loop when it has been idle long enough. */
    if (L.ndirty > CO_STACK_KEEP) {
        int64_t t = L.pool_used + CO_POOL_IDLE_MS - L.now;
        if (t < 0)
            t = 0;
        if (timeout < 0 || t < timeout)
            timeout = (int)t;
    }
    int n = epoll_wait(L.epfd, ev, CO_EVENT_BATCH, timeout);
    int err = errno;
    L.now = co__clock();
    L.now_stale = 0;
    if (n < 0 && err != EINTR) {
        errno = err;
        return -1;
    }
    for (int i = 0; i < n; i++)
        co__fd_event(ev[i].data.fd, ev[i].events);
    co__expire_timers();
    co__audit();
    co__stack_trim();
    return 0;
}

/* === the public API: the runtime ========================================== */

int co_init(size_t stack_bytes)
{
    if (L.alive > 0 || L.running) {
        errno = EBUSY; /* the stack size of live coroutines cannot change */
        return -1;
    }
    if (stack_bytes == 0)
        stack_bytes = CO_STACK_DEFAULT;
    if (stack_bytes < CO_STACK_MIN) {
        errno = EINVAL;
        return -1;
    }
    if (!L.inited) {
        L.epfd = epoll_create1(EPOLL_CLOEXEC);
        if (L.epfd < 0)
            return -1;
        L.page = (size_t)sysconf(_SC_PAGESIZE);
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, co__guard_budget_init);
        co__segv_install();
    }
    co__stack_cache_drop(); /* cached stacks have the old size */
    L.stack_bytes = (stack_bytes + L.page - 1) / L.page * L.page;
    L.now = co__clock();
    L.now_stale = 0;
    L.inited = 1;
    return 0;
}

static int co__ensure_init(void)
{
    return L.inited ? 0 : co_init(0);
}

int co_run(void)
{
    if (co__ensure_init() < 0)
        return -1;
    if (L.running) {
        errno = EBUSY; /* co_run inside co_run */
        return -1;
    }
    L.running = 1;
    L.stop = 0;
#if CO_TSAN
    L.sched_fiber = __tsan_get_current_fiber();
#endif
    int rc = 0;
    L.now = co__clock();
    L.now_stale = 0;
    while (!L.stop && L.alive > 0) {
        co__run_ready();
        if (L.stop || L.alive == 0)
            break;
        if (co__poll() < 0) {
            rc = -1;
            break;
        }
    }
    L.running = 0;
    return rc;
}

void co_stop(void)
{
    L.stop = 1; /* one store: safe from a signal handler on this thread */
}

int64_t co_now(void)
{
    return L.inited ? co__now() : co__clock();
}

size_t co_count(void)
{
    return L.alive;
}

/* === the public API: coroutines =========================================== */

static co_t *co__new(void (*fn)(void *), void *arg, int detached)
{
    if (!fn) {
        errno = EINVAL;
        return NULL;
    }
    if (co__ensure_init() < 0 || heap_reserve(&L.timers, L.alive + 1) < 0)
        return NULL;
    co_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->map = co__stack_get(&c->guarded);
    if (!c->map) {
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    c->id = ++L.next_id;
    c->fn = fn;
    c->arg = arg;
    c->detached = detached;
    heap_node_init(&c->timer);
#if CO_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
#endif
    co__ctx_init(c);
    L.alive++;
    co__ready(c);
    return c;
}

int co_go(void (*fn)(void *), void *arg)
{
    return co__new(fn, arg, 1) ? 0 : -1;
}

co_t *co_spawn(void (*fn)(void *), void *arg)
{
    return co__new(fn, arg, 0);
}

int co_join(co_t *c, int64_t deadline)
{
    if (!c || c->detached) {
        errno = EINVAL;
        return -1;
    }
    if (c->state != CO_DONE) {
        co_t *self = co__waiter();
        if (!self)
            return -1;
        if (c == self) {
            errno = EDEADLK;
            return -1;
        }
        if (c->joiner) {
            errno = EBUSY;
            return -1;
        }
        c->joiner = self;
        self->wait = CO_W_JOIN;
        self->join_target = c;
        int err = co__suspend(self, deadline);
        if (err) {
            errno = err;
            return -1;
        }
    }
    free(c); /* its stack went back when it finished */
    return 0;
}

int co_cancel(co_t *c)
{
    if (!c) {
        errno = EINVAL;
        return -1;
    }
    if (c->state == CO_DONE)
        return 0;
    c->cancelled = 1;
    co__wake(c, ECANCELED); /* does nothing unless it is parked */
    return 0;
}

int co_cancelled(void)
{
    return L.current ? L.current->cancelled : 0;
}

co_t *co_self(void)
{
    return L.current;
}

/* === the public API: waiting ============================================== */

int co_yield(void)
{
    co_t *c = co__waiter();
    if (!c)
        return -1;
    co__ready(c); /* to the back of the queue: everyone ready runs first */
    co__switch_away(c, 0);
    if (c->cancelled) {
        errno = ECANCELED;
        return -1;
    }
    return 0;
}

int co_sleep_until(int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c)
        return -1;
    c->wait = CO_W_NONE;
    /* A deadline already passed still goes round the loop once: sleep(0)
     * lets the others run, as asyncio.sleep(0) does. */
    int err = co__suspend(c, deadline);
    if (err == ETIMEDOUT)
        return 0;
    errno = err ? err : EINTR;
    return -1;
}

int co_sleep(int64_t ms)
{
    return co_sleep_until(co_now() + (ms > 0 ? ms : 0));
}

int co_wait_fd(int fd, int events, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c || co__budget(c, deadline) < 0)
        return -1;
    if (events == 0 || (events & ~(CO_READ | CO_WRITE))) {
        errno = EINVAL;
        return -1;
    }
    struct co_fd *s = co__fd(fd);
    if (!s)
        return -1;
    /* A registered descriptor whose hints say "not ready" was drained when
     * they were cleared, and any change since makes an edge: wait for it, no
     * system call (the idle echo connection's path). A hint that says
     * "ready" may be stale when the caller did its own read()/write(), so
     * only then ask the kernel once. An unregistered one is registered by
     * the wait, and EPOLL_CTL_ADD reports readiness that is already there. */
    int hinted = ((events & CO_READ) && s->readable) || ((events & CO_WRITE) && s->writable);
    if (s->registered && hinted) {
        struct pollfd p = {.fd = fd};
        p.events = (short)(((events & CO_READ) ? POLLIN : 0) | ((events & CO_WRITE) ? POLLOUT : 0));
        if (poll(&p, 1, 0) < 0)
            return -1;
        if (p.revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        if (p.revents)
            return 0;
        if (events & CO_READ)
            s->readable = 0;
        if (events & CO_WRITE)
            s->writable = 0;
    }
    return co__fd_wait(c, fd, events, deadline);
}

/* === the public API: I/O ================================================== */

/* Why hints. With edge-triggered epoll the kernel reports a change, not a
 * level, so the runtime remembers the last known state per fd:
 *   - "readable" is set by an edge. A read() that returns fewer bytes than
 *     asked on a stream has drained the queue, so the hint is cleared: the
 *     next co_read parks at once instead of calling read() to get EAGAIN.
 *     Any data arriving later makes a new edge, so nothing is missed.
 *   - EAGAIN clears the hint too (a stale edge, or a datagram socket).
 *   - EOF and errors are sticky (rd_closed): reads then never park.
 * An echo message thus costs one read(), one write() and a share of one
 * epoll_wait — the same as a hand-written level-triggered epoll server.
 * A descriptor not yet registered is registered and waited on without a
 * read first: a read right after connecting or sending a request finds
 * nothing far more often than not, and EPOLL_CTL_ADD reports data that is
 * already there. (co_write and co_accept do try first: room to write, and a
 * waiting connection, are the usual case; so does the first co_read of a
 * connection from co_accept, whose client has usually sent already.) */
ssize_t co_read(int fd, void *buf, size_t len, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c || co__budget(c, deadline) < 0)
        return -1;
    struct co_fd *s = co__fd(fd);
    if (!s)
        return -1;
    if (!s->registered && !s->readable && co__fd_register(fd, s) < 0) {
        if (errno != EPERM)
            return -1;
        /* A file epoll cannot watch (a regular file, /dev/zero) never makes
         * a reader wait: read it as it is, for ever. */
        s->readable = s->rd_closed = 1;
    }
    for (;;) {
        if (s->readable) {
            ssize_t n = read(fd, buf, len);
            if (n > 0) {
                if ((size_t)n < len && s->stream && !s->rd_closed)
                    s->readable = 0;
                return n;
            }
            if (n == 0)
                return 0;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            s->readable = 0;
        }
        if (co__fd_wait(c, fd, CO_READ, deadline) < 0)
            return -1;
        s = &L.fds[fd]; /* the table may have grown while we waited */
    }
}

ssize_t co_write(int fd, const void *buf, size_t len, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c || co__budget(c, deadline) < 0)
        return -1;
    struct co_fd *s = co__fd(fd);
    if (!s)
        return -1;
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        if (!s->registered || s->writable) {
            ssize_t n = write(fd, p + done, len - done);
            if (n > 0) {
                done += (size_t)n;
                if (done < len && !s->wr_closed)
                    s->writable = 0; /* a short write: the send buffer is full */
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            s->writable = 0;
        }
        if (co__fd_wait(c, fd, CO_WRITE, deadline) < 0)
            return -1;
        s = &L.fds[fd];
    }
    return (ssize_t)len;
}

/* A connection accepted from lfd: forget stale state under its number (a
 * plain close()), and give it the listener's type — a connection of a
 * SOCK_STREAM listener is a stream — so it is never probed. */
static void co__fd_accepted(int lfd, int fd)
{
    co__fd_forget(fd);
    struct co_fd *s = co__fd(fd); /* may move the table: take lfd's slot after */
    if (!s)
        return; /* out of memory: the first wait will fail and say so */
    struct co_fd *ls = &L.fds[lfd];
    if (!ls->stream_known) {
        ls->stream = (unsigned char)co__fd_is_stream(lfd);
        ls->stream_known = 1;
    }
    s->stream = ls->stream;
    s->stream_known = 1;
    /* A client usually sends its first request right after connecting, so
     * the first co_read tries at once instead of waiting a loop turn for
     * the registration's event (at worst one EAGAIN per connection). */
    s->readable = 1;
}

int co_accept(int lfd, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c || co__budget(c, deadline) < 0)
        return -1;
    struct co_fd *s = co__fd(lfd);
    if (!s)
        return -1;
    for (;;) {
        if (!s->registered || s->readable) {
            int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                co__fd_accepted(lfd, fd);
                return fd;
            }
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1; /* EMFILE and friends: the caller decides */
            s->readable = 0;
        }
        if (co__fd_wait(c, lfd, CO_READ, deadline) < 0)
            return -1;
        s = &L.fds[lfd];
    }
}

/* Connecting costs what it costs a hand-written epoll client (fetch-epoll):
 * one connect(), nothing else. A non-blocking connect() answers EINPROGRESS
 * even when, as over loopback, the kernel has already run the whole handshake
 * inside the call. Asking whether it has (a poll(), then getsockopt(SO_ERROR))
 * would be two more system calls per connection, so co_connect does not ask:
 * it returns 0, and the descriptor's first co_write or co_read tries at once.
 * If the handshake is still going on, that write() or read() gets EAGAIN and
 * the coroutine waits for the socket, with its deadline, as for any I/O; if
 * the handshake failed, it fails with the reason (ECONNREFUSED, ETIMEDOUT),
 * which a blocking connect() would have given one call earlier. */
int co_connect(int fd, const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c || co__budget(c, deadline) < 0)
        return -1;
    co__fd_forget(fd);
    if (connect(fd, sa, len) == 0 || errno == EINPROGRESS)
        return 0;
    if (errno == EINTR)
        return 0; /* a non-blocking connect goes on without us */
    return -1;
}

int co_close(int fd)
{
    co__fd_forget(fd);
    return close(fd);
}

/* === the public API: channels ============================================= */

struct co_chan {
    void **buf;                 /* ring buffer of capacity slots */
    size_t cap;                 /* slots */
    size_t head;                /* index of the oldest item */
    size_t len;                 /* items queued */
    int closed;                 /* co_chan_close was called */
    struct co_waitq senders;    /* coroutines waiting for room */
    struct co_waitq receivers;  /* coroutines waiting for an item */
};

co_chan_t *co_chan_new(size_t capacity)
{
    if (capacity == 0) {
        errno = EINVAL; /* no rendezvous channels: at least one slot */
        return NULL;
    }
    co_chan_t *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->buf = calloc(capacity, sizeof *ch->buf);
    if (!ch->buf) {
        free(ch);
        return NULL;
    }
    ch->cap = capacity;
    return ch;
}

/* Park the running coroutine c in queue q until woken or the deadline. */
static int co__chan_wait(co_t *c, struct co_waitq *q, int64_t deadline)
{
    c->wait = CO_W_CHAN;
    c->wait_q = q;
    co__q_push(q, c);
    int err = co__suspend(c, deadline);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int co_chan_send(co_chan_t *ch, void *v, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c)
        return -1;
    for (;;) {
        if (ch->closed) {
            errno = EPIPE;
            return -1;
        }
        if (ch->len < ch->cap) {
            ch->buf[(ch->head + ch->len++) % ch->cap] = v;
            if (ch->receivers.head)
                co__wake(ch->receivers.head, 0);
            return 0;
        }
        if (co__chan_wait(c, &ch->senders, deadline) < 0)
            return -1;
    }
}

int co_chan_recv(co_chan_t *ch, void **v, int64_t deadline)
{
    co_t *c = co__waiter();
    if (!c)
        return -1;
    for (;;) {
        if (ch->len > 0) {
            *v = ch->buf[ch->head];
            ch->head = (ch->head + 1) % ch->cap;
            ch->len--;
            if (ch->senders.head)
                co__wake(ch->senders.head, 0);
            return 0;
        }
        if (ch->closed) {
            errno = EPIPE;
            return -1;
        }
        if (co__chan_wait(c, &ch->receivers, deadline) < 0)
            return -1;
    }
}

void co_chan_close(co_chan_t *ch)
{
    ch->closed = 1;
    while (ch->senders.head)
        co__wake(ch->senders.head, 0);
    while (ch->receivers.head)
        co__wake(ch->receivers.head, 0);
}

void co_chan_free(co_chan_t *ch)
{
    if (!ch)
        return;
    free(ch->buf);
    free(ch);
}
