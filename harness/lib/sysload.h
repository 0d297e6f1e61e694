/* sysload.h — how much CPU the rest of the machine took while we measured.
 *
 * A mark holds the machine's busy CPU time (user + nice + system of every
 * CPU, /proc/stat), this process's own CPU time and that of its reaped
 * children (getrusage). Between two marks, the CPU that processes outside
 * the benchmark used is the machine's busy time minus ours and our
 * children's: a server and loadgen, once reaped, are among the children
 * (with every descendant they reaped themselves). Interrupt and softirq time
 * are left out on both sides (loopback traffic is the benchmark's own), and
 * so is steal (time the hypervisor gave to other machines). */
#ifndef SYSLOAD_H
#define SYSLOAD_H

struct sysload_mark {
    double busy_s;     /* machine: user + nice + system, all CPUs, seconds since boot */
    double self_s;     /* this process: user + system */
    double children_s; /* its reaped children (and their reaped descendants) */
    double wall_s;     /* CLOCK_MONOTONIC */
    int ok;            /* /proc/stat was readable */
};

/* Take a mark now. */
void sysload_mark(struct sysload_mark *m);

/* CPU seconds used outside this process and its reaped children between
 * the marks (never below 0), or -1 if /proc/stat was unreadable. */
double sysload_other_s(const struct sysload_mark *from, const struct sysload_mark *to);

#endif
