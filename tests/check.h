/* check.h — the one reporting helper of the C unit tests (tests/unit_*.c).
 * It speaks tests/run.sh's protocol (docs/testing.md): plan(n) announces n
 * more checks ("PLAN n"); each check prints "PASS name" or "FAIL name: why",
 * a check that cannot run here "SKIP name: why"; main ends with
 * `return check_done();`, which prints "END" and gives the exit status. The
 * runner fails a program whose checks do not add up to its plans or that
 * never reaches END, so a test that returns early or crashes cannot pass. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int failures; /* checks that failed so far: main returns failures ? 1 : 0 */

/* plan — n more checks follow (call it before them: a check skipped by an
 * early return then shows as missing) */
static inline void plan(int n)
{
    printf("PLAN %d\n", n);
    fflush(stdout);
}

static inline void check(int ok, const char *name, const char *why)
{
    if (ok)
        printf("PASS %s\n", name);
    else {
        printf("FAIL %s: %s\n", name, why);
        failures++;
    }
    fflush(stdout); /* each line reaches the runner, even if a later check crashes */
}

/* skip — a planned check that cannot run here, said so: never a PASS */
static inline void skip(const char *name, const char *why)
{
    printf("SKIP %s: %s\n", name, why);
    fflush(stdout);
}

/* check_done — the last call of main: END, and the exit status */
static inline int check_done(void)
{
    printf("END\n");
    return failures ? 1 : 0;
}

#endif
