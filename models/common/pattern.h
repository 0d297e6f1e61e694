/* pattern.h — the deterministic body that fetchd serves for GET /bytes/N, so a
 * fetcher can check every byte without storing the body: byte i is a function
 * of i alone. It is printable text (lines of 64 characters) so that a person
 * can look at it with curl. */
#ifndef PATTERN_H
#define PATTERN_H

#include <stdint.h>

static inline unsigned char pattern_byte(uint64_t i)
{
    if (i % 64 == 63)
        return '\n';
    return (unsigned char)('a' + (i / 64 + i % 64) % 26);
}

#endif
