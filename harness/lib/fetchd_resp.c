/* fetchd_resp.c — see fetchd_resp.h. Every response is a pure function of
 * the offset on the wire: fdr_fill() lays a window over the stream (head,
 * then body, then chunk framing if any) and generates only what falls in it. */
#include "fetchd_resp.h"
#include "pattern.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum {
    FDR_PERIOD = 64 * 26, /* pattern_byte(i) == pattern_byte(i + FDR_PERIOD) */
};

/* --- the pattern: byte i of every /bytes body ------------------------------ */

static char pat_table[FDR_PERIOD];  /* one period of the pattern */
static int pat_periodic;            /* 1 if pattern.h still repeats every FDR_PERIOD bytes */

static void pat_init(void)
{
    pat_periodic = 1;
    for (uint64_t i = 0; i < 4 * FDR_PERIOD; i++) {
        if (i < FDR_PERIOD)
            pat_table[i] = (char)pattern_byte(i);
        else if (pattern_byte(i) != (unsigned char)pat_table[i % FDR_PERIOD])
            pat_periodic = 0;
    }
}

/* Write pattern bytes [at, at + n) to dst: memcpy from one period when the
 * pattern is periodic (fast), byte by byte otherwise (always right). */
static void pat_fill(char *dst, uint64_t at, size_t n)
{
    if (!pat_periodic) {
        for (size_t i = 0; i < n; i++)
            dst[i] = (char)pattern_byte(at + i);
        return;
    }
    while (n > 0) {
        size_t from = (size_t)(at % FDR_PERIOD);
        size_t take = n < FDR_PERIOD - from ? n : FDR_PERIOD - from;
        memcpy(dst, pat_table + from, take);
        dst += take;
        at += take;
        n -= take;
    }
}

/* --- a response, as a pure function of the offset on the wire -------------- */

/* A window onto the response stream: its bytes [skip, skip + cap) land in p. */
struct fdr_out {
    char *p;        /* where the window's bytes go */
    size_t len;     /* bytes placed so far */
    size_t cap;     /* size of the window */
    uint64_t skip;  /* stream bytes still to pass over before the window starts */
};

/* Offer the next n bytes of the stream: from src, or pattern bytes from `at`
 * when src is NULL. Returns 1 once the window is full. */
static int out_piece(struct fdr_out *o, const char *src, uint64_t at, uint64_t n)
{
    if (o->skip >= n) {
        o->skip -= n;
        return 0;
    }
    uint64_t from = o->skip, room = o->cap - o->len;
    uint64_t take = n - from < room ? n - from : room;
    o->skip = 0;
    if (src)
        memcpy(o->p + o->len, src + from, take);
    else
        pat_fill(o->p + o->len, at + from, take);
    o->len += take;
    return o->len == o->cap;
}

/* Chunk sizes cycle through this table (the last chunk is cut short), so
 * decoders meet 1-byte chunks, odd sizes and chunks that straddle reads. */
static const uint64_t chunk_sizes[] = {1, 13, 4096, 700, 16384, 2, 1000, 40000, 255, 8191};
enum { FDR_NCHUNK = sizeof chunk_sizes / sizeof chunk_sizes[0] };
static uint64_t chunk_round_body;  /* body bytes in one round of the table */
static uint64_t chunk_round_wire;  /* the same round on the wire, framing included */

static void chunk_init(void)
{
    chunk_round_body = chunk_round_wire = 0;
    for (int k = 0; k < FDR_NCHUNK; k++) {
        char hex[24];
        chunk_round_body += chunk_sizes[k];
        chunk_round_wire += (uint64_t)snprintf(hex, sizeof hex, "%" PRIx64 "\r\n", chunk_sizes[k]) +
                            chunk_sizes[k] + 2;
    }
}

/* The chunked body of n pattern bytes: "size\r\n" data "\r\n" ... "0\r\n\r\n". */
static void out_chunked(struct fdr_out *o, uint64_t n)
{
    /* Whole rounds before the end have the same wire size: jump over them. */
    uint64_t rounds = o->skip / chunk_round_wire;
    if (rounds > n / chunk_round_body)
        rounds = n / chunk_round_body;
    o->skip -= rounds * chunk_round_wire;
    uint64_t at = rounds * chunk_round_body;
    for (int k = 0;; k = (k + 1) % FDR_NCHUNK) {
        if (at >= n) {
            out_piece(o, "0\r\n\r\n", 0, 5);
            return;
        }
        uint64_t size = n - at < chunk_sizes[k] ? n - at : chunk_sizes[k];
        char hex[24];
        int h = snprintf(hex, sizeof hex, "%" PRIx64 "\r\n", size);
        if (out_piece(o, hex, 0, (uint64_t)h) || out_piece(o, NULL, at, size) ||
            out_piece(o, "\r\n", 0, 2))
            return;
        at += size;
    }
}

void fdr_pattern(char *dst, uint64_t at, size_t n)
{
    pat_fill(dst, at, n);
}

size_t fdr_fill(const struct fdr_resp *w, uint64_t off, char *dst, size_t cap)
{
    struct fdr_out o = {dst, 0, cap, off};
    if (out_piece(&o, w->head, 0, w->head_len))
        return o.len;
    if (w->body == FDR_BODY_TEXT)
        out_piece(&o, w->text, 0, w->body_len);
    else if (w->body == FDR_BODY_PATTERN)
        out_piece(&o, NULL, 0, w->body_len);
    else if (w->body == FDR_BODY_CHUNKED)
        out_chunked(&o, w->body_len);
    return o.len;
}

void fdr_init(void)
{
    pat_init();
    chunk_init();
}

