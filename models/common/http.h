/* http.h — the small HTTP/1.1 client codec the three fetchers share.
 *
 * Three pieces, none of which does any I/O:
 *   - http_url_parse: "http://HOST[:PORT]/PATH" into host, port and path;
 *   - http_request:   the bytes of a GET request for that URL;
 *   - http_resp_*:    an incremental response parser. Feed it whatever slices
 *     of bytes the socket returns, in order; it walks the status line, the
 *     headers and the body (Content-Length, chunked, or read-to-close) and
 *     hands every body byte to a callback with its offset in the body, so the
 *     caller can check it without storing the body. It says when the response
 *     is complete and whether the connection may carry another request.
 *
 * Memory is bounded and fixed: one header line buffer inside the parser,
 * nothing allocated. Malformed input gives HTTP_ERR and a one-line reason in
 * r->reason; it never crashes. Framing is strict (RFC 9112 section 6): the
 * only transfer coding is exactly "chunked", never beside Content-Length nor
 * in an HTTP/1.0 response; no NUL or bare CR in a line; interim 1xx
 * responses, header and trailer sections are bounded. Feeding the same bytes
 * in any slices gives the same outcome (tests/fuzz/fuzz_http_resp.c checks). */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

enum {
    HTTP_HOST_MAX = 64,    /* longest host text we keep ("127.0.0.1", "localhost") */
    HTTP_PATH_MAX = 1024,  /* longest path + query */
    HTTP_LINE_MAX = 4096,  /* longest status or header line */
    HTTP_HEAD_MAX = 32768, /* longest status line + headers together */
    HTTP_REASON_MAX = 96,  /* longest one-line error reason */
    HTTP_INTERIM_MAX = 8,  /* most 1xx interim responses before the real one */
    HTTP_TRAILERS_MAX = 64, /* most trailer lines after a chunked body */
};

struct http_url {
    char host[HTTP_HOST_MAX]; /* dotted IPv4 address or "localhost", as written */
    int port;                 /* 1..65535, 80 when the URL names none */
    char path[HTTP_PATH_MAX]; /* "/bytes/100?delay_ms=5"; "/" when the URL has none */
};

/* Parse text into *u. Returns 0, or -1 with a one-line reason in err. The port
 * is digits only; a fragment ("#...") is dropped, as every client does: it is
 * never sent to the server. */
int http_url_parse(const char *text, struct http_url *u, char *err, size_t errlen);

/* Write a GET request for u into buf. Returns its length, or -1 if it does
 * not fit in cap bytes. keepalive picks "Connection: keep-alive" or "close". */
int http_request(char *buf, size_t cap, const struct http_url *u, int keepalive);

/* What http_resp_feed and http_resp_eof return. */
enum http_status {
    HTTP_MORE = 0, /* the response is not complete yet: feed more */
    HTTP_DONE = 1, /* the response is complete */
    HTTP_ERR = -1, /* malformed or rejected: see r->reason */
};

/* Body bytes p[0..n) sit at offset `off` of the body. Return 0 to go on, or
 * non-zero to reject them (the parser then fails with reason "body rejected"
 * and the caller reports its own, better reason). */
typedef int (*http_body_fn)(void *ctx, uint64_t off, const unsigned char *p, size_t n);

/* Where the parser stands. */
enum http_phase {
    HTTP_P_STATUS,     /* reading the status line */
    HTTP_P_HEADERS,    /* reading header lines until the empty one */
    HTTP_P_BODY_LEN,   /* reading a body of Content-Length bytes */
    HTTP_P_BODY_CLOSE, /* reading a body that ends when the peer closes */
    HTTP_P_CHUNK_SIZE, /* reading a chunk-size line */
    HTTP_P_CHUNK_DATA, /* reading a chunk's bytes */
    HTTP_P_CHUNK_END,  /* reading the CRLF after a chunk's bytes */
    HTTP_P_TRAILERS,   /* reading trailer lines after the last chunk */
    HTTP_P_DONE,       /* complete */
    HTTP_P_ERROR,      /* failed; reason says why */
};

struct http_resp {
    enum http_phase phase;        /* where the parser stands */
    int status;                   /* status code, e.g. 200; 0 until the status line is read */
    int minor;                    /* HTTP/1.<minor> */
    int64_t content_length;       /* from Content-Length, -1 if absent */
    int chunked;                  /* Transfer-Encoding: chunked (the only coding accepted) */
    int close;                    /* do not reuse: "Connection: close", HTTP/1.0, a read-to-close body, or a doubtful end */
    int extra;                    /* bytes arrived after the complete response (connection unusable) */
    uint64_t body;                /* body bytes delivered to the callback so far */
    uint64_t chunk_left;          /* bytes left in the current chunk */
    int interim;                  /* 1xx interim responses skipped so far (bounded by HTTP_INTERIM_MAX) */
    int trailers;                 /* trailer lines so far (bounded by HTTP_TRAILERS_MAX) */
    size_t head_bytes;            /* bytes of status line + headers so far, or of the trailers (bounded by HTTP_HEAD_MAX) */
    size_t received;              /* bytes fed so far, capped; 0 means the peer sent nothing */
    size_t line_len;              /* bytes in line[] */
    char line[HTTP_LINE_MAX];     /* the current status, header or chunk-size line */
    char reason[HTTP_REASON_MAX]; /* one-line reason when phase == HTTP_P_ERROR */
};

/* Get ready for a new response (also between responses on one connection). */
void http_resp_init(struct http_resp *r);

/* Feed the next n bytes from the connection; cb gets the body bytes (may be
 * NULL). Returns HTTP_MORE, HTTP_DONE or HTTP_ERR. Bytes fed after HTTP_DONE
 * set r->extra and are otherwise ignored. */
int http_resp_feed(struct http_resp *r, const void *p, size_t n, http_body_fn cb, void *ctx);

/* The peer closed the connection. Returns HTTP_DONE if that ends a read-to-
 * close body (or the response was already complete), else HTTP_ERR with the
 * reason ("truncated body: 50 of 100 bytes", "connection closed before the
 * response", ...). */
int http_resp_eof(struct http_resp *r);

/* May this connection carry another request after a complete response? */
int http_resp_reusable(const struct http_resp *r);

/* If u->path is "/bytes/N" (optionally with a query), return N, else -1:
 * fetchd's pattern endpoint, whose body the fetchers can verify. */
int64_t http_bytes_path(const struct http_url *u);

#endif
