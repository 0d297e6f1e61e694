/* ratelog.c — see ratelog.h. */
#include "ratelog.h"
#include "net.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

int ratelog(struct ratelog *rl, const char *fmt, ...)
{
    long long now = net_now_ns();
    long long last = __atomic_load_n(&rl->last_ns, __ATOMIC_RELAXED);
    /* The compare-and-swap lets exactly one thread claim this second. */
    if ((last != 0 && now - last < 1000000000LL) ||
        !__atomic_compare_exchange_n(&rl->last_ns, &last, now, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED)) {
        __atomic_add_fetch(&rl->held, 1, __ATOMIC_RELAXED);
        return 0;
    }
    long held = __atomic_exchange_n(&rl->held, 0, __ATOMIC_RELAXED);

    char line[512];
    size_t room = sizeof line - 40; /* keep room for the count and the newline */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return 0;
    size_t len = (size_t)n < room ? (size_t)n : room - 1; /* a longer message is cut */
    if (held > 0)
        len += (size_t)snprintf(line + len, sizeof line - len, " (%ld more held back)", held);
    line[len++] = '\n';
    /* One write(), so that lines from several threads never interleave. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* if stderr is gone, there is nowhere to say so */
    return 1;
}