/* --- building responses ------------------------------------------------------ */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* Prepare a response whose whole text is in head[]: nothing else follows. */
static void resp_raw(struct fdr_resp *w, const char *text, enum fdr_after after)
{
    w->head_len = (size_t)snprintf(w->head, sizeof w->head, "%s", text);
    w->body = FDR_BODY_NONE;
    w->body_len = 0;
    w->after = after;
}

void fdr_error(struct fdr_resp *w, int head_only, int status, const char *why)
{
    char body[256];
    int blen = snprintf(body, sizeof body, "%d %s: %s\n", status, reason(status), why);
    int n = snprintf(w->head, sizeof w->head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     "%sConnection: close\r\n\r\n%s",
                     status, reason(status), blen, status == 405 ? "Allow: GET, HEAD\r\n" : "",
                     head_only ? "" : body);
    w->head_len = n < (int)sizeof w->head ? (size_t)n : sizeof w->head - 1;
    w->body = FDR_BODY_NONE;
    w->body_len = 0;
    w->after = FDR_AFTER_CLOSE;
}

/* A 200: headers for a body of `len` bytes (or chunked), keep-alive as asked. */
static void resp_ok(struct fdr_resp *w, const struct fdp_req *r, const char *type, enum fdr_body body,
                    uint64_t len)
{
    int keep = r->http10 ? r->want_keep && !r->want_close : !r->want_close;
    char length[64];
    if (body == FDR_BODY_CHUNKED)
        snprintf(length, sizeof length, "Transfer-Encoding: chunked");
    else
        snprintf(length, sizeof length, "Content-Length: %" PRIu64, len);
    w->head_len = (size_t)snprintf(w->head, sizeof w->head,
                                   "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n%s\r\n%s\r\n", type,
                                   length,
                                   !keep ? "Connection: close\r\n"
                                   : r->http10 ? "Connection: keep-alive\r\n" : "");
    w->body = r->head_only ? FDR_BODY_NONE : body;
    w->body_len = len;
    w->after = keep ? FDR_AFTER_KEEP : FDR_AFTER_CLOSE;
}

static const char index_page[] =
    "fetchd: the HTTP/1.1 target of c10k-lab (docs/fetchd.md)\n"
    "\n"
    "GET /                     this page\n"
    "GET /bytes/N              N bytes of the test pattern (byte i = pattern_byte(i))\n"
    "    ?delay_ms=D           hold the answer D ms first (any endpoint)\n"
    "    ?chunked=1            send the body with Transfer-Encoding: chunked\n"
    "GET /fault/truncate/N     announce Content-Length N, send N/2 bytes, close\n"
    "GET /fault/status         a malformed status line, then close\n"
    "GET /fault/close          close without answering\n"
    "GET /fault/reset          reset the connection (RST)\n"
    "GET /fault/badlength      Content-Length: abc\n"
    "\n"
    "HEAD works wherever GET does. Errors: 400 404 405 408 413 431 505, then close.\n";

/* --- choosing the answer ------------------------------------------------------ */

int fdr_route(struct fdr_resp *w, const struct fdp_req *r, uint64_t max_bytes, const char **why)
{
    const char *path = r->path;
    size_t n = r->path_len;
    uint64_t len;
    if (fdp_span_is(path, n, "/")) {
        resp_ok(w, r, "text/plain", FDR_BODY_TEXT, sizeof index_page - 1);
        w->text = index_page;
        return 0;
    }
    if (n > 7 && memcmp(path, "/bytes/", 7) == 0 && !memchr(path + 7, '/', n - 7)) {
        if (fdp_num(path + 7, n - 7, &len) < 0) {
            *why = "N in /bytes/N must be a whole number";
            return 400;
        }
        if (len > max_bytes) {
            *why = "N in /bytes/N is larger than --max-bytes";
            return 400;
        }
        /* HTTP/1.0 has no chunked coding (RFC 9112 7): such a client gets Content-Length. */
        enum fdr_body body = r->chunked && !r->http10 ? FDR_BODY_CHUNKED : FDR_BODY_PATTERN;
        resp_ok(w, r, "application/octet-stream", body, len);
        return 0;
    }
    if (n > 16 && memcmp(path, "/fault/truncate/", 16) == 0 && !memchr(path + 16, '/', n - 16)) {
        if (fdp_num(path + 16, n - 16, &len) < 0 || len > max_bytes) {
            *why = "N in /fault/truncate/N must be a whole number within --max-bytes";
            return 400;
        }
        struct fdp_req once = *r;
        once.want_close = 1;
        resp_ok(w, &once, "application/octet-stream", FDR_BODY_PATTERN, len);
        w->body_len = len / 2; /* the lie: announces len, sends half */
        return 0;
    }
    if (fdp_span_is(path, n, "/fault/status")) {
        resp_raw(w, "HTTP/1.1 two-hundred OK\r\nContent-Length: 0\r\n\r\n", FDR_AFTER_CLOSE);
        return 0;
    }
    if (fdp_span_is(path, n, "/fault/close")) {
        resp_raw(w, "", FDR_AFTER_CLOSE);
        return 0;
    }
    if (fdp_span_is(path, n, "/fault/reset")) {
        resp_raw(w, "", FDR_AFTER_RESET);
        return 0;
    }
    if (fdp_span_is(path, n, "/fault/badlength")) {
        resp_raw(w, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: abc\r\n"
                    "Connection: close\r\n\r\nthis body has no valid length\n", FDR_AFTER_CLOSE);
        return 0;
    }
    *why = "no such path; GET / lists the endpoints";
    return 404;
}
