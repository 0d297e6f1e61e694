/* registry.c — the models, from models/NAME/about.txt, and the peers, from
 * peers/NAME/about.txt; see registry.h. */
#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One model as read from its folder. */
struct registry_entry {
    char name[REGISTRY_NAME_MAX]; /* the folder's name */
    long order;                   /* about.txt's order (1000 when missing, as models.sh) */
};

/* One folder of entries (models/ or peers/), read once. */
struct registry_dir {
    const char *dir;                                 /* "models" or "peers", under the root */
    int need_sources;                                /* a model needs echo.c and fetch.c too */
    struct registry_entry list[REGISTRY_MAX];        /* sorted by order, then name */
    const char *names[REGISTRY_MAX + 1];             /* into list, then NULL */
    int n;                                           /* -1 until read */
};

static struct registry_dir registry_m = {.dir = "models", .need_sources = 1, .n = -1};
static struct registry_dir registry_p = {.dir = "peers", .need_sources = 0, .n = -1};

/* Does dir/name exist? */
static int registry_exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return 0;
    return access(path, F_OK) == 0;
}

int registry_root(char *buf, size_t cap)
{
    const char *env = getenv("C10K_ROOT");
    if (env && *env) {
        if ((size_t)snprintf(buf, cap, "%s", env) >= cap)
            return errno = ENAMETOOLONG, -1;
        return 0;
    }
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    dir[n > 0 ? n : 0] = '\0';
    for (char *slash; (slash = strrchr(dir, '/')) && slash != dir;) {
        *slash = '\0'; /* one level up: first the program's own directory */
        if (registry_exists(dir, "models") && registry_exists(dir, "Makefile")) {
            if ((size_t)snprintf(buf, cap, "%s", dir) >= cap)
                return errno = ENAMETOOLONG, -1;
            return 0;
        }
    }
    if (cap < 2)
        return errno = ENAMETOOLONG, -1;
    snprintf(buf, cap, ".");
    return 0;
}

/* about.txt's field `key` from a file at path. */
static int registry_field(const char *path, const char *key, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1; /* errno from fopen */
    char line[512];
    size_t len = strlen(key);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, len) != 0 || line[len] != ':')
            continue;
        char *v = line + len + 1;
        v += strspn(v, " \t");
        v[strcspn(v, "\r\n")] = '\0';
        snprintf(buf, cap, "%s", v);
        found = 1;
    }
    fclose(f);
    return found ? 0 : (errno = ENOENT, -1);
}

int registry_about(const char *name, const char *key, char *buf, size_t cap)
{
    char root[PATH_MAX], path[PATH_MAX + 2 * REGISTRY_NAME_MAX];
    if (registry_root(root, sizeof root) < 0)
        return -1;
    if (!*name || strchr(name, '/'))
        return errno = ENOENT, -1;
    snprintf(path, sizeof path, "%s/models/%s/about.txt", root, name);
    if (access(path, F_OK) < 0) /* not a model: a peer's, if it is one */
        snprintf(path, sizeof path, "%s/peers/%s/about.txt", root, name);
    return registry_field(path, key, buf, cap);
}

static int registry_cmp(const void *a, const void *b)
{
    const struct registry_entry *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* A folder is an entry when it holds about.txt (a model: echo.c and fetch.c too). */
static int registry_is_entry(const struct registry_dir *r, const char *parent, const char *name)
{
    char dir[PATH_MAX];
    if (name[0] == '.' || strlen(name) >= REGISTRY_NAME_MAX ||
        (size_t)snprintf(dir, sizeof dir, "%s/%s", parent, name) >= sizeof dir)
        return 0;
    if (!registry_exists(dir, "about.txt"))
        return 0;
    return !r->need_sources || (registry_exists(dir, "echo.c") && registry_exists(dir, "fetch.c"));
}

static void registry_read(struct registry_dir *r)
{
    char root[PATH_MAX], parent[PATH_MAX + 8];
    r->n = 0;
    r->names[0] = NULL;
    if (registry_root(root, sizeof root) < 0)
        return;
    snprintf(parent, sizeof parent, "%s/%s", root, r->dir);
    DIR *d = opendir(parent);
    if (!d)
        return;
    for (struct dirent *e; r->n < REGISTRY_MAX && (e = readdir(d));) {
        if (!registry_is_entry(r, parent, e->d_name))
            continue;
        struct registry_entry *m = &r->list[r->n++];
        memcpy(m->name, e->d_name, strlen(e->d_name) + 1); /* fits: registry_is_entry checked */
        char order[32];
        m->order = registry_about(m->name, "order", order, sizeof order) == 0
                       ? strtol(order, NULL, 10) : 1000;
    }
    closedir(d);
    qsort(r->list, (size_t)r->n, sizeof *r->list, registry_cmp);
    for (int i = 0; i < r->n; i++)
        r->names[i] = r->list[i].name;
    r->names[r->n] = NULL;
}

const char *const *registry_models(void)
{
    if (registry_m.n < 0)
        registry_read(&registry_m);
    return registry_m.names;
}

int registry_count(void)
{
    registry_models();
    return registry_m.n;
}

const char *const *registry_peers(void)
{
    if (registry_p.n < 0)
        registry_read(&registry_p);
    return registry_p.names;
}

/* Is name in the NULL-ended list? */
static int registry_in(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

int registry_is_peer(const char *name)
{
    return registry_in(registry_peers(), name);
}

int registry_known(const char *name)
{
    return registry_has(name) || registry_is_peer(name);
}

int registry_has(const char *name)
{
    return registry_in(registry_models(), name);
}

/* The NULL-ended list's names joined by sep into buf, cut to fit. */
static const char *registry_join_list(const char *const *m, const char *sep, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; m[i] && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? sep : "", m[i]);
    return buf;
}

const char *registry_join(const char *sep, char *buf, size_t cap)
{
    return registry_join_list(registry_models(), sep, buf, cap);
}

const char *registry_join_peers(const char *sep, char *buf, size_t cap)
{
    return registry_join_list(registry_peers(), sep, buf, cap);
}

const char *registry_unit(const char *name)
{
    static const char *const units[] = {"process", "thread", "coroutine"};
    char conn[256];
    if (registry_about(name, "connection", conn, sizeof conn) < 0)
        return NULL;
    const char *best = NULL, *at = NULL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        const char *w = strstr(conn, units[i]);
        if (w && (!at || w < at))
            best = units[i], at = w;
    }
    return best;
}

const char *registry_first_with_unit(const char *unit)
{
    for (const char *const *m = registry_models(); *m; m++) {
        const char *u = registry_unit(*m);
        if (u && strcmp(u, unit) == 0)
            return *m;
    }
    return NULL;
}
