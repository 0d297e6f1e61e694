/* coro.h — the uring model's runtime: the loop model's API, unchanged.
 *
 * The same coroutines, the same calls with the same contracts (co_read,
 * co_write, deadlines, cancellation...), so ../loop/echo.c and
 * ../loop/fetch.c compile against it as they are. Only coro.c here differs:
 * it asks the kernel through io_uring (submissions and completions) where
 * the loop's asks through epoll (readiness) and read(2)/write(2). */
#include "../loop/coro.h"
