/* echo-uring — ../loop/echo.c as it is, over this folder's runtime: the
 * same serve(), acceptor() and stopper(), line for line, but co_read and
 * co_write are io_uring submissions and co_accept takes connections from a
 * multishot accept (coro.c here). The lesson: only the kernel interface
 * changed. The two lines below only give the program its own name and
 * --help text. */
#include "server.h"

#define server_parse(o, name, about, argc, argv)                                               \
    server_parse(o, name,                                                                      \
                 "An echo server with one coroutine per connection, all on one thread over\n" \
                 "io_uring: whatever arrives is sent back byte for byte. SIGINT or SIGTERM\n" \
                 "stops it.",                                                                  \
                 argc, argv)
#include "../loop/echo.c"
#undef server_parse

__attribute__((constructor)) static void echo_uring_name(void)
{
    prog = "echo-uring";
}
