/* tasks.h — the proto model's runtime: stackless tasks over one epoll set.
 *
 * A task is a struct and a function. The function is a protothread (pt.h):
 * the loop calls it, it runs until it must wait, and RETURNS — there is no
 * stack to switch to, nothing to save but the line it stopped at. The loop
 * calls it again when its descriptor reports an event, its deadline passes,
 * or (after it yielded) at the next turn. Everything the task needs after a
 * wait lives in its struct: the runtime's part is struct task below, the
 * program's part is whatever struct embeds it.
 *
 * Descriptors are registered once, edge-triggered, for reading and writing:
 * a task only waits after a call failed with EAGAIN, so an edge is certain to
 * follow, and no epoll_ctl is ever needed to change what it waits for. The
 * price is a wake-up now and then for the direction it is not waiting on; the
 * task's condition tests again and finds EAGAIN. */
#ifndef TASKS_H
#define TASKS_H

#include "heap.h"
#include "pt.h"

#include <stdint.h>
#include <sys/types.h>

enum {
    TASK_TURN = 16,    /* most I/O rounds a task does in one turn before it must yield */
    TASK_SLICE_MS = 10,/* and most milliseconds (--work makes a round slow) */
};

struct task {
    struct pt pt;                   /* where its function stands (the saved line) */
    int (*run)(struct task *t);     /* its function: returns PT_WAITING, PT_YIELDED or PT_ENDED */
    void (*end)(struct task *t);    /* called once after run returned PT_ENDED: close, free */
    int fd;                         /* the descriptor it is registered with, -1 for none */
    int expired;                    /* its deadline (task_deadline) has passed */
    int queued;                     /* it is on the ready queue */
    unsigned spent;                 /* rounds done this turn (task_tired) */
    struct heap_node timer;         /* its deadline in the timer heap, when it has one */
    struct task *next_ready;        /* the ready queue, first in first out */
    struct task *prev, *next;       /* every live task, so none is lost at exit */
};

int tasks_init(void);        /* once: the epoll set; 0, or -1 + errno */
int tasks_run(void);         /* until no task is left or tasks_stop(); 0, or -1 + errno */
void tasks_stop(void);       /* make tasks_run() return after this turn */
int64_t tasks_now(void);     /* monotonic milliseconds, read once per turn */
size_t tasks_count(void);    /* live tasks */

/* Start t (zeroed by the caller apart from its own fields): it runs in the
 * next turn. fd >= 0 is registered as by task_watch(). 0, or -1 + errno. */
int task_start(struct task *t, int (*run)(struct task *), void (*end)(struct task *), int fd);

/* Register fd (non-blocking) for t's events, for the fd's whole life; closing
 * the fd takes it out of the epoll set. 0, or -1 + errno. */
int task_watch(struct task *t, int fd);

/* Set t's deadline to the absolute time `at` (tasks_now() milliseconds), or
 * none with -1: when it passes, t->expired becomes 1 and t runs. */
int task_deadline(struct task *t, int64_t at);

/* Did the call that returned r find nothing to do (EAGAIN)? Then the task
 * waits for its next event: PT_WAIT_UNTIL(pt, !task_again(r = read(...))). */
int task_again(ssize_t r);

/* Count one round of work; 1 when the task has done TASK_TURN rounds or run
 * TASK_SLICE_MS in this turn and must PT_YIELD, so that a busy connection
 * cannot starve the rest. */
int task_tired(struct task *t);

#endif
