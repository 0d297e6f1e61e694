/* coro.h — the loops model's runtime: the loop model's, unchanged.
 *
 * A model uses only its own folder and models/common, so this folder names
 * the runtime it links instead of reaching into ../loop from echo.c: this
 * file and coro.c, coro_switch.S beside it, include the loop model's files as
 * they are. Nothing needed changing: coro.c keeps all its state in one
 * per-thread structure, so every thread that calls co_init() and co_run()
 * has a loop of its own, and N threads are N independent loops. */
#include "../loop/coro.h"
