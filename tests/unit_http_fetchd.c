/* unit_http_fetchd.c — fetchd's request parser (harness/lib/fetchd_parse.h)
 * alone, without the server: each case is one connection's bytes, given to
 * the parser whole and byte by byte as fetchd gives them (appended to the
 * 8 KiB buffer, each request answered and dropped, stop at an error); both
 * must give the listed requests and statuses. */
#include "fetchd_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Run the connection; write "status path|..." for each request into out. */
static void conn(const char *data, size_t len, size_t step, char *out, size_t cap)
{
    static struct fdp_in in;
    size_t at = 0, o = 0;
    fdp_init(&in);
    out[0] = '\0';
    for (;;) {
        struct fdp_req r;
        const char *why = NULL;
        int st = fdp_take(&in, &r, 1000, &why);
        if (st == FDP_MORE) {
            if (at == len)
                break;
            size_t n = step && step < len - at ? step : len - at;
            size_t room = sizeof in.buf - in.len;
            n = n < room ? n : room;
            memcpy(in.buf + in.len, data + at, n);
            in.len += n;
            at += n;
            continue;
        }
        if (st != 0) {
            o += (size_t)snprintf(out + o, cap - o, "%d %s|", st, why);
            break;
        }
        o += (size_t)snprintf(out + o, cap - o, "%s%s%.*s%s%s d=%ld c=%d|", r.head_only ? "HEAD " : "",
                              r.http10 ? "1.0 " : "", (int)r.path_len, r.path,
                              r.want_close ? " close" : "", r.want_keep ? " keep" : "", r.delay_ms,
                              r.chunked);
        if (o >= cap)
            break;
        fdp_next(&in);
    }
}

static void req_case(const char *name, const char *data, size_t len, const char *want)
{
    char whole[4096], bytes[4096], why[9000];
    conn(data, len, 0, whole, sizeof whole);
    conn(data, len, 1, bytes, sizeof bytes);
    snprintf(why, sizeof why, "whole '%s', bytewise '%s', wanted '%s'", whole, bytes, want);
    check(strcmp(whole, want) == 0 && strcmp(bytes, want) == 0, name, why);
}

#define REQ(name, text, want) req_case(name, text, sizeof text - 1, want)

int main(void)
{
    plan(15);
    REQ("GET with query", "GET /bytes/10?delay_ms=5&chunked=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        "/bytes/10 d=5 c=1|");
    REQ("HEAD, HTTP/1.0 keep-alive, LF-only lines",
        "HEAD /x HTTP/1.0\nConnection: Keep-Alive\n\n", "HEAD 1.0 /x keep d=0 c=0|");
    REQ("pipelined requests come out in order, blank lines between skipped",
        "GET /a HTTP/1.1\r\n\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\nGET /c HTTP/1.1\r\n\r\n",
        "/a d=0 c=0|/b close d=0 c=0|/c d=0 c=0|");
    REQ("an incomplete request is not taken", "GET /a HTTP/1.1\r\nHost: x\r\n", "");
    REQ("a malformed request line is a 400", "GET/x HTTP/1.1\r\n\r\n", "400 malformed request line|");
    REQ("a NUL in a header line is a 400", "GET /x HTTP/1.1\r\nX: a\0b\r\n\r\n",
        "400 malformed header line|");
    REQ("a space before the colon is a 400", "GET /x HTTP/1.1\r\nHost : x\r\n\r\n",
        "400 malformed header line|");
    REQ("POST is a 405", "POST /x HTTP/1.1\r\n\r\n", "405 only GET and HEAD are served|");
    REQ("a body is a 413", "GET /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "413 requests with a body are not accepted|");
    REQ("Transfer-Encoding is a 413", "GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "413 requests with a body are not accepted|");
    REQ("HTTP/2.0 is a 505", "GET /x HTTP/2.0\r\n\r\n", "505 only HTTP/1.x is spoken here|");
    REQ("delay_ms above the maximum is a 400", "GET /x?delay_ms=1001 HTTP/1.1\r\n\r\n",
        "400 delay_ms is larger than --max-delay-ms|");
    REQ("an unknown query parameter is a 400", "GET /x?delay=5 HTTP/1.1\r\n\r\n",
        "400 unknown query parameter (known: delay_ms, chunked)|");
    REQ("an error ends the connection: nothing after it is parsed",
        "GET /a HTTP/1.1\r\n\r\nBAD\r\n\r\nGET /c HTTP/1.1\r\n\r\n",
        "/a d=0 c=0|400 malformed request line|");
    /* 9000 bytes of one header: the 8 KiB buffer fills without an end. */
    size_t n = 9000;
    char *big = malloc(n);
    if (!big)
        return 1;
    memcpy(big, "GET /x HTTP/1.1\r\nX-Big: ", 24);
    memset(big + 24, 'a', n - 24);
    req_case("a header section beyond 8 KiB is a 431", big, n,
             "431 header section larger than 8192 bytes|");
    free(big);
    return check_done();
}
