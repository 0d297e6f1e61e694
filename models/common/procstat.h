/* procstat.h — reading memory figures out of /proc, once, for every part of
 * the suite that measures a server: one process's PSS, a whole process tree
 * (a fork server and its children), the machine-wide kernel memory of
 * /proc/meminfo and the TCP socket-buffer pages of /proc/net/sockstat.
 *
 * Every reader returns -1 when the file or the field is missing (a process
 * that is gone, a kernel without that line); none of them allocates for long
 * or keeps state between calls. */
#ifndef PROCSTAT_H
#define PROCSTAT_H

#include <sys/types.h>

/* The number after "Name:" in a /proc file of "Name:   123 kB" lines
 * (meminfo, smaps_rollup, status), or -1 if the file or field is missing. */
long procstat_field(const char *path, const char *name);

/* The first whole number in a one-value file (a sysctl, a cgroup counter),
 * or -1. */
long long procstat_read_ll(const char *path);

/* PSS of one process in KiB (its share of every page it maps), or -1. */
long procstat_pss_kib(pid_t pid);

/* `root` and every process that descends from it, as found in /proc now:
 * stores up to `cap` PIDs in out[] (root first) and returns how many there
 * are in all (which may exceed cap), or -1 if /proc cannot be read. */
long procstat_tree_pids(pid_t root, pid_t *out, long cap);

/* One look at a process tree. */
struct procstat_tree {
    long pss_kib;  /* PSS summed over the tree: shared pages counted once in total */
    long rss_kib;  /* RSS summed over the tree: shared pages counted once per process */
    long procs;    /* processes in the tree */
    long threads;  /* threads in the tree, every process's main thread included */
};

/* Sum PSS, RSS, processes and threads over `root` and its descendants.
 * Returns 0, or -1 if root is gone or /proc cannot be read. */
int procstat_tree(pid_t root, struct procstat_tree *t);

/* The machine-wide figures of /proc/meminfo this suite uses, in KiB, and the
 * TCP line of /proc/net/sockstat. */
struct procstat_mem {
    long mem_available;  /* MemAvailable: what could be had without swapping */
    long kernel_stack;   /* KernelStack: every thread's kernel-mode stack */
    long page_tables;    /* PageTables: page tables of every address space */
    long slab;           /* Slab: SReclaimable + SUnreclaim */
    long sunreclaim;     /* SUnreclaim: slab the kernel cannot drop under pressure */
    long sreclaimable;   /* SReclaimable: slab it could (dentries, inodes: sockets' too) */
    long tcp_mem_kib;    /* sockstat "TCP: ... mem N": N pages of socket buffers, in KiB */
    long tcp_inuse;      /* sockstat "TCP: inuse N": TCP sockets open on the machine */
    long proc_slab;      /* slab held by /proc's own inodes and their dentries (slabinfo) */
};

/* Read /proc/meminfo, /proc/net/sockstat and /proc/slabinfo. Returns 0, or
 * -1 if meminfo is unreadable (a missing sockstat leaves tcp_* at -1, an
 * unreadable slabinfo - it is root's only - leaves proc_slab at -1). */
int procstat_meminfo(struct procstat_mem *m);

#endif
