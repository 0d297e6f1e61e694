/* offload.c — the loop model's co_offload() as it is: its waiting coroutine
 * uses co_wait_fd() and co_close(), which this model's coro.c implements
 * over io_uring, so echo-uring --offload works unchanged. */
#include "../loop/offload.c"
