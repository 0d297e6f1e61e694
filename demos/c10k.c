/* c10k.c — ten thousand idle connections, and what they cost the server.
 *
 * Starts bin/echo-MODEL (--model; by default the registry's first coroutine
 * model, loop) as a child on a free port,
 * opens connections to it at a steady pace (non-blocking connects, nothing
 * sent: idle clients, the C10K situation), and once a second measures the
 * server's memory: the PSS of its whole process tree, from
 * /proc/PID/smaps_rollup (for the fork model: the server plus every child).
 * The growth is drawn live as a text chart with gnuplot's dumb terminal, so it
 * works in any terminal, over ssh too. At the end it stops the server with
 * SIGTERM (by its PID) and prints the memory per connection. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "demo.h"
#include "flags.h"
#include "proc.h"
#include "registry.h"

struct c10k_opts {
    const char *model; /* --model: which echo server */
    long conns;        /* --conns: connections to open */
    long rate;         /* --rate: new connections per second */
    long hold_ms;      /* --hold-ms: how long to stay at the top */
    long every_ms;     /* --every-ms: time between samples (and chart frames) */
    int no_chart;      /* --no-chart: print the samples only */
};

struct c10k_sample {
    double t_s;      /* seconds since the ramp began */
    long conns;      /* connections open at that time */
    long pss_kib;    /* server tree's PSS */
};

static struct c10k_opts opt = {"", 10000, 2000, 2000, 1000, 0};
static volatile sig_atomic_t c10k_stop; /* set by SIGINT/SIGTERM: wind down */
static struct proc c10k_server;         /* the echo server we started (harness/lib/proc.c) */
static int *c10k_fds;                   /* our client sockets */
static long c10k_open;                  /* how many of them are open */
static struct c10k_sample *c10k_hist;   /* every sample, for the chart */
static long c10k_nsamples;              /* how many */
static long c10k_cap;                   /* room in c10k_hist */
static long c10k_base_pss;              /* server PSS before any connection */
static int c10k_gnuplot = 1;            /* cleared if gnuplot cannot be run */

static void c10k_on_signal(int sig) { c10k_stop = 1; }

/* --- the server ------------------------------------------------------------ */

/* Enough descriptors for every connection, for us and (inherited) the server. */
static int c10k_raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    if ((long)rl.rlim_cur >= need)
        return 0;
    struct rlimit want = {(rlim_t)need, rl.rlim_max > (rlim_t)need ? rl.rlim_max : (rlim_t)need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 0;
    fprintf(stderr, "demo-c10k: cannot raise open files to %ld (limit %lu): %s; try fewer --conns\n",
            need, (unsigned long)rl.rlim_max, strerror(errno));
    return -1;
}

