/* fetchd_parse.h — fetchd's request parser, on its own so that the fuzzer
 * (tests/fuzz/fuzz_fetchd_req.c) and the tests link it without the server.
 *
 * A connection's request bytes gather in a struct fdp_in as they arrive, in
 * whatever slices the socket gives; fdp_take() says whether a whole header
 * section is there yet and, if so, parses it (request line, headers, query).
 * No I/O, nothing allocated: the buffer is the connection's only request
 * memory, and a header section that does not fit in it is refused (431).
 * Feeding the same bytes in any slices gives the same requests. */
#ifndef FETCHD_PARSE_H
#define FETCHD_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum {
    FDP_IN_CAP = 8192, /* request header section limit; more gets 431 */
    FDP_MORE = -1,     /* fdp_take: no whole header section yet */
};

/* One parsed request. Its strings point into the struct fdp_in it came from. */
struct fdp_req {
    int head_only;       /* HEAD: headers as for GET, no body */
    int http10;          /* HTTP/1.0 request: close unless keep-alive was asked */
    int want_close;      /* Connection: close */
    int want_keep;       /* Connection: keep-alive */
    const char *path;    /* request target up to '?' */
    size_t path_len;     /* its length */
    const char *query;   /* after '?', or "" */
    size_t query_len;    /* its length */
    long delay_ms;       /* ?delay_ms */
    int chunked;         /* ?chunked=1 */
};

/* The request bytes of one connection, as received (pipelined ones too). */
struct fdp_in {
    size_t len;             /* bytes in buf[] */
    size_t req_len;         /* bytes of buf[] taken by the request being answered */
    size_t scanned;         /* buf[0, scanned) holds no end of header section */
    char buf[FDP_IN_CAP];   /* last, so a fresh malloc'ed one is not touched until used */
};

/* An empty buffer (a new connection). */
void fdp_init(struct fdp_in *in);

/* If in holds a whole header section, parse it into r: returns 0 for a
 * request to answer, or an error status (400, 405, 413, 431, 505) with *why
 * set to a one-line reason; FDP_MORE if more bytes are needed. Blank lines
 * before a request line are dropped (RFC 9112 2.2). ?delay_ms above
 * max_delay_ms is a 400. */
int fdp_take(struct fdp_in *in, struct fdp_req *r, long max_delay_ms, const char **why);

/* The request fdp_take returned has been answered: drop its bytes, keep the
 * pipelined ones behind it, and look for the next. */
void fdp_next(struct fdp_in *in);

/* Parse n decimal digits into *v (UINT64_MAX if it does not fit, so range
 * checks catch it); -1 if it is not a whole number. */
int fdp_num(const char *s, size_t n, uint64_t *v);

/* Are the n bytes at s exactly the string lit? */
int fdp_span_is(const char *s, size_t n, const char *lit);

#endif
