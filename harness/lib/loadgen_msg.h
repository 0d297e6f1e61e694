/* loadgen_msg.h — loadgen's messages, and checking an echo without storing
 * what was sent.
 *
 * A message's first LGM_HDR bytes are its connection id and sequence number;
 * the rest is a slice of a fixed pattern whose start depends on both, so
 * neighbouring messages and connections differ. Anything can rebuild a
 * message from (id, seq), and lgm_check() compares an echo with it piece by
 * piece as it arrives, so one thread-wide read buffer serves every
 * connection. No I/O; only the pattern is allocated. */
#ifndef LOADGEN_MSG_H
#define LOADGEN_MSG_H

#include <stddef.h>
#include <stdint.h>

enum {
    LGM_HDR = 16,     /* header bytes: id, then seq (8 bytes each, host order) */
    LGM_SLACK = 256,  /* pattern bytes beyond a message, where slices may start */
};

/* The pattern for messages of len bytes (len >= LGM_HDR): len + LGM_SLACK
 * bytes, to be freed with free(). NULL if out of memory. */
unsigned char *lgm_pattern_new(size_t len);

/* Write message (id, seq) of len bytes to buf. */
void lgm_fill(const unsigned char *pattern, size_t len, uint64_t id, uint64_t seq, unsigned char *buf);

/* Do data[0, n) equal the bytes of message (id, seq) from offset off on?
 * The caller keeps off + n within the message. Returns 1 if so, else 0. */
int lgm_check(const unsigned char *pattern, uint64_t id, uint64_t seq, size_t off,
              const unsigned char *data, size_t n);

#endif
