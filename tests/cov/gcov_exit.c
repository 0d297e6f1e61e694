/* gcov_exit.c — linked into every program of the coverage build only
 * (mk/coverage.mk, with -Wl,--wrap=_exit): a process that ends with _exit(),
 * as the fork and prefork models' children do, skips the exit handlers that
 * write gcov's counts, so the code it ran would show as never reached. This
 * writes them first. */
#include <unistd.h>

void __gcov_dump(void);
void __real__exit(int status);

void __wrap__exit(int status)
{
    __gcov_dump();
    __real__exit(status);
}
