/* meta.c — runs scripts/meta.sh for a C tool; see meta.h. */
#include "meta.h"
#include "proc.h"
#include "registry.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

enum { META_TIMEOUT_MS = 30000 }; /* git, cc --version: seconds at most, even on a busy machine */

/* Run ROOT/scripts/meta.sh with args (NULL-terminated). */
static int meta_run(char **args, char *why, size_t cap)
{
    char root[PATH_MAX], script[PATH_MAX + 32];
    char *argv[2 * META_MAX_ARGS + 4];
    if (registry_root(root, sizeof root) < 0) {
        snprintf(why, cap, "cannot find the source tree: %s", strerror(errno));
        return -1;
    }
    snprintf(script, sizeof script, "%s/scripts/meta.sh", root);
    int n = 0;
    argv[n++] = script;
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct proc p;
    if (proc_spawn(&p, argv, NULL) < 0) {
        snprintf(why, cap, "cannot run %s: %s", script, strerror(errno));
        return -1;
    }
    if (proc_wait(&p, META_TIMEOUT_MS) != 0 && proc_stop(&p, 1000) < 0) {
        snprintf(why, cap, "%s", p.why);
        return -1;
    }
    if (proc_exit_code(&p) != 0) {
        snprintf(why, cap, "%s failed (exit status %d)", script, proc_exit_code(&p));
        return -1;
    }
    return 0;
}

int meta_write(const char *file, char *const sets[], char *const commands[], char *why, size_t cap)
{
    char *args[2 * META_MAX_ARGS + 2];
    int n = 0;
    args[n++] = (char *)file;
    for (int i = 0; sets && sets[i]; i++) {
        if (n + 2 > 2 * META_MAX_ARGS)
            return snprintf(why, cap, "more than %d metadata keys", META_MAX_ARGS), -1;
        args[n++] = "--set";
        args[n++] = sets[i];
    }
    for (int i = 0; commands && commands[i]; i++) {
        if (n + 2 > 2 * META_MAX_ARGS)
            return snprintf(why, cap, "more than %d metadata keys", META_MAX_ARGS), -1;
        args[n++] = "--command";
        args[n++] = commands[i];
    }
    args[n] = NULL;
    return meta_run(args, why, cap);
}

int meta_finish(const char *file, char *why, size_t cap)
{
    char *args[] = {"--finish", (char *)file, NULL};
    return meta_run(args, why, cap);
}
