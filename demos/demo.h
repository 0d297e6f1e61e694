/* demo.h — what every classroom demo shares: timestamped lines.
 *
 * In a demo the timing IS the lesson, so every line starts with the wall
 * clock to the microsecond, "12:00:01.000123 Hello!". A line is formatted in
 * full and handed to the kernel with ONE write(2): lines from threads and
 * forked processes never interleave, and nothing sits in a stdio buffer that
 * a fork() would copy. Header-only: each demo is one .c file plus this. */
#ifndef DEMO_H
#define DEMO_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "flags.h"
#include "net.h"
#include "procstat.h"
#include "registry.h"

/* Print "HH:MM:SS.micro " + the formatted text + "\n" on stdout, atomically. */
static inline void demo_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void demo_say(const char *fmt, ...)
{
    char line[512];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%06ld ", tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDOUT_FILENO, line, (size_t)n);
    (void)w; /* a demo whose stdout is gone has no one to tell */
}

/* A headline between sections, without a timestamp: "== text ==". */
static inline void demo_title(const char *text)
{
    char line[256];
    int n = snprintf(line, sizeof line, "\n== %s ==\n", text);
    ssize_t w = write(STDOUT_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    (void)w;
}

/* Seconds elapsed since `start_ns` (a net_now_ns() reading, monotonic). */
static inline double demo_since(long long start_ns)
{
    return (double)(net_now_ns() - start_ns) / 1e9;
}

/* CPU time this thread has used, in ns: for calibrating CPU work without
 * counting the time other programs on a shared machine took the core. */
static inline long long demo_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sleep `ms` milliseconds the blocking way (the whole thread stops). */
static inline void demo_block_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0) {
    }
}

/* The directory this program lives in (for its siblings: bin/fetchd,
 * bin/echo-loop), so a demo finds them wherever $BIN points. */
static inline int demo_bin_dir(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

/* Some demos show one way of switching per unit of concurrency ("process",
 * "thread", "coroutine") and take --model: "all", or a model of the registry
 * (models/NAME/about.txt), whose unit picks the way. The model a variant for
 * `unit` runs as: with "all", the first registered model of that unit; with
 * a model, that model if its unit is `unit`. NULL: skip the variant. */
static inline const char *demo_model_for(const char *arg, const char *unit)
{
    if (strcmp(arg, "all") == 0)
        return registry_first_with_unit(unit);
    const char *u = registry_unit(arg);
    return u && strcmp(u, unit) == 0 ? arg : NULL;
}

/* Parse the demo's flags, then check --model (*model, set by the parse)
 * against the registry and the units[] (NULL-terminated) the demo shows.
 * Returns 0; or FLAGS_HELP / FLAGS_BAD after the help or one line naming the
 * flag (a --model that is neither "all" nor such a model): main exits with
 * flags_exit() of it. */
static inline int demo_parse(const struct flags_spec *spec, int argc, char **argv,
                             const char *const *model, const char *const units[])
{
    char models[512];
    int fr = flags_parse(spec, argc, argv);
    if (fr < 0)
        return fr;
    const char *arg = *model;
    if (strcmp(arg, "all") == 0)
        return 0;
    if (!registry_has(arg))
        return flags_error(spec, "--model: '%s' is not %s or all", arg, registry_join(", ", models, sizeof models));
    for (int i = 0; units[i]; i++)
        if (demo_model_for(arg, units[i]))
            return 0;
    const char *unit = registry_unit(arg);
    return flags_error(spec, "--model: '%s' gives each connection %s %s; this demo has no such variant",
                       arg, unit ? "a" : "no", unit ? unit : "process, thread or coroutine");
}

/* "MODEL, MODEL or all" for --help: the registered models. */
static inline const char *demo_models_help(char *buf, size_t cap)
{
    char models[480];
    snprintf(buf, cap, "%s or all", registry_join(", ", models, sizeof models));
    return buf;
}

#endif
