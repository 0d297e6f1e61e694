/* fuzz.h — what the libFuzzer targets in tests/fuzz/ share: cutting an input
 * into slices three ways, a hash to compare outcomes, and a check that stops
 * the fuzzer (with the input saved) when two ways disagree.
 *
 * The parsers are incremental: a socket hands them bytes in any slices. So
 * every target feeds each input whole, byte by byte, and in pseudo-random
 * slices whose sizes come from a hash of the input itself (deterministic:
 * a saved crash input replays the same slices), and requires one outcome. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { FUZZ_WHOLE, FUZZ_BYTES, FUZZ_RANDOM, FUZZ_WAYS };

/* Where a slicing stands. */
struct fuzz_slicer {
    int way;         /* FUZZ_WHOLE, FUZZ_BYTES or FUZZ_RANDOM */
    uint64_t rng;    /* FUZZ_RANDOM: xorshift state, seeded from the input */
};

static inline uint64_t fuzz_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL; /* FNV-1a */
    return h;
}

static inline void fuzz_slicer_init(struct fuzz_slicer *s, int way, const uint8_t *data, size_t n)
{
    s->way = way;
    s->rng = fuzz_hash(0xcbf29ce484222325ULL, data, n) | 1;
}

/* The size of the next slice when `left` bytes remain (> 0). */
static inline size_t fuzz_slice(struct fuzz_slicer *s, size_t left)
{
    if (s->way == FUZZ_WHOLE)
        return left;
    if (s->way == FUZZ_BYTES)
        return 1;
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    /* mostly short slices, now and then a long one: lines and bodies straddle them */
    size_t n = (s->rng >> 8) % 8 == 0 ? 1 + (s->rng >> 16) % 5000 : 1 + (s->rng >> 16) % 16;
    return n < left ? n : left;
}

/* A broken property: say which, and crash so libFuzzer keeps the input. */
#define FUZZ_REQUIRE(cond, ...)                                                                  \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz: property broken: " __VA_ARGS__);                              \
            fprintf(stderr, "\n");                                                               \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

#endif
