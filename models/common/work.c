/* work.c — see work.h. One unit is 64 rounds of a splitmix64-style mixer: a
 * dependency chain of multiplies, so its cost is steady across models and
 * runs. What a unit costs depends on the CPU; no target prints it alone.
 * demos/cpu.c (cpu_calibrate) shows how to measure it: time work_do() with
 * the thread's CPU clock. */
#include "work.h"

#include <string.h>

uint64_t work_sink; /* keeps the result alive; every thread stores to it */

uint64_t work_do(long units, const void *msg, size_t len)
{
    if (units <= 0)
        return 0;
    uint64_t x = 0x9e3779b97f4a7c15ULL ^ len;
    memcpy(&x, msg, len < sizeof x ? len : sizeof x);
    for (long u = 0; u < units; u++) {
        for (int r = 0; r < 64; r++) {
            x += 0x9e3779b97f4a7c15ULL;
            x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
            x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
            x ^= x >> 31;
        }
    }
    /* A relaxed atomic store: the compiler must compute x, and threads that
     * work at once do not race on the sink. */
    __atomic_store_n(&work_sink, x, __ATOMIC_RELAXED);
    return x;
}
