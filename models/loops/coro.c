/* coro.c — the loops model's runtime: ../loop/coro.c, compiled into this
 * model's programs (see coro.h here: the same runtime, one loop per thread). */
#include "../loop/coro.c"
