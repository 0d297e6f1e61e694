/* cgroup.h — memory cgroups (v1 or v2) for c10k: a group of its own for the
 * server, one for the client, and their counters, so that what the kernel
 * charges to each side can be told apart. Where no memory cgroup is writable
 * (no root, v2 without memory delegated), version is 0 and note says why:
 * the caller skips the cgroup figures. */
#ifndef CGROUP_H
#define CGROUP_H

#include <limits.h>
#include <sys/types.h>

/* Where our cgroups live and which interface the kernel offers. */
struct cgroup_env {
    int version;            /* 1 or 2; 0 = no writable memory cgroup: figures skipped */
    char base[PATH_MAX];    /* our own memory cgroup's directory: new groups go inside it */
    char note[256];         /* why cgroups are off, for the progress lines and docs */
};

/* One reading of a cgroup's counters, in bytes; -1 if unknown. */
struct cgroup_reading {
    long long total;  /* v1 memory.usage_in_bytes (user + kernel, no TCP buffers); v2 memory.current (all) */
    long long kmem;   /* v1 memory.kmem.usage_in_bytes; v2 memory.stat kernel + sock */
    long long tcp;    /* v1 memory.kmem.tcp.usage_in_bytes; v2 memory.stat sock */
};

/* Find a memory cgroup we may create groups in (our own). Returns c->version:
 * 1 or 2, or 0 with the reason in c->note. */
int cgroup_init(struct cgroup_env *c);

/* Make the group `name` inside c->base; its directory goes to out. Returns 0,
 * or -1 with errno (and c->version set to 0, the reason in c->note). */
int cgroup_create(struct cgroup_env *c, const char *name, char *out, size_t cap);

/* Move process `pid` (0: the caller) into the group at dir. Returns 0, or -1
 * with errno. Only open/write/close: usable between fork and exec. */
int cgroup_join(const char *dir, pid_t pid);

/* Read the group's counters (all -1 when dir is "" or cgroups are off). */
void cgroup_read(const struct cgroup_env *c, const char *dir, struct cgroup_reading *r);

/* What the group holds in all, user and kernel, TCP buffers included:
 * v1 keeps TCP buffers outside usage_in_bytes, v2 inside memory.current. */
long long cgroup_all(const struct cgroup_env *c, const struct cgroup_reading *r);

/* Remove an empty group, retrying for up to 5 s while the kernel lets go of
 * its last task. Returns 0 (also when dir is "" or already gone), or -1 with
 * errno. */
int cgroup_remove(const char *dir);

#endif
