/* uring.h — what the io_uring backend's two files share: the ring of this
 * thread, a free submission slot, and the listener half (uring_accept.c). */
#ifndef CO_URING_H
#define CO_URING_H

#include "core.h"

#include <liburing.h>

/* user_data of a completion: the address of a struct co_op (even), a
 * listener's id shifted left with the low bit set, or 0 (a cancel request,
 * whose completion tells nothing). */
#define CO_TAG_ACC 1u

extern __thread struct io_uring co__R;                        /* this thread's ring */
struct io_uring_sqe *co__sqe(void);                           /* a free submission slot, or NULL + EBUSY */
void co__acc_complete(uint32_t id, int res, unsigned flags);  /* a listener's completion */
void co__acc_close(int fd);                                   /* co_close of a listener: cancel, free */
co_t *co__op_begin(int fd, int dirs, int64_t deadline);       /* the checks every I/O call starts with */

#endif
