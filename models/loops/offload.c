/* offload.c — the loop model's co_offload() as it is: serve() (../loop/echo.c)
 * calls it when --offload is given; echo-loops does not offer the flag, but
 * the call must link. */
#include "../loop/offload.c"
