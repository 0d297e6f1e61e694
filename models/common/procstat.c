/* procstat.c — memory figures from /proc; see procstat.h. */
#include "procstat.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long procstat_field(const char *path, const char *name)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[256];
    long value = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, len) == 0 && line[len] == ':') {
            value = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

long long procstat_read_ll(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long long v;
    int ok = fscanf(f, "%lld", &v) == 1;
    fclose(f);
    return ok ? v : -1;
}

long procstat_pss_kib(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    return procstat_field(path, "Pss");
}

/* --- process trees ------------------------------------------------------------ */

/* One /proc entry: a pid and its parent. */
struct procstat_link {
    pid_t pid;    /* the process */
    pid_t ppid;   /* its parent */
    int in_tree;  /* 1 once known to descend from the root */
};

static int procstat_cmp_pid(const void *a, const void *b)
{
    const struct procstat_link *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Parent of pid from /proc/PID/stat, or -1. The command name in field 2 may
 * hold spaces and parentheses, so read after the last ')'. */
static pid_t procstat_ppid(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    char state;
    int ppid;
    if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return (pid_t)ppid;
}

/* Every process in /proc with its parent, sorted by pid; *n gets the count.
 * Returns a malloc'd array (the caller frees it) or NULL. */
static struct procstat_link *procstat_links(size_t *n)
{
    DIR *d = opendir("/proc");
    if (!d)
        return NULL;
    size_t cap = 1024;
    struct procstat_link *p = malloc(cap * sizeof *p);
    *n = 0;
    for (struct dirent *e; p && (e = readdir(d));) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        pid_t ppid = procstat_ppid(pid);
        if (ppid < 0)
            continue; /* gone meanwhile */
        if (*n == cap) {
            struct procstat_link *bigger = realloc(p, (cap *= 2) * sizeof *p);
            if (!bigger) {
                free(p);
                p = NULL;
                break;
            }
            p = bigger;
        }
        p[(*n)++] = (struct procstat_link){pid, ppid, 0};
    }
    closedir(d);
    if (p)
        qsort(p, *n, sizeof *p, procstat_cmp_pid);
    return p;
}

long procstat_tree_pids(pid_t root, pid_t *out, long cap)
{
    size_t n;
    struct procstat_link *p = procstat_links(&n);
    if (!p)
        return -1;
    struct procstat_link key = {.pid = root};
    struct procstat_link *r = bsearch(&key, p, n, sizeof *p, procstat_cmp_pid);
    long count = 0;
    if (!r)
        goto out; /* the root is gone: an empty tree */
    r->in_tree = 1;
    if (cap > 0)
        out[0] = root;
    count = 1;
    /* Mark descendants: repeat until a pass adds nobody (a pass per level). */
    for (int added = 1; added;) {
        added = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i].in_tree)
                continue;
            key.pid = p[i].ppid;
            struct procstat_link *parent = bsearch(&key, p, n, sizeof *p, procstat_cmp_pid);
            if (!parent || !parent->in_tree)
                continue;
            p[i].in_tree = added = 1;
            if (count < cap)
                out[count] = p[i].pid;
            count++;
        }
    }
out:
    free(p);
    return count;
}

int procstat_tree(pid_t root, struct procstat_tree *t)
{
    memset(t, 0, sizeof *t);
    long cap = 4096, n;
    pid_t *pids = NULL;
    for (;;) { /* grow until the whole tree fits (a fork server may have 10,000 children) */
        pid_t *bigger = realloc(pids, (size_t)cap * sizeof *pids);
        if (!bigger) {
            free(pids);
            return -1;
        }
        pids = bigger;
        n = procstat_tree_pids(root, pids, cap);
        if (n <= cap)
            break;
        cap = n + 1024;
    }
    if (n <= 0) {
        free(pids);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pids[i]);
        long pss = procstat_field(path, "Pss"), rss = procstat_field(path, "Rss");
        snprintf(path, sizeof path, "/proc/%d/status", (int)pids[i]);
        long threads = procstat_field(path, "Threads");
        t->pss_kib += pss > 0 ? pss : 0; /* a zombie has no memory left to report */
        t->rss_kib += rss > 0 ? rss : 0;
        t->threads += threads > 0 ? threads : 0;
        t->procs++;
    }
    free(pids);
    return 0;
}

/* --- the machine ------------------------------------------------------------------ */

/* sockstat's "TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 1": inuse and mem. */
static void procstat_sockstat(struct procstat_mem *m)
{
    m->tcp_mem_kib = m->tcp_inuse = -1;
    FILE *f = fopen("/proc/net/sockstat", "re");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "TCP:", 4) != 0)
            continue;
        char *in = strstr(line, " inuse "), *mem = strstr(line, " mem ");
        if (in)
            m->tcp_inuse = strtol(in + 7, NULL, 10);
        if (mem) /* counted in pages */
            m->tcp_mem_kib = strtol(mem + 5, NULL, 10) * (sysconf(_SC_PAGESIZE) / 1024);
        break;
    }
    fclose(f);
}

/* A /proc/slabinfo line "name active_objs num_objs objsize ...": its active
 * objects and their size, if it is the cache `name`. */
static int procstat_slabinfo(const char *line, const char *name, long *objs, long *size)
{
    size_t len = strlen(name);
    if (strncmp(line, name, len) != 0 || line[len] != ' ')
        return 0;
    return sscanf(line + len, "%ld %*d %ld", objs, size) == 2;
}

/* Slab that /proc itself holds: one proc inode and one dentry for every entry
 * a program has looked up under /proc, e.g. /proc/PID/fd/N. Any tool that
 * lists a process's descriptors (lsof, a monitoring agent) makes one per open
 * descriptor, charged to nobody we measure; c10k leaves it out of "slab". */
static void procstat_proc_slab(struct procstat_mem *m)
{
    m->proc_slab = -1;
    FILE *f = fopen("/proc/slabinfo", "re");
    if (!f)
        return;
    long inodes = -1, inode_size = 0, dentries = -1, dentry_size = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        long objs, size;
        if (procstat_slabinfo(line, "proc_inode_cache", &objs, &size))
            inodes = objs, inode_size = size;
        else if (procstat_slabinfo(line, "dentry", &objs, &size))
            dentries = objs, dentry_size = size;
    }
    fclose(f);
    if (inodes >= 0 && dentries >= 0) /* a dentry each: count them with the inodes */
        m->proc_slab = inodes * (inode_size + dentry_size) / 1024;
}

int procstat_meminfo(struct procstat_mem *m)
{
    /* One read of the file, so that every figure is from the same moment. */
    char buf[8192];
    int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    struct {
        const char *name; /* the field's name in meminfo */
        long *dst;        /* where its value goes */
    } want[] = {
        {"MemAvailable:", &m->mem_available}, {"KernelStack:", &m->kernel_stack},
        {"PageTables:", &m->page_tables},     {"Slab:", &m->slab},
        {"SUnreclaim:", &m->sunreclaim},      {"SReclaimable:", &m->sreclaimable},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *at = strstr(buf, want[i].name);
        *want[i].dst = at && (at == buf || at[-1] == '\n') ? strtol(at + strlen(want[i].name), NULL, 10) : -1;
    }
    procstat_sockstat(m);
    procstat_proc_slab(m);
    return 0;
}
