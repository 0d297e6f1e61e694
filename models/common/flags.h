/* flags.h — every program's command line, from one table.
 *
 * Accepts --name VALUE, --name=VALUE, -x VALUE, and -h or --help. Anything
 * else gets one line on stderr that names the flag (or the unexpected
 * argument), and exit status 2. Positional arguments (a fetcher's URLs) may
 * stand between flags; "--" ends the flags.
 */
#ifndef FLAGS_H
#define FLAGS_H

enum flag_kind {
    FLAG_INT,    /* dst is long*: a whole number within [min, max] */
    FLAG_DOUBLE, /* dst is double*: a number within [min, max] */
    FLAG_STR,    /* dst is const char**: any text */
    FLAG_BOOL,   /* dst is int*: set to 1 by the flag alone, takes no value */
};

struct flag {
    const char *name;     /* long name without the dashes: "port" */
    char short_name;      /* one-letter alias ('c' for -c), or 0 */
    enum flag_kind kind;  /* what the value is */
    void *dst;            /* where the value goes; holds the default beforehand */
    double min, max;      /* accepted range (FLAG_INT, FLAG_DOUBLE) */
    const char *arg;      /* placeholder in --help: "N", "MS", "HOST" */
    const char *help;     /* one line for --help */
};

struct flags_spec {
    const char *prog;           /* program name for messages: "echo-loop" */
    const char *usage;          /* after the name in "usage: prog ...": "[flags]" */
    const char *about;          /* a paragraph printed by --help */
    const struct flag *flags;   /* the table, ended by an entry with name == NULL */
    int max_positional;         /* how many positional arguments are allowed (-1: any) */
};

/* What flags_parse() returns when the program should not go on: the caller
 * (main) exits with flags_exit() of it. Never -1, so that functions which
 * return -1 for their own errors can pass these through unchanged. */
enum {
    FLAGS_HELP = -2, /* --help was asked for and printed: exit 0 */
    FLAGS_BAD = -3,  /* a bad flag or value, already named on stderr in one line: exit 2 */
};

/* Parse argv. Positional arguments are moved to argv[1..n]; returns n, or
 * FLAGS_HELP after printing the help, or FLAGS_BAD after printing one line
 * that names the bad flag. Never exits: main decides. */
int flags_parse(const struct flags_spec *spec, int argc, char **argv);

/* Print "prog: message (try --help)" on stderr and return FLAGS_BAD: for
 * checks across flags, e.g. return flags_exit(flags_error(&spec, "...")). */
int flags_error(const struct flags_spec *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The exit status for a FLAGS_HELP or FLAGS_BAD result: 0 or 2. */
static inline int flags_exit(int r)
{
    return r == FLAGS_HELP ? 0 : 2;
}

/* Split a comma-separated list of whole numbers ("10,100,1000") into out[];
 * returns how many, or -1 if one is malformed, out of [min, max], or too many. */
int flags_int_list(const char *s, long *out, int cap, long min, long max);

/* One per online CPU, at least 1 and at most 1024: the default of a flag
 * counting threads per core (--loops). */
long flags_online_cpus(void);

#endif
