/* flags.c — see flags.h. */
#include "flags.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int flags_error(const struct flags_spec *spec, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", spec->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try --help)\n");
    return FLAGS_BAD;
}

static void print_help(const struct flags_spec *spec)
{
    printf("usage: %s %s\n\n%s\n\nflags:\n", spec->prog, spec->usage, spec->about);
    for (const struct flag *f = spec->flags; f->name; f++) {
        char left[64];
        if (f->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", f->short_name, f->name,
                     f->arg ? " " : "", f->arg ? f->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", f->name, f->arg ? " " : "",
                     f->arg ? f->arg : "");
        printf("  %-26s %s", left, f->help);
        if (strstr(f->help, "required") || strstr(f->help, "(default"))
            ; /* required, or the text already says what the default is */
        else if (f->kind == FLAG_INT)
            printf(" (default %ld)", *(long *)f->dst);
        else if (f->kind == FLAG_DOUBLE)
            printf(" (default %g)", *(double *)f->dst);
        else if (f->kind == FLAG_STR && *(const char **)f->dst && **(const char **)f->dst)
            printf(" (default %s)", *(const char **)f->dst);
        printf("\n");
    }
    printf("  %-26s %s\n", "-h, --help", "print this help and exit");
}

static const struct flag *find_long(const struct flags_spec *spec, const char *name, size_t len)
{
    for (const struct flag *f = spec->flags; f->name; f++)
        if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
            return f;
    return NULL;
}

static const struct flag *find_short(const struct flags_spec *spec, char c)
{
    for (const struct flag *f = spec->flags; f->name; f++)
        if (f->short_name == c)
            return f;
    return NULL;
}

/* Store text as the flag's value. Returns 0, or FLAGS_BAD after a line naming
 * the flag when the value is malformed or out of range. */
static int set_value(const struct flags_spec *spec, const struct flag *f, const char *v)
{
    char *end;
    errno = 0;
    switch (f->kind) {
    case FLAG_INT: {
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end)
            return flags_error(spec, "--%s: '%s' is not a whole number", f->name, v);
        if (x < f->min || x > f->max)
            return flags_error(spec, "--%s: %ld is out of range %.0f..%.0f", f->name, x, f->min, f->max);
        *(long *)f->dst = x;
        return 0;
    }
    case FLAG_DOUBLE: {
        double x = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(x))
            return flags_error(spec, "--%s: '%s' is not a number", f->name, v);
        if (x < f->min || x > f->max)
            return flags_error(spec, "--%s: %g is out of range %g..%g", f->name, x, f->min, f->max);
        *(double *)f->dst = x;
        return 0;
    }
    case FLAG_STR:
        *(const char **)f->dst = v;
        return 0;
    case FLAG_BOOL:
        *(int *)f->dst = 1;
        return 0;
    }
    return 0;
}

int flags_parse(const struct flags_spec *spec, int argc, char **argv)
{
    int npos = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        const struct flag *f = NULL;
        const char *value = NULL;
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (spec->max_positional >= 0 && npos >= spec->max_positional)
                return flags_error(spec, "unexpected argument '%s'", a);
            argv[1 + npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_help(spec);
            return FLAGS_HELP;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            f = find_long(spec, a + 2, len);
            if (!f)
                return flags_error(spec, "unknown flag '%.*s'", (int)(len + 2), a);
            if (eq)
                value = eq + 1;
        } else {
            f = a[2] == '\0' ? find_short(spec, a[1]) : NULL;
            if (!f)
                return flags_error(spec, "unknown flag '%s'", a);
        }
        if (f->kind == FLAG_BOOL) {
            if (value)
                return flags_error(spec, "--%s takes no value", f->name);
            set_value(spec, f, NULL);
            continue;
        }
        if (!value) {
            if (i + 1 >= argc)
                return flags_error(spec, "--%s needs a value (%s)", f->name, f->arg ? f->arg : "VALUE");
            value = argv[++i];
        }
        if (set_value(spec, f, value) < 0)
            return FLAGS_BAD;
    }
    argv[1 + npos] = NULL;
    return npos;
}

int flags_int_list(const char *s, long *out, int cap, long min, long max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno || end == p || (*end && *end != ',') || x < min || x > max || n >= cap)
            return -1;
        out[n++] = x;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return -1; /* trailing comma */
    }
    return n ? n : -1;
}

long flags_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : n;
}
