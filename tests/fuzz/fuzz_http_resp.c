/* fuzz_http_resp.c — libFuzzer target for the fetchers' HTTP response parser
 * (models/common/http.c). Each input is a byte stream from a server: fed
 * whole, byte by byte and in random slices, then EOF, it must give the same
 * verdict, status, reason, body bytes (checked by hash, offsets contiguous)
 * and reusability every time; a Content-Length body never exceeds its
 * length. ASan and UBSan watch every access. */
#include "http.h"

#include <string.h>

#include "fuzz.h"

/* Everything a caller can observe of one parse. */
struct fuzz_outcome {
    int st;                       /* final HTTP_DONE / HTTP_ERR / HTTP_MORE */
    int status;                   /* status code */
    int reusable;                 /* http_resp_reusable() at the end */
    uint64_t body;                /* body bytes delivered */
    uint64_t body_hash;           /* hash of those bytes in order */
    char reason[HTTP_REASON_MAX]; /* the one-line reason */
};

/* The body callback: offsets must follow on from each other. */
static int fuzz_body(void *ctx, uint64_t off, const unsigned char *p, size_t n)
{
    struct fuzz_outcome *o = ctx;
    FUZZ_REQUIRE(off == o->body, "body offset %llu, %llu bytes delivered before",
                 (unsigned long long)off, (unsigned long long)o->body);
    FUZZ_REQUIRE(n > 0, "empty body slice at %llu", (unsigned long long)off);
    o->body += n;
    o->body_hash = fuzz_hash(o->body_hash, p, n);
    return 0;
}

static void fuzz_parse(const uint8_t *data, size_t size, int way, struct fuzz_outcome *o)
{
    struct http_resp r;
    struct fuzz_slicer s;
    memset(o, 0, sizeof *o);
    http_resp_init(&r);
    fuzz_slicer_init(&s, way, data, size);
    int st = HTTP_MORE;
    for (size_t at = 0; at < size && st != HTTP_ERR;) {
        size_t n = fuzz_slice(&s, size - at);
        st = http_resp_feed(&r, data + at, n, fuzz_body, o);
        at += n;
    }
    if (st == HTTP_MORE)
        st = http_resp_eof(&r);
    FUZZ_REQUIRE(st != HTTP_MORE, "still HTTP_MORE after EOF");
    FUZZ_REQUIRE(o->body == r.body, "callback saw %llu bytes, parser counts %llu",
                 (unsigned long long)o->body, (unsigned long long)r.body);
    FUZZ_REQUIRE(r.content_length < 0 || r.chunked || o->body <= (uint64_t)r.content_length,
                 "%llu body bytes beyond Content-Length %lld", (unsigned long long)o->body,
                 (long long)r.content_length);
    FUZZ_REQUIRE(st != HTTP_ERR || r.reason[0], "HTTP_ERR without a reason");
    FUZZ_REQUIRE(strchr(r.reason, '\n') == NULL, "reason spans lines");
    o->st = st;
    o->status = r.status;
    o->reusable = st == HTTP_DONE && http_resp_reusable(&r);
    memcpy(o->reason, r.reason, sizeof o->reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_outcome o[FUZZ_WAYS];
    for (int way = 0; way < FUZZ_WAYS; way++)
        fuzz_parse(data, size, way, &o[way]);
    for (int way = 1; way < FUZZ_WAYS; way++) {
        FUZZ_REQUIRE(o[way].st == o[0].st && strcmp(o[way].reason, o[0].reason) == 0,
                     "way %d: st %d '%s'; whole: st %d '%s'", way, o[way].st, o[way].reason,
                     o[0].st, o[0].reason);
        FUZZ_REQUIRE(o[way].status == o[0].status && o[way].body == o[0].body &&
                         o[way].body_hash == o[0].body_hash && o[way].reusable == o[0].reusable,
                     "way %d: status %d body %llu reusable %d; whole: %d %llu %d", way,
                     o[way].status, (unsigned long long)o[way].body, o[way].reusable,
                     o[0].status, (unsigned long long)o[0].body, o[0].reusable);
    }
    return 0;
}
