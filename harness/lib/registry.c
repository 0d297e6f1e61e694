/* registry.c — the models, as scripts/models.sh reads them from
 * models/NAME/about.txt, and the peers, as peers/list.sh reads
 * peers/NAME/about.txt; see registry.h. */
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One model or peer, as its reader lists it. */
struct registry_entry {
    char name[REGISTRY_NAME_MAX]; /* the folder's name */
};

/* One list (the models, the peers), read once. */
struct registry_dir {
    const char *prog;                                /* its reader, under the root */
    const char *arg;                                 /* the argument that lists them, or NULL */
    struct registry_entry list[REGISTRY_MAX];        /* by order, then name */
    const char *names[REGISTRY_MAX + 1];             /* into list, then NULL */
    int n;                                           /* -1 until read */
};

static struct registry_dir registry_m = {.prog = "scripts/models.sh", .n = -1};
static struct registry_dir registry_p = {.prog = "peers/list.sh", .arg = "--all", .n = -1};

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

/* Run the registry's own reader, ROOT/PROG with up to three arguments, and
 * put what it prints into buf (NUL-ended, the last newline dropped). The
 * models' about.txt files have ONE parser, scripts/models.sh (the peers',
 * peers/list.sh): the build, the scripts and this file all ask it, so they
 * cannot disagree on what a model is or what a field says. 0 if it exited
 * 0, else -1 with errno (ENOENT: it said no). */
static int registry_ask(const char *prog, const char *a1, const char *a2, const char *a3, char *buf,
                        size_t cap)
{
    char root[PATH_MAX], path[PATH_MAX + 32];
    if (registry_root(root, sizeof root) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", root, prog);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]), close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
        execl(path, path, a1, a2, a3, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    for (ssize_t n; len + 1 < cap && (n = read(p[0], buf + len, cap - 1 - len)) != 0;)
        if (n > 0)
            len += (size_t)n;
        else if (errno != EINTR)
            break;
    buf[len] = '\0';
    if (len > 0 && buf[len - 1] == '\n')
        buf[len - 1] = '\0';
    char sink[256];
    while (read(p[0], sink, sizeof sink) > 0) /* what did not fit */
        ;
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : (errno = ENOENT, -1);
}

int registry_about(const char *name, const char *key, char *buf, size_t cap)
{
    if (!*name || strchr(name, '/'))
        return errno = ENOENT, -1;
    const char *prog = registry_has(name) ? "scripts/models.sh" : "peers/list.sh";
    if (registry_ask(prog, "--about", name, key, buf, cap) < 0)
        return -1;
    return *buf ? 0 : (errno = ENOENT, -1); /* no such key */
}

/* The list, from the registry's reader: scripts/models.sh prints the
 * models by order then name, peers/list.sh --all the peers. */
static void registry_read(struct registry_dir *r)
{
    static char out[2][REGISTRY_MAX * REGISTRY_NAME_MAX];
    char *buf = out[r == &registry_p];
    r->n = 0;
    r->names[0] = NULL;
    if (registry_ask(r->prog, r->arg, NULL, NULL, buf, sizeof out[0]) < 0)
        return;
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line && r->n < REGISTRY_MAX;
         line = strtok_r(NULL, "\n", &save)) {
        if (strlen(line) >= REGISTRY_NAME_MAX)
            continue;
        struct registry_entry *m = &r->list[r->n++];
        memcpy(m->name, line, strlen(line) + 1);
    }
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
    char unit[64];
    if (registry_about(name, "unit", unit, sizeof unit) < 0)
        return NULL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(unit, units[i]) == 0)
            return units[i];
    return NULL;
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
