/* switch.c — the context switch: how one coroutine stops and another goes on
 * where it stopped. The work itself is a few instructions of assembly,
 * co__switch in switch_x86_64.S / switch_aarch64.S: push the registers the
 * calling convention says a function must preserve, store the stack pointer,
 * load another, pop that stack's registers, return. No system call. This
 * file builds a new coroutine's first frame and wraps co__switch with what
 * every switch must also do: say who runs, tell a sanitizer (san.h), and give
 * back the stack of a coroutine that finished on the way. Which coroutine
 * runs next is the scheduler's business (sched.c). */
#include "core.h"

#include <stdlib.h>
#include <string.h>

/* Defined in switch_<arch>.S; co__entry (sched.c) is called from co__stub. */
void co__switch(void **save_sp, void *load_sp);
void co__stub(void);

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "the runtime's context switch is written for x86-64 and AArch64 only (switch_<arch>.S)"
#endif

/* Build the first frame of a new coroutine so that switching to it "returns"
 * into co__stub, which calls co__entry (see the .S files for the layout). */
void co__ctx_init(co_t *c)
{
    char *lo = c->map + L.page;
    uintptr_t top = ((uintptr_t)lo + L.stack_bytes) & ~(uintptr_t)15;
#if defined(__x86_64__)
    uint64_t *f = (uint64_t *)top - 8;          /* csr, r15..r12, rbx, rbp, ret */
    memset(f, 0, 8 * sizeof *f);
    f[0] = 0x1F80u | ((uint64_t)0x037Fu << 32); /* default MXCSR and x87 control word */
    f[7] = (uint64_t)(uintptr_t)co__stub;       /* where the first `ret` goes */
#else
    uint64_t *f = (uint64_t *)top - 22;         /* the 176-byte frame */
    memset(f, 0, 22 * sizeof *f);
    f[11] = (uint64_t)(uintptr_t)co__stub;      /* x30, where the first `ret` goes */
#endif
    c->sp = f;
}

/* Back on `self` (NULL: the scheduler) after a switch: tell the sanitizer,
 * and give back the stack of a coroutine that finished on the way here —
 * it could not do that itself while standing on it. Also the first thing a
 * new coroutine does (co__entry). */
void co__landed(co_t *self)
{
    co__san_landed(&L.san, self ? &self->san : NULL);
    co_t *dead = L.dead;
    if (!dead)
        return;
    L.dead = NULL;
    co__stack_put(dead->map, dead->guarded);
    dead->map = NULL;
    co__san_destroyed(&dead->san);
    if (dead->detached)
        free(dead);
}

/* One switch, from the running context to another: `from` and `to` are
 * coroutines, or NULL for the scheduler (co_run's own stack). `final`: from
 * has finished and never comes back. Returns when something switches back
 * to `from`. */
void co__jump(co_t *from, co_t *to, int final)
{
    co__san_switch(&L.san, from ? &from->san : NULL, to ? &to->san : NULL,
                   to ? to->map + L.page : NULL, L.stack_bytes, final);
    L.current = to;
    co__switch(from ? &from->sp : &L.sched_sp, to ? to->sp : L.sched_sp);
    co__landed(from);
}
