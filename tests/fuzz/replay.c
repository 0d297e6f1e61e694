/* replay.c — a fuzz target without libFuzzer: linked with one
 * tests/fuzz/fuzz_NAME.c into $(TBIN)/replay_NAME, it feeds every file named
 * on its command line, one input each, to LLVMFuzzerTestOneInput, the entry
 * point libFuzzer would call. A broken property aborts (FUZZ_REQUIRE), so
 * `make test` (tests/t_fuzz.sh) replays the seed corpora and the saved crash
 * inputs on every build, with any compiler, sanitized or not.
 *
 * Before each input it names it on stderr ("replay: FILE"), so the last line
 * there says which input broke; at the end it prints "replayed N inputs".
 * Exit status: 0, or 2 for a file it cannot read. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* read_all — the whole of PATH in a malloc'd buffer (its size in *n), or NULL */
static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    if (ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = len;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s INPUT_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        size_t n = 0;
        uint8_t *data = read_all(argv[i], &n);
        if (!data) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno ? errno : ENOMEM));
            return 2;
        }
        fprintf(stderr, "replay: %s\n", argv[i]);
        LLVMFuzzerTestOneInput(data, n);
        free(data);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
