/* fuzz_flags.c — libFuzzer target for the flags parser (models/common/flags.c).
 * The input is a command line: arguments separated by '\n'. flags_parse
 * either accepts it or returns FLAGS_BAD (an error) or FLAGS_HELP (--help);
 * its stdout/stderr go to /dev/null, by including flags.c itself with those
 * names redefined. Properties (flags are not fed incrementally, so a round trip):
 *   - parsing never crashes, never exits, and every refusal is FLAGS_BAD or
 *     FLAGS_HELP (exit status 2 or 0);
 *   - an accepted command line, written back in canonical form
 *     (--name=VALUE for every flag, then "--" and the positionals), parses
 *     to exactly the same values;
 *   - flags_int_list on any argument returns -1 or a count within its cap,
 *     every number within range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static FILE *fuzz_null;        /* stands in for stdout and stderr */

#undef stdout
#undef stderr
#define stdout fuzz_null
#define stderr fuzz_null
#define printf(...) fprintf(stdout, __VA_ARGS__)
#include "../../models/common/flags.c"
#undef stdout
#undef stderr
#undef printf

enum { FUZZ_ARGS = 24, FUZZ_ARG_LEN = 200 };

/* The values a command line sets. */
struct fuzz_vals {
    long num;          /* --num / -n */
    double rate;       /* --rate */
    const char *name;  /* --name / -s */
    int on;            /* --on / -b */
};

/* flags_parse over argv[0..argc): returns -1 on success, else the exit status. */
static int fuzz_run(int argc, char **argv, struct fuzz_vals *v, int *npos)
{
    *v = (struct fuzz_vals){.num = 7, .rate = 1.5, .name = NULL, .on = 0};
    const struct flag table[] = {
        {"num", 'n', FLAG_INT, &v->num, -100, 1000000, "N", "a number"},
        {"rate", 0, FLAG_DOUBLE, &v->rate, 0, 1e9, "R", "a rate"},
        {"name", 's', FLAG_STR, &v->name, 0, 0, "S", "a string"},
        {"on", 'b', FLAG_BOOL, &v->on, 0, 0, NULL, "a switch"},
        {0},
    };
    const struct flags_spec spec = {"fuzz", "[flags] ARG...", "fuzzing", table, 4};
    int r = flags_parse(&spec, argc, argv);
    FUZZ_REQUIRE(r >= 0 || r == FLAGS_HELP || r == FLAGS_BAD, "flags_parse returned %d", r);
    if (r < 0)
        return flags_exit(r);
    *npos = r;
    return -1;
}

static void fuzz_int_list(const char *s)
{
    long out[8];
    int n = flags_int_list(s, out, 8, -50, 50);
    FUZZ_REQUIRE(n == -1 || (n >= 1 && n <= 8), "flags_int_list gave %d", n);
    for (int i = 0; i < n; i++)
        FUZZ_REQUIRE(out[i] >= -50 && out[i] <= 50, "list value %ld out of range", out[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char args[FUZZ_ARGS][FUZZ_ARG_LEN + 1];
    char *argv[FUZZ_ARGS + 2], *argv2[2 * FUZZ_ARGS + 8];
    char canon[4][FUZZ_ARG_LEN + 64];
    if (!fuzz_null && !(fuzz_null = fopen("/dev/null", "w")))
        abort();
    int argc = 1;
    argv[0] = "fuzz";
    for (size_t at = 0; at <= size && argc <= FUZZ_ARGS;) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - data - at) : size - at;
        if (len > FUZZ_ARG_LEN || memchr(data + at, '\0', len))
            return 0; /* argv holds no NUL and nothing this long */
        memcpy(args[argc - 1], data + at, len);
        args[argc - 1][len] = '\0';
        argv[argc] = args[argc - 1];
        argc++;
        at += len + 1;
    }
    argv[argc] = NULL;
    for (int i = 1; i < argc; i++)
        fuzz_int_list(argv[i]);
    struct fuzz_vals v, w;
    int npos, npos2;
    int rc = fuzz_run(argc, argv, &v, &npos);
    FUZZ_REQUIRE(rc == -1 || rc == 0 || rc == 2, "exit status %d", rc);
    if (rc != -1)
        return 0;
    /* The canonical form of what was accepted, parsed again. */
    int k = 0;
    argv2[k++] = "fuzz";
    snprintf(canon[0], sizeof canon[0], "--num=%ld", v.num);
    snprintf(canon[1], sizeof canon[1], "--rate=%.17g", v.rate);
    argv2[k++] = canon[0];
    argv2[k++] = canon[1];
    if (v.name) {
        snprintf(canon[2], sizeof canon[2], "--name=%s", v.name);
        argv2[k++] = canon[2];
    }
    if (v.on)
        argv2[k++] = "--on";
    argv2[k++] = "--";
    for (int i = 1; i <= npos; i++)
        argv2[k++] = argv[i];
    argv2[k] = NULL;
    rc = fuzz_run(k, argv2, &w, &npos2);
    FUZZ_REQUIRE(rc == -1, "the canonical form of an accepted line is refused (%d)", rc);
    FUZZ_REQUIRE(w.num == v.num && w.rate == v.rate && w.on == v.on &&
                     (v.name ? w.name && strcmp(v.name, w.name) == 0 : !w.name),
                 "the canonical form parses to other values");
    FUZZ_REQUIRE(npos2 == npos, "positionals %d vs %d", npos2, npos);
    for (int i = 1; i <= npos; i++)
        FUZZ_REQUIRE(strcmp(argv[i], argv2[i]) == 0, "positional %d differs", i);
    return 0;
}
