/* cgroup.c — memory cgroups for measuring a server apart from its client;
 * see cgroup.h. */
#include "cgroup.h"
#include "procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Paths are cut to fit their buffers on purpose: a long cgroup path in a
 * note loses its tail, nothing worse. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static int cgroup_write(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int err = errno;
    close(fd);
    errno = err;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Our memory cgroup's path inside its hierarchy, from /proc/self/cgroup:
 * "4:memory:/a/b" (v1) or "0::/a/b" (v2). Returns 1 for v1, 2 for v2, 0. */
static int cgroup_self_path(char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return 0;
    char line[PATH_MAX + 64];
    int version = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *ctrls = c1 + 1, *path = c2 + 1;
        if (strstr(ctrls, "memory")) { /* a v1 memory hierarchy wins */
            snprintf(out, cap, "%s", path);
            version = 1;
            break;
        }
        if (*ctrls == '\0' && line[0] == '0') {
            snprintf(out, cap, "%s", path);
            version = 2;
        }
    }
    fclose(f);
    return version;
}

/* Inside our own memory cgroup, so that whatever limits we run under still
 * apply to the groups we make. */
int cgroup_init(struct cgroup_env *c)
{
    memset(c, 0, sizeof *c);
    char self[PATH_MAX];
    c->version = cgroup_self_path(self, sizeof self);
    if (strcmp(self, "/") == 0)
        self[0] = '\0';
    if (c->version == 1) {
        snprintf(c->base, sizeof c->base, "/sys/fs/cgroup/memory%s", self);
    } else if (c->version == 2) {
        const char *mnt = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "/sys/fs/cgroup"
                                                                                : "/sys/fs/cgroup/unified";
        snprintf(c->base, sizeof c->base, "%s%s", mnt, self);
        char sub[PATH_MAX + 32], ctl[256] = "";
        snprintf(sub, sizeof sub, "%s/cgroup.subtree_control", c->base);
        FILE *f = fopen(sub, "re");
        if (f) {
            if (!fgets(ctl, sizeof ctl, f))
                ctl[0] = '\0';
            fclose(f);
        }
        /* v2 forbids processes in a group that hands controllers to its children,
         * so only a group with memory already delegated (the root, typically) works. */
        if (!strstr(ctl, "memory")) {
            snprintf(c->note, sizeof c->note,
                     "cgroup v2: memory is not enabled in %s/cgroup.subtree_control; cgroup figures skipped",
                     c->base);
            c->version = 0;
        }
    } else {
        snprintf(c->note, sizeof c->note, "no memory cgroup in /proc/self/cgroup; cgroup figures skipped");
    }
    if (c->version && access(c->base, W_OK) != 0) {
        snprintf(c->note, sizeof c->note, "%s is not writable (%s; root needed); cgroup figures skipped",
                 c->base, strerror(errno));
        c->version = 0;
    }
    return c->version;
}

/* Make a new group `name` inside ours; its directory goes to out. */
int cgroup_create(struct cgroup_env *c, const char *name, char *out, size_t cap)
{
    if (!c->version)
        return errno = ENOENT, -1;
    snprintf(out, cap, "%s/%s", c->base, name);
    if (mkdir(out, 0755) < 0 && errno != EEXIST) {
        int err = errno;
        snprintf(c->note, sizeof c->note, "cannot create %s: %s; cgroup figures skipped", out,
                 strerror(err));
        c->version = 0;
        errno = err;
        return -1;
    }
    /* v1 counts TCP buffer memory only once a TCP limit has been set: set it
     * to "unlimited", which switches the counting on and limits nothing. */
    if (c->version == 1)
        cgroup_write(out, "memory.kmem.tcp.limit_in_bytes", "-1");
    return 0;
}

/* Move process `pid` (0: the caller) into the group at dir. */
int cgroup_join(const char *dir, pid_t pid)
{
    char text[32];
    snprintf(text, sizeof text, "%d\n", (int)(pid ? pid : getpid()));
    return cgroup_write(dir, "cgroup.procs", text);
}

/* A "name value" line of a v2 memory.stat, or -1. */
static long long cgroup_stat(const char *dir, const char *name)
{
    char path[PATH_MAX + 32], line[256];
    snprintf(path, sizeof path, "%s/memory.stat", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long long v = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ' ') {
            v = strtoll(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static long long cgroup_file(const char *dir, const char *file)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return procstat_read_ll(path);
}

void cgroup_read(const struct cgroup_env *c, const char *dir, struct cgroup_reading *r)
{
    r->total = r->kmem = r->tcp = -1;
    if (!dir[0] || !c->version)
        return;
    if (c->version == 1) {
        r->total = cgroup_file(dir, "memory.usage_in_bytes");
        r->kmem = cgroup_file(dir, "memory.kmem.usage_in_bytes");
        r->tcp = cgroup_file(dir, "memory.kmem.tcp.usage_in_bytes");
        return;
    }
    r->total = cgroup_file(dir, "memory.current");
    r->tcp = cgroup_stat(dir, "sock");
    long long kernel = cgroup_stat(dir, "kernel");
    r->kmem = kernel >= 0 && r->tcp >= 0 ? kernel + r->tcp : -1;
}

/* What the group holds in all, user and kernel, TCP buffers included:
 * v1 keeps TCP buffers outside usage_in_bytes, v2 inside memory.current. */
long long cgroup_all(const struct cgroup_env *c, const struct cgroup_reading *r)
{
    if (r->total < 0)
        return -1;
    return c->version == 1 && r->tcp > 0 ? r->total + r->tcp : r->total;
}

int cgroup_remove(const char *dir)
{
    for (int i = 0; dir[0] && i < 50; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        struct timespec ts = {0, 100000000L}; /* the kernel may need a moment after its last task exits */
        nanosleep(&ts, NULL);
    }
    return dir[0] ? -1 : 0;
}

