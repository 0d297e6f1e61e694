/* coro_switch.S — the loop runtime's context switch, for this model's
 * programs (see coro.h here). Each included file assembles only on its own
 * architecture. */
#include "../loop/coro_switch_x86_64.S"
#include "../loop/coro_switch_aarch64.S"
