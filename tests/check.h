/* check.h — the one reporting helper of the C unit tests (tests/unit_*.c):
 * each check prints "PASS name" or "FAIL name: why", the lines tests/run.sh
 * counts, and a failure is remembered for main()'s exit status. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int failures; /* checks that failed so far: main returns failures ? 1 : 0 */

static inline void check(int ok, const char *name, const char *why)
{
    if (ok)
        printf("PASS %s\n", name);
    else {
        printf("FAIL %s: %s\n", name, why);
        failures++;
    }
}

#endif
