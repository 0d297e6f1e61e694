/* tasks.c — see tasks.h. One thread, one epoll set, one timer heap, one ready
 * queue: the whole runtime of the proto model. */
#include "tasks.h"
#include "net.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { TASKS_EVENTS = 256 }; /* events taken from the kernel per epoll_wait */

static int ep = -1;                    /* the epoll set */
static int stopping;                   /* tasks_stop() was called */
static int64_t now_ms;                 /* the clock, read once per turn */
static struct heap timers;             /* tasks with a deadline, nearest on top */
static struct task *ready, *ready_end; /* the ready queue */
static struct task *all;               /* every live task */
static size_t live;                    /* how many */

static int64_t clock_ms(void) { return net_now_ns() / 1000000; }

int tasks_init(void)
{
    now_ms = clock_ms();
    ep = epoll_create1(EPOLL_CLOEXEC);
    return ep < 0 ? -1 : 0;
}

void tasks_stop(void) { stopping = 1; }
int64_t tasks_now(void) { return now_ms; }
size_t tasks_count(void) { return live; }

static void ready_push(struct task *t)
{
    if (t->queued)
        return;
    t->queued = 1;
    t->next_ready = NULL;
    if (ready_end)
        ready_end->next_ready = t;
    else
        ready = t;
    ready_end = t;
}

static struct task *ready_pop(void)
{
    struct task *t = ready;
    ready = t->next_ready;
    if (!ready)
        ready_end = NULL;
    t->queued = 0;
    return t;
}

int task_watch(struct task *t, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = t};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    t->fd = fd;
    return 0;
}

int task_start(struct task *t, int (*run)(struct task *), void (*end)(struct task *), int fd)
{
    t->run = run;
    t->end = end;
    t->fd = -1;
    PT_INIT(&t->pt);
    heap_node_init(&t->timer);
    if (heap_reserve(&timers, live + 1) < 0) /* so that task_deadline cannot fail */
        return -1;
    if (fd >= 0 && task_watch(t, fd) < 0)
        return -1;
    t->prev = NULL;
    t->next = all;
    if (all)
        all->prev = t;
    all = t;
    live++;
    ready_push(t); /* its first turn tries at once: the data may be there already */
    return 0;
}

int task_deadline(struct task *t, int64_t at)
{
    t->expired = 0;
    if (at < 0) {
        heap_remove(&timers, &t->timer);
        return 0;
    }
    return heap_push(&timers, &t->timer, at);
}

int task_again(ssize_t r) { return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK); }

int task_tired(struct task *t)
{
    return ++t->spent >= TASK_TURN || clock_ms() - now_ms >= TASK_SLICE_MS;
}

/* The task's function returned PT_ENDED: forget it, let its owner clean up. */
static void task_finish(struct task *t)
{
    heap_remove(&timers, &t->timer);
    if (t->prev)
        t->prev->next = t->next;
    else
        all = t->next;
    if (t->next)
        t->next->prev = t->prev;
    live--;
    if (t->end)
        t->end(t);
}

/* Wait for events (not at all when a task is ready), queue the tasks they
 * name and those whose deadline passed. */
static int tasks_poll(void)
{
    struct epoll_event evs[TASKS_EVENTS];
    int timeout = -1;
    struct heap_node *top = heap_top(&timers);
    if (ready)
        timeout = 0;
    else if (top)
        timeout = top->key <= now_ms ? 0 : (int)(top->key - now_ms);
    int n = epoll_wait(ep, evs, TASKS_EVENTS, timeout);
    if (n < 0 && errno != EINTR)
        return -1;
    now_ms = clock_ms();
    for (int i = 0; i < n; i++)
        ready_push(evs[i].data.ptr);
    while ((top = heap_top(&timers)) && top->key <= now_ms) {
        struct task *t = heap_entry(heap_pop(&timers), struct task, timer);
        t->expired = 1;
        ready_push(t);
    }
    return 0;
}

int tasks_run(void)
{
    while (!stopping && live > 0) {
        if (tasks_poll() < 0)
            return -1;
        /* Run the tasks queued now, once each; one that yields goes to the
         * back and runs in the next turn, after the next poll. */
        for (struct task *last = ready_end; ready && !stopping;) {
            struct task *t = ready_pop();
            int was_last = t == last; /* t may be freed below */
            t->spent = 0;
            int r = t->run(t);
            if (r == PT_YIELDED)
                ready_push(t);
            else if (r == PT_ENDED)
                task_finish(t);
            if (was_last)
                break;
        }
    }
    return 0;
}
