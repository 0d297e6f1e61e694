/* registry.h — the list of models, as the registry's one reader says.
 *
 * A model is a folder models/NAME/ holding about.txt ("key: value" lines:
 * connection, switches, order, ...) and programs: echo.c and fetch.c of its
 * own, or those of the model its `programs:` key names; its programs are
 * bin/echo-NAME and bin/fetch-NAME. Models are listed by `order`, then by
 * name. This file does not parse about.txt: it runs scripts/models.sh, the
 * one parser the build and the scripts use too, so the C side and the shell
 * side cannot disagree. Nothing else in the C code spells the list out.
 *
 * The peers (peers/NAME/about.txt: the same servers in Python, Node, Go,
 * libuv; read by peers/list.sh) are listed apart: they are no models of this
 * suite, but the runners measure their bin/echo-NAME beside the models' when
 * asked (PEERS=1), so those check names with registry_known(). */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stddef.h>

enum {
    REGISTRY_MAX = 64,      /* models read at most */
    REGISTRY_NAME_MAX = 64, /* bytes in a model's name, NUL included */
};

/* The source tree's root into buf: $C10K_ROOT if set; else the first
 * directory holding models/ and a Makefile, walking up from the directory of
 * this program (/proc/self/exe); else ".". Returns 0, or -1 with errno
 * ENAMETOOLONG if it does not fit. */
int registry_root(char *buf, size_t cap);

/* The registered models' names, by order then name, ending with NULL. Read
 * once, on the first call; an empty list (only the NULL) when the root holds
 * no model. Never NULL. */
const char *const *registry_models(void);

/* How many models registry_models() lists. */
int registry_count(void);

/* 1 if `name` is a registered model, else 0. */
int registry_has(const char *name);

/* The peers' names (folders peers/NAME/ holding about.txt), by order then
 * name, ending with NULL; whether their toolchain is present is not checked
 * (peers/list.sh does). Read once. Never NULL. */
const char *const *registry_peers(void);

/* 1 if `name` is a peer, else 0. */
int registry_is_peer(const char *name);

/* 1 if `name` is a model or a peer: a program bin/echo-NAME that a runner
 * (bench, c10k) may measure; else 0. */
int registry_known(const char *name);

/* The value of `key` in models/NAME/about.txt (peers/NAME/about.txt for a peer) into buf (spaces after the
 * colon skipped). Returns 0, or -1 with errno ENOENT (no such file or key). */
int registry_about(const char *name, const char *key, char *buf, size_t cap);

/* What the model `name` makes of each connection: the "unit:" field of its
 * about.txt, "process", "thread" or "coroutine"; NULL if it has none (or no
 * such model). The demos that show one way of switching per unit use it. */
const char *registry_unit(const char *name);

/* The first registered model (by order, then name) whose unit is `unit`,
 * or NULL. */
const char *registry_first_with_unit(const char *unit);

/* The names joined by `sep` into buf ("fork,threads,loop"), cut to fit;
 * returns buf. */
const char *registry_join(const char *sep, char *buf, size_t cap);

/* The same for the peers' names. */
const char *registry_join_peers(const char *sep, char *buf, size_t cap);

#endif