/* Start bin/echo-MODEL --port 0 and read its ready line (5 s at most). */
static int c10k_start_server(void)
{
    char dir[4096], path[4200];
    if (demo_bin_dir(dir, sizeof dir) < 0)
        snprintf(dir, sizeof dir, "bin");
    snprintf(path, sizeof path, "%s/echo-%s", dir, opt.model);
    if (access(path, X_OK) < 0) {
        fprintf(stderr, "demo-c10k: %s not found (run make)\n", path);
        return -1;
    }
    char *argv[] = {path, "--port", "0", "--backlog", "4096", NULL};
    struct proc_opts o = {.pipe_stdout = 1};
    if (proc_spawn(&c10k_server, argv, &o) < 0) {
        fprintf(stderr, "demo-c10k: cannot start %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (proc_wait_ready(&c10k_server, 5000) < 0) {
        fprintf(stderr, "demo-c10k: %s\n", c10k_server.why);
        return -1;
    }
    close(c10k_server.out_fd); /* servers ignore SIGPIPE and print nothing more */
    c10k_server.out_fd = -1;
    demo_say("server: %s (pid %d) on 127.0.0.1:%d", path, (int)c10k_server.pid, c10k_server.port);
    return 0;
}

/* SIGTERM the server by PID, wait up to 5 s (then SIGKILL); returns its exit
 * status (124: it had to be killed) or -1 if it is not running. */
static int c10k_stop_server(void)
{
    if (c10k_server.pid <= 0)
        return -1;
    if (proc_stop(&c10k_server, 5000) < 0)
        fprintf(stderr, "demo-c10k: %s\n", c10k_server.why);
    return proc_exit_code(&c10k_server);
}

/* PSS of the server's whole process tree (models/common/procstat.c), or -1. */
static long c10k_tree_pss(void)
{
    struct procstat_tree t;
    return procstat_tree(c10k_server.pid, &t) == 0 ? t.pss_kib : -1;
}

/* --- the chart ------------------------------------------------------------- */

/* Redraw: PSS (MiB) and connections over time, in text, with gnuplot. */
static void c10k_draw(void)
{
    if (opt.no_chart || !c10k_gnuplot || c10k_nsamples < 2)
        return;
    FILE *g = popen("gnuplot 2>/dev/null", "w");
    if (!g) {
        c10k_gnuplot = 0;
        return;
    }
    if (isatty(STDOUT_FILENO)) {
        ssize_t w = write(STDOUT_FILENO, "\033[H\033[2J", 7); /* clear the screen */
        (void)w;
    }
    fprintf(g, "set terminal dumb size 79,24\nset title 'echo-%s: memory of the server as connections grow'\n"
               "set xlabel 'seconds'\nset key bottom right\nset y2tics\nset ytics nomirror\nset yrange [0:*]\nset y2range [0:*]\n"
               "plot '-' using 1:2 with lines title 'server PSS, MiB (left)' axes x1y1,"
               " '-' using 1:2 with lines title 'connections (right)' axes x1y2\n",
            opt.model);
    for (int pass = 0; pass < 2; pass++) {
        for (long i = 0; i < c10k_nsamples; i++)
            fprintf(g, "%.2f %.3f\n", c10k_hist[i].t_s,
                    pass ? (double)c10k_hist[i].conns : (double)c10k_hist[i].pss_kib / 1024.0);
        fprintf(g, "e\n");
    }
    if (pclose(g) != 0)
        c10k_gnuplot = 0;
}

/* Measure now, remember it, print one line, redraw. */
static void c10k_sample(long long t0)
{
    long pss = c10k_tree_pss();
    if (c10k_nsamples == c10k_cap) {
        long cap = c10k_cap ? c10k_cap * 2 : 64;
        struct c10k_sample *h = realloc(c10k_hist, (size_t)cap * sizeof *h);
        if (!h)
            return;
        c10k_hist = h, c10k_cap = cap;
    }
    c10k_hist[c10k_nsamples++] = (struct c10k_sample){demo_since(t0), c10k_open, pss};
    c10k_draw();
    double per = c10k_open ? (double)(pss - c10k_base_pss) / (double)c10k_open : 0;
    demo_say("connections %6ld   server PSS %9.1f MiB   (%.1f KiB per connection)", c10k_open,
             (double)pss / 1024.0, per);
}

/* --- the clients ----------------------------------------------------------- */

/* Open one more idle connection (a non-blocking connect). */
static int c10k_connect_one(void)
{
    int fd = net_connect_start("127.0.0.1", c10k_server.port);
    if (fd < 0) {
        fprintf(stderr, "demo-c10k: connection #%ld: %s\n", c10k_open + 1, strerror(errno));
        return -1;
    }
    c10k_fds[c10k_open++] = fd;
    return 0;
}

/* How many of our sockets are connected (writable with no pending error). */
static long c10k_count_connected(void)
{
    long ok = 0;
    for (long i = 0; i < c10k_open; i++) {
        struct pollfd pf = {c10k_fds[i], POLLOUT, 0};
        if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLOUT) && net_connect_result(c10k_fds[i]) == 0)
            ok++;
    }
    return ok;
}

/* Open connections at --rate per second, sampling every --every-ms, then
 * hold for --hold-ms. Returns 0, or -1 if a connection could not be made. */
