/* fetch-uring — ../loop/fetch.c as it is, over this folder's runtime: the
 * same coroutine per request, but co_connect, co_write and co_read are
 * io_uring submissions (coro.c here). Only the kernel interface changed; the
 * line below only gives the program its own name and --help text. */
#include "fetch.h"

#define fetch_setup(run, name, about, argc, argv)                                                  \
    fetch_setup(run, "fetch-uring",                                                                \
                ((void)(about), /* ../loop/fetch.c's text, which says epoll */                     \
                "Fetch every URL, a coroutine per request in flight (at most C at once), all on\n" \
                "one thread over io_uring: connect, send and receive are submissions, and their\n" \
                "completions resume the coroutines. With --keepalive: C long-lived coroutines,\n"  \
                "each reusing its own connection, take URL numbers from a shared counter. Prints\n" \
                "a summary; exit 0 only if every fetch succeeded."),                               \
                argc, argv)
#include "../loop/fetch.c"
#undef fetch_setup
