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

/* Parse argv. Positional arguments are moved to argv[1..n]; returns n.
 * Exits 0 after printing help for --help, exits 2 on any error. */
int flags_parse(const struct flags_spec *spec, int argc, char **argv);

/* Print "prog: message" on stderr and exit 2: for checks across flags. */
void flags_die(const struct flags_spec *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Split a comma-separated list of whole numbers ("10,100,1000") into out[];
 * returns how many, or -1 if one is malformed, out of [min, max], or too many. */
int flags_int_list(const char *s, long *out, int cap, long min, long max);

#endif
