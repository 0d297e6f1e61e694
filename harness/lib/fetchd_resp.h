/* fetchd_resp.h — fetchd's responses: which answer a parsed request gets,
 * and the bytes of that answer at any offset on the wire.
 *
 * A response is a head (status line and headers, or a whole short answer)
 * and a body that is never stored: byte i of /bytes/N is pattern_byte(i), a
 * function of i alone, and so is every byte of the response on the wire,
 * chunk framing included. So a connection keeps only how many bytes it has
 * sent, and fdr_fill() regenerates the next stretch into a buffer each time
 * the socket accepts more. No I/O, nothing allocated; the connection state
 * machine that sends it is harness/fetchd.c. */
#ifndef FETCHD_RESP_H
#define FETCHD_RESP_H

#include "fetchd_parse.h"

#include <stddef.h>
#include <stdint.h>

enum {
    FDR_HEAD_CAP = 512, /* status line + headers (+ short error body) */
};

/* What follows the head on the wire. */
enum fdr_body {
    FDR_BODY_NONE,     /* everything is in head[] */
    FDR_BODY_TEXT,     /* a constant string (the index page) */
    FDR_BODY_PATTERN,  /* pattern bytes [0, body_len) as they are */
    FDR_BODY_CHUNKED,  /* pattern bytes [0, body_len) in chunks */
};

/* What the connection does once the response is out. */
enum fdr_after {
    FDR_AFTER_KEEP,   /* read the next request (keep-alive) */
    FDR_AFTER_CLOSE,  /* shut down writing, drain, close: the client sees FIN */
    FDR_AFTER_RESET,  /* close with SO_LINGER 0: the client sees RST */
};

/* One response, as a description its bytes are generated from. */
struct fdr_resp {
    enum fdr_body body;       /* what follows head[] on the wire */
    enum fdr_after after;     /* what happens once the response is out */
    const char *text;         /* FDR_BODY_TEXT: the body */
    uint64_t body_len;        /* payload bytes of the body (before chunk framing) */
    size_t head_len;          /* bytes in head[] */
    char head[FDR_HEAD_CAP];  /* status line and headers, and a short error body */
};

/* Build the pattern and chunk tables; call once before anything below. */
void fdr_init(void);

/* Choose the answer to a well-formed request r and describe it in *w.
 * Returns 0, or an error status (400, 404) with *why set to a one-line
 * reason and *w unset. Bodies over max_bytes are refused. */
int fdr_route(struct fdr_resp *w, const struct fdp_req *r, uint64_t max_bytes, const char **why);

/* An error answer: status line, headers and a one-line body naming the
 * status and why (no body if head_only), then the connection is closed. */
void fdr_error(struct fdr_resp *w, int head_only, int status, const char *why);

/* Write the response's bytes [off, off + cap) on the wire to dst; returns
 * how many there were (fewer than cap at its end, 0 past it). */
size_t fdr_fill(const struct fdr_resp *w, uint64_t off, char *dst, size_t cap);

/* Write pattern bytes [at, at + n) to dst (byte i is pattern_byte(i)). */
void fdr_pattern(char *dst, uint64_t at, size_t n);

#endif
