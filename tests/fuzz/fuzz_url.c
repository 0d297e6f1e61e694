/* fuzz_url.c — libFuzzer target for the fetchers' URL parser
 * (http_url_parse in models/common/http.c) and the request built from it.
 * A URL is not parsed incrementally, so the properties are round trips:
 *   - an accepted URL has a sane host, port (1..65535) and path (starts
 *     with '/', no fragment, no space, control or non-ASCII byte);
 *   - writing it back as http://HOST:PORT/PATH and parsing that gives the
 *     same URL;
 *   - the GET request built from it is a request fetchd's parser accepts,
 *     with the same path and query, fed whole, byte by byte and in random
 *     slices (the incremental part). */
#include "fetchd_parse.h"
#include "http.h"

#include <string.h>

#include "fuzz.h"

/* Parse the request through fdp as fetchd would; returns a hash of what it saw. */
static uint64_t fuzz_fdp(const char *req, size_t len, int way, const struct http_url *u)
{
    static struct fdp_in in;
    struct fuzz_slicer s;
    struct fdp_req r;
    const char *why = NULL;
    int status = FDP_MORE;
    fdp_init(&in);
    fuzz_slicer_init(&s, way, (const uint8_t *)req, len);
    for (size_t at = 0; status == FDP_MORE && at < len;) {
        size_t n = fuzz_slice(&s, len - at);
        memcpy(in.buf + in.len, req + at, n);
        in.len += n;
        at += n;
        status = fdp_take(&in, &r, 60000, &why);
    }
    /* 400 for an unknown query parameter is fetchd's business; a malformed
     * request line or header is ours. */
    FUZZ_REQUIRE(status == 0 || (status == 400 && strncmp(why, "malformed", 9) != 0),
                 "fetchd refuses our request for '%s': %d %s", u->path, status,
                 why ? why : "(more wanted)");
    if (status != 0)
        return (uint64_t)status;
    size_t qpos = strcspn(u->path, "?");
    FUZZ_REQUIRE(r.path_len == qpos && memcmp(r.path, u->path, qpos) == 0, "path differs");
    FUZZ_REQUIRE(!r.http10 && !r.head_only, "not a GET HTTP/1.1");
    return fuzz_hash(fuzz_hash(0, r.path, r.path_len), r.query, r.query_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[2048], err[300], again[2048], req[4096];
    struct http_url u, v;
    if (size >= sizeof text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* a NUL inside ends the text, as in argv */
    if (http_url_parse(text, &u, err, sizeof err) < 0) {
        FUZZ_REQUIRE(err[0] && !strchr(err, '\n'), "refusal without a one-line reason");
        return 0;
    }
    FUZZ_REQUIRE(u.port >= 1 && u.port <= 65535, "port %d", u.port);
    FUZZ_REQUIRE(u.path[0] == '/' && !strchr(u.path, '#'), "path '%s'", u.path);
    for (const char *c = u.path; *c; c++)
        FUZZ_REQUIRE((unsigned char)*c > ' ' && (unsigned char)*c < 0x7f,
                     "byte 0x%02x in the path", (unsigned char)*c);
    snprintf(again, sizeof again, "http://%s:%d%s", u.host, u.port, u.path);
    FUZZ_REQUIRE(http_url_parse(again, &v, err, sizeof err) == 0, "'%s' refused: %s", again, err);
    FUZZ_REQUIRE(strcmp(u.host, v.host) == 0 && u.port == v.port && strcmp(u.path, v.path) == 0,
                 "'%s' parses differently from '%s'", again, text);
    (void)http_bytes_path(&u);
    for (int keep = 0; keep < 2; keep++) {
        int len = http_request(req, sizeof req, &u, keep);
        FUZZ_REQUIRE(len > 0, "no request for '%s'", u.path);
        uint64_t h0 = fuzz_fdp(req, (size_t)len, FUZZ_WHOLE, &u);
        for (int way = 1; way < FUZZ_WAYS; way++)
            FUZZ_REQUIRE(fuzz_fdp(req, (size_t)len, way, &u) == h0, "slicing %d differs", way);
    }
    return 0;
}