static int c10k_ramp(void)
{
    long long t0 = net_now_ns(), next_sample = t0, end_hold = 0;
    int rc = 0;
    while (!c10k_stop) {
        long long now = net_now_ns();
        long due = (long)((double)(now - t0) / 1e9 * (double)opt.rate) + 1;
        while (rc == 0 && c10k_open < opt.conns && c10k_open < due)
            rc = c10k_connect_one();
        if (now >= next_sample) {
            c10k_sample(t0);
            next_sample += opt.every_ms * 1000000LL;
        }
        if ((c10k_open == opt.conns || rc < 0) && !end_hold)
            end_hold = now + opt.hold_ms * 1000000LL;
        if (end_hold && now >= end_hold)
            break;
        demo_block_ms(5);
    }
    c10k_sample(t0);
    return rc;
}

int main(int argc, char **argv)
{
    /* --model's default, from the registry: its first coroutine model (loop) */
    const char *first = registry_first_with_unit("coroutine");
    opt.model = first ? first : registry_count() ? registry_models()[0] : "";
    char models[512], model_help[600];
    registry_join(", ", models, sizeof models); /* the models of models/NAME/about.txt */
    snprintf(model_help, sizeof model_help, "echo server to load: %s", models);
    const struct flag flags[] = {
        {"model", 'm', FLAG_STR, &opt.model, 0, 0, "M", model_help},
        {"conns", 'c', FLAG_INT, &opt.conns, 1, 100000, "N", "idle connections to open"},
        {"rate", 'r', FLAG_INT, &opt.rate, 1, 100000, "N", "new connections per second"},
        {"hold-ms", 0, FLAG_INT, &opt.hold_ms, 0, 600000, "MS", "stay at the top this long"},
        {"every-ms", 0, FLAG_INT, &opt.every_ms, 100, 60000, "MS", "time between samples and chart frames"},
        {"no-chart", 0, FLAG_BOOL, &opt.no_chart, 0, 0, NULL, "print the samples only, no gnuplot chart"},
        {0},
    };
    const struct flags_spec spec = {
        "demo-c10k", "[flags]",
        "Ramp one model's echo server (bin/echo-MODEL) to 10,000 idle connections\n"
        "and watch the server's memory (PSS of its process tree) grow, drawn live\n"
        "with gnuplot's dumb terminal. Ctrl-C stops early, cleanly.",
        flags, 0};
    int fr = flags_parse(&spec, argc, argv);
    if (fr < 0)
        return flags_exit(fr);
    if (!registry_has(opt.model))
        return flags_exit(flags_error(&spec, "--model: '%s' is not a model (registered: %s)", opt.model,
                  registry_count() ? models : "none"));

    int rc = 1;
    struct sigaction sa = {.sa_handler = c10k_on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (c10k_raise_nofile(opt.conns + 256) < 0)
        return 1;
    if (!(c10k_fds = calloc((size_t)opt.conns, sizeof *c10k_fds)))
        return 1;
    long avail0 = procstat_field("/proc/meminfo", "MemAvailable");
    if (c10k_start_server() < 0)
        goto out;
    c10k_base_pss = c10k_tree_pss();
    demo_say("server PSS before any connection: %.1f MiB; opening %ld connections at %ld/s",
             (double)c10k_base_pss / 1024.0, opt.conns, opt.rate);
    int ramp = c10k_ramp();
    long ok = c10k_count_connected();
    long pss = c10k_hist && c10k_nsamples ? c10k_hist[c10k_nsamples - 1].pss_kib : 0;
    long avail1 = procstat_field("/proc/meminfo", "MemAvailable");
    demo_say("result: %ld of %ld connections established; server PSS %.1f MiB = %.1f KiB per connection"
             " above its idle %.1f MiB",
             ok, c10k_open, (double)pss / 1024.0,
             c10k_open ? (double)(pss - c10k_base_pss) / (double)c10k_open : 0.0,
             (double)c10k_base_pss / 1024.0);
    demo_say("machine MemAvailable dropped %.1f MiB (both ends' sockets and kernel memory; noisy)",
             (double)(avail0 - avail1) / 1024.0);
    rc = ramp < 0 ? 1 : 0; /* Ctrl-C is a clean stop too */
out:;
    int st = c10k_stop_server();
    if (st >= 0)
        demo_say("server stopped with SIGTERM: exit status %d", st);
    for (long i = 0; i < c10k_open; i++)
        close(c10k_fds[i]);
    free(c10k_fds);
    free(c10k_hist);
    if (st > 0)
        rc = 1;
    return rc;
}
