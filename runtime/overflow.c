/* overflow.c — a stack overflow reported by name, instead of a bare
 * "Segmentation fault" (the stacks and their two kinds of protection are
 * stack.c's).
 *
 * A guarded stack: a coroutine that overflows touches the guard page (or,
 * with a frame larger than a page, jumps over it) and gets SIGSEGV. Its stack
 * is exhausted, so the handler runs on an alternate signal stack
 * (sigaltstack, one per thread), checks whether the fault belongs to the
 * running coroutine's stack, and if so writes one line naming the coroutine
 * with async-signal-safe calls only (write(2), no stdio). Either way it then
 * puts the previous disposition back and returns: the faulting instruction
 * runs again and this time dies by the default SIGSEGV (status 139 in a
 * shell, a core dump if enabled), or goes to whoever handled SIGSEGV before
 * us (a sanitizer).
 *
 * An unguarded stack: its canary, checked at every switch away. */
#include "core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

enum {
    CO_ALTSTACK = 64 * 1024,   /* the signal stack the overflow report runs on */
    CO_CANARY = 64,            /* bytes at the bottom of an unguarded stack that must stay zero */
};

static struct sigaction co__old_segv; /* the SIGSEGV disposition before ours */

/* The interrupted stack pointer. */
static uintptr_t co__fault_sp(void *uctx)
{
    ucontext_t *uc = uctx;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#else
    return (uintptr_t)uc->uc_mcontext.sp;
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
void co__overflow_install(void)
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

/* The canary of an unguarded stack (stack.c): its lowest CO_CANARY bytes
 * must still read zero whenever the coroutine switches away. Reading an
 * untouched page maps the kernel's shared zero page, so the canary costs no
 * memory. Once they do not read zero, the coroutine has run off its stack:
 * say which one and abort, before it runs again on memory it spoiled. Read
 * with ASan's checks off: those bytes belong to no object, and may lie under
 * a redzone a frame left there. */
__attribute__((no_sanitize_address)) void co__canary_check(const co_t *c)
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
