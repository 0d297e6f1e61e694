/* work.h — the fixed amount of CPU work every model does per message.
 *
 * One function, called the same way by every echo server (--work N), so that a
 * CPU-bound variant of each workload exists and costs the same in each model.
 * The work is N rounds of a 64-bit mixing function seeded by the message: it
 * touches no memory, makes no system call, and cannot be optimised away. */
#ifndef WORK_H
#define WORK_H

#include <stddef.h>
#include <stdint.h>

/* Do `units` units of work over the message; returns a checksum (ignored by
 * callers, stored so the compiler must compute it). 0 units costs nothing. */
uint64_t work_do(long units, const void *msg, size_t len);

#endif
