/* registry.c — the models, from models/NAME/about.txt; see registry.h. */
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

static struct registry_entry registry_list[REGISTRY_MAX]; /* sorted, read once */
static const char *registry_names[REGISTRY_MAX + 1];       /* into registry_list, then NULL */
static int registry_n = -1;                                /* -1 until read */

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
    return registry_field(path, key, buf, cap);
}

static int registry_cmp(const void *a, const void *b)
{
    const struct registry_entry *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* A folder is a model when it holds about.txt, echo.c and fetch.c. */
static int registry_is_model(const char *models, const char *name)
{
    char dir[PATH_MAX];
    if (name[0] == '.' || strlen(name) >= REGISTRY_NAME_MAX ||
        (size_t)snprintf(dir, sizeof dir, "%s/%s", models, name) >= sizeof dir)
        return 0;
    return registry_exists(dir, "about.txt") && registry_exists(dir, "echo.c") &&
           registry_exists(dir, "fetch.c");
}

static void registry_read(void)
{
    char root[PATH_MAX], models[PATH_MAX + 8];
    registry_n = 0;
    if (registry_root(root, sizeof root) < 0)
        return;
    snprintf(models, sizeof models, "%s/models", root);
    DIR *d = opendir(models);
    if (!d)
        return;
    for (struct dirent *e; registry_n < REGISTRY_MAX && (e = readdir(d));) {
        if (!registry_is_model(models, e->d_name))
            continue;
        struct registry_entry *m = &registry_list[registry_n++];
        memcpy(m->name, e->d_name, strlen(e->d_name) + 1); /* fits: registry_is_model checked */
        char order[32];
        m->order = registry_about(m->name, "order", order, sizeof order) == 0
                       ? strtol(order, NULL, 10) : 1000;
    }
    closedir(d);
    qsort(registry_list, (size_t)registry_n, sizeof *registry_list, registry_cmp);
    for (int i = 0; i < registry_n; i++)
        registry_names[i] = registry_list[i].name;
    registry_names[registry_n] = NULL;
}

const char *const *registry_models(void)
{
    if (registry_n < 0)
        registry_read();
    return registry_names;
}

int registry_count(void)
{
    registry_models();
    return registry_n;
}

int registry_has(const char *name)
{
    for (const char *const *m = registry_models(); *m; m++)
        if (strcmp(*m, name) == 0)
            return 1;
    return 0;
}

const char *registry_join(const char *sep, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    const char *const *m = registry_models();
    for (int i = 0; m[i] && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? sep : "", m[i]);
    return buf;
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
