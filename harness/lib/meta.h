/* meta.h — the C side of scripts/meta.sh, the suite's one metadata writer:
 * every benchmark's meta.txt has the same keys in the same order (commit,
 * dirty, date, kernel, cpu, cores, memory_kib, compiler, flags, pinning,
 * load_start, then the benchmark's own keys and its commands). A C tool
 * runs the script rather than write the file itself. Errors come back as -1
 * with a one-line reason in `why`. */
#ifndef META_H
#define META_H

#include <stddef.h>

enum { META_MAX_ARGS = 60 }; /* --set pairs plus commands, at most */

/* Write `file`: sets[] ("key=value", NULL-terminated) become meta.sh's
 * --set pairs, commands[] (NULL-terminated, may be NULL) its --command
 * lines. Returns 0, or -1 with why. */
int meta_write(const char *file, char *const sets[], char *const commands[], char *why, size_t cap);

/* Append load_end and duration_s to `file` (meta.sh --finish). */
int meta_finish(const char *file, char *why, size_t cap);

#endif
