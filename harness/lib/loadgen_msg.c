/* loadgen_msg.c — see loadgen_msg.h. */
#include "loadgen_msg.h"

#include <stdlib.h>
#include <string.h>

/* Where message (id, seq)'s slice of the pattern starts. */
static size_t lgm_slice(uint64_t id, uint64_t seq)
{
    return (size_t)((id * 131 + seq * 17) % LGM_SLACK);
}

static void lgm_header(uint64_t id, uint64_t seq, unsigned char hdr[LGM_HDR])
{
    memcpy(hdr, &id, 8);
    memcpy(hdr + 8, &seq, 8);
}

unsigned char *lgm_pattern_new(size_t len)
{
    unsigned char *p = malloc(len + LGM_SLACK);
    if (!p)
        return NULL;
    for (size_t i = 0; i < len + LGM_SLACK; i++)
        p[i] = (unsigned char)(i * 7 + (i >> 8) * 13 + 1);
    return p;
}

void lgm_fill(const unsigned char *pattern, size_t len, uint64_t id, uint64_t seq, unsigned char *buf)
{
    lgm_header(id, seq, buf);
    memcpy(buf + LGM_HDR, pattern + lgm_slice(id, seq), len - LGM_HDR);
}

int lgm_check(const unsigned char *pattern, uint64_t id, uint64_t seq, size_t off,
              const unsigned char *data, size_t n)
{
    if (off < LGM_HDR) {
        unsigned char hdr[LGM_HDR];
        lgm_header(id, seq, hdr);
        size_t k = n < LGM_HDR - off ? n : LGM_HDR - off;
        if (memcmp(data, hdr + off, k) != 0)
            return 0;
        off += k, data += k, n -= k;
    }
    return n == 0 || memcmp(data, pattern + lgm_slice(id, seq) + (off - LGM_HDR), n) == 0;
}
