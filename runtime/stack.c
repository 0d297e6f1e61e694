/* stack.c — coroutine stacks: arenas, a free list, guard pages.
 *
 * A stack slot: [map, map+page) is the guard, [map+page, map+page+stack)
 * the stack, growing down from the top. Slots are carved from ARENAS, large
 * mappings of CO_ARENA_BYTES each, never one mapping per coroutine: the
 * kernel allows a process vm.max_map_count mappings (65,530 by default), and
 * a million coroutines need a million stacks. Pages are only backed by memory
 * once touched, so a million idle coroutines cost what their call chains
 * touched (one page each for a sleeper), not a million x 32 KiB.
 *
 * Overflow protection, in two kinds (the count is per process):
 *   - the guard page is made PROT_NONE (mprotect) while the process has
 *     mapping budget left: touching it is a SIGSEGV at once, named by the
 *     handler in overflow.c. Each guard inside an arena splits the arena's
 *     mapping in two more, so the first co__guard_budget / 2 stacks carved
 *     (about 16,000 at the default limit) get one;
 *   - beyond that the guard page stays ordinary, untouched memory — a red
 *     zone that an overflow of less than a page spoils without reaching the
 *     neighbour below — and the stack gets a CANARY: its lowest CO_CANARY
 *     bytes must still read zero, checked every time the coroutine switches
 *     away (co__canary_check, overflow.c).
 *
 * Finished stacks go back to a free list and are reused: in steady state a
 * new coroutine costs no mmap, no mprotect and no munmap. The list is two:
 * "dirty" slots still hold the pages their last user touched (at most
 * CO_STACK_POOL of them; more are released at once), "clean" ones were
 * released (MADV_DONTNEED: the pages go back to the kernel, the address
 * range and its guard stay). Once nobody has taken or returned a stack for
 * CO_POOL_IDLE_MS, the loop cleans all but CO_STACK_KEEP (co__stack_trim). */
#include "core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum {
    CO_ARENA_BYTES = 64 << 20, /* stacks are carved from mappings of this size */
    CO_STACK_KEEP = 64,        /* ... and once the pool has been idle for CO_POOL_IDLE_MS */
    CO_POOL_IDLE_MS = 1000,    /* no stack taken or given back for this long: trim the pool */
};

/* The free lists hold slots as their address with the low bit set when the
 * slot has no guard page (slots are page-aligned: the bit is free). */
#define CO_UNGUARDED ((uintptr_t)1)

#define S L.stacks

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
    if (S.arena_next + slot > S.arena_end) {
        size_t len = CO_ARENA_BYTES / slot * slot;
        if (len < slot)
            len = slot;
        char **t = realloc(S.arenas, (S.narenas + 1) * sizeof *t);
        if (!t)
            return NULL;
        S.arenas = t;
        char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        co__maps_take(1); /* counted even when over budget: it is there */
        S.arenas[S.narenas++] = m;
        S.arena_len = len; /* the same for every arena of this stack size */
        S.arena_next = m;
        S.arena_end = m + len;
    }
    char *m = S.arena_next;
    S.arena_next += slot;
    /* A guard in the middle of an arena: one mapping becomes three. */
    *guarded = co__maps_take(2);
    if (*guarded && mprotect(m, L.page, PROT_NONE) < 0) {
        __atomic_fetch_sub(&co__maps_used, 2, __ATOMIC_RELAXED);
        *guarded = 0;
    }
    return m;
}

/* A stack slot for a new coroutine: from the free lists, else carved. */
char *co__stack_get(int *guarded)
{
    S.used_at = L.now;
    uintptr_t s;
    if (S.ndirty > 0)
        s = S.dirty[--S.ndirty];
    else if (S.nclean > 0)
        s = S.clean[--S.nclean];
    else
        return co__stack_carve(guarded);
    char *m = (char *)(s & ~CO_UNGUARDED);
    *guarded = !(s & CO_UNGUARDED);
    co__san_stack_reused(m + L.page, L.stack_bytes);
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
    if (S.nclean + n > S.clean_cap) {
        size_t cap = S.clean_cap ? S.clean_cap : 1024;
        while (cap < S.nclean + n)
            cap *= 2;
        uintptr_t *t = realloc(S.clean, cap * sizeof *t);
        if (!t)
            return; /* they stay dirty: the memory stays held (co__stack_put then aborts if the pool is full) */
        S.clean = t;
        S.clean_cap = cap;
    }
    qsort(S.dirty, n, sizeof *S.dirty, co__slot_cmp);
    size_t slot = co__slot_bytes();
    for (size_t i = 0; i < n;) {
        char *lo = (char *)(S.dirty[i] & ~CO_UNGUARDED);
        size_t j = i + 1;
        while (j < n && (char *)(S.dirty[j] & ~CO_UNGUARDED) == lo + (j - i) * slot)
            j++;
        madvise(lo + L.page, (j - i) * slot - L.page, MADV_DONTNEED);
        i = j;
    }
    memcpy(S.clean + S.nclean, S.dirty, n * sizeof *S.dirty);
    S.nclean += n;
    S.ndirty -= n;
    memmove(S.dirty, S.dirty + n, S.ndirty * sizeof *S.dirty);
}

/* A finished coroutine's slot m goes back to the free lists: a full dirty
 * list first releases its older half. */
void co__stack_put(char *m, int guarded)
{
    S.used_at = L.now;
    if (S.ndirty == CO_STACK_POOL)
        co__stack_release(CO_STACK_POOL / 2);
    if (S.ndirty == CO_STACK_POOL)
        co__die("out of memory for the stack free list");
    S.dirty[S.ndirty++] = (uintptr_t)m | (guarded ? 0 : CO_UNGUARDED);
}

/* Forget every arena (co_init with another stack size, nothing alive). */
static void co__stack_cache_drop(void)
{
    size_t guards = 0;
    for (size_t i = 0; i < S.ndirty; i++)
        guards += !(S.dirty[i] & CO_UNGUARDED);
    for (size_t i = 0; i < S.nclean; i++)
        guards += !(S.clean[i] & CO_UNGUARDED);
    for (size_t i = 0; i < S.narenas; i++)
        munmap(S.arenas[i], S.arena_len);
    __atomic_fetch_sub(&co__maps_used, S.narenas + 2 * guards, __ATOMIC_RELAXED);
    free(S.arenas);
    free(S.clean);
    S.arenas = NULL;
    S.clean = NULL;
    S.narenas = S.ndirty = S.nclean = S.clean_cap = 0;
    S.arena_next = S.arena_end = NULL;
}

/* co_init: the pool of stacks of the old size is dropped, the new size set.
 * The first call in the process reads the guard budget. 0. */
int co__stack_init(size_t stack_bytes)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, co__guard_budget_init);
    co__stack_cache_drop(); /* cached stacks have the old size */
    L.stack_bytes = (stack_bytes + L.page - 1) / L.page * L.page;
    return 0;
}

/* Does an idle pool wait to be trimmed? Then *when is the time (co_now)
 * it may be: the loop must wake by then even with nothing else to do. */
int co__stack_trim_due(int64_t *when)
{
    if (S.ndirty <= CO_STACK_KEEP)
        return 0;
    *when = S.used_at + CO_POOL_IDLE_MS;
    return 1;
}

/* An idle pool gives back the pages of all but CO_STACK_KEEP stacks. */
void co__stack_trim(void)
{
    if (S.ndirty <= CO_STACK_KEEP || L.now - S.used_at < CO_POOL_IDLE_MS)
        return;
    co__stack_release(S.ndirty - CO_STACK_KEEP);
}
