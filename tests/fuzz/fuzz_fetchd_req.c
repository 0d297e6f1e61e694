/* fuzz_fetchd_req.c — libFuzzer target for fetchd's request parser
 * (harness/lib/fetchd_parse.c). Each input is what a client sends on one
 * connection. It is given to the parser as fetchd gives it — appended to the
 * connection's 8 KiB buffer as it arrives (never more than the room left),
 * each whole request answered and dropped, pipelined ones kept, stop at the
 * first error — whole, byte by byte and in random slices; the sequence of
 * requests and errors must be the same every time. */
#include "fetchd_parse.h"

#include <string.h>

#include "fuzz.h"

enum { FUZZ_MAX_DELAY = 60000 };

/* A hash of every request and error the connection produced, in order. */
static uint64_t fuzz_conn(const uint8_t *data, size_t size, int way, int *nreq)
{
    static struct fdp_in in; /* static: 8 KiB, as fetchd allocates per connection */
    struct fuzz_slicer s;
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t at = 0;
    fdp_init(&in);
    fuzz_slicer_init(&s, way, data, size);
    *nreq = 0;
    for (;;) {
        struct fdp_req r;
        const char *why = NULL;
        int status = fdp_take(&in, &r, FUZZ_MAX_DELAY, &why);
        FUZZ_REQUIRE(in.len <= sizeof in.buf && in.req_len <= in.len, "buffer overrun");
        if (status == FDP_MORE) {
            if (at == size)
                break; /* the client stopped sending: fetchd would time out */
            size_t n = fuzz_slice(&s, size - at), room = sizeof in.buf - in.len;
            FUZZ_REQUIRE(room > 0, "FDP_MORE with a full buffer");
            n = n < room ? n : room;
            memcpy(in.buf + in.len, data + at, n);
            in.len += n;
            at += n;
            continue;
        }
        h = fuzz_hash(h, &status, sizeof status);
        if (status != 0) { /* fetchd answers the error and closes */
            FUZZ_REQUIRE(why && *why, "status %d without a reason", status);
            h = fuzz_hash(h, why, strlen(why));
            break;
        }
        FUZZ_REQUIRE(r.path && r.path_len > 0 && r.path[0] == '/', "request without a path");
        FUZZ_REQUIRE(r.path >= in.buf && r.path + r.path_len <= in.buf + in.req_len,
                     "path outside the request");
        FUZZ_REQUIRE(r.delay_ms >= 0 && r.delay_ms <= FUZZ_MAX_DELAY, "delay_ms %ld", r.delay_ms);
        int flags[5] = {r.head_only, r.http10, r.want_close, r.want_keep, r.chunked};
        h = fuzz_hash(h, flags, sizeof flags);
        h = fuzz_hash(h, &r.delay_ms, sizeof r.delay_ms);
        h = fuzz_hash(h, r.path, r.path_len);
        h = fuzz_hash(h, "?", 1);
        h = fuzz_hash(h, r.query, r.query_len);
        (*nreq)++;
        fdp_next(&in);
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int n[FUZZ_WAYS];
    uint64_t h[FUZZ_WAYS];
    for (int way = 0; way < FUZZ_WAYS; way++)
        h[way] = fuzz_conn(data, size, way, &n[way]);
    for (int way = 1; way < FUZZ_WAYS; way++)
        FUZZ_REQUIRE(h[way] == h[0] && n[way] == n[0],
                     "way %d: %d requests, whole: %d (or they differ)", way, n[way], n[0]);
    return 0;
}
