/* unit_proto.c — the proto model's runtime (models/proto/tasks.c): the turn
 * budget. A stackless task runs until it returns, so one whose reads and
 * writes never wait would keep the loop for ever; task_tired() is what makes
 * it give way (echo.c and fetch.c call it every round). The runtime is
 * compiled into this program, as unit_uring does with its own. */
#include "../models/proto/tasks.c"

#include "check.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int sv[2];        /* a socketpair: the flooder writes to sv[0], reads back from sv[1] */
static long ticks;       /* the sibling's 5 ms deadlines met while the flooder ran */
static long rounds;      /* the flooder's write + read rounds */
static double flood_secs; /* how long the flooder ran */
static int flood_done, flood_bad;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Never waits: each write finds room, each read finds the KiB just written,
 * as with a peer that always keeps data ready. It stops itself after 2 s, so
 * a budget that never runs out fails the check instead of hanging. */
static int flood_run(struct task *t)
{
    static char out[1024], in[1024];
    static double t0;
    PT_BEGIN(&t->pt);
    t0 = now_s();
    while (ticks < 10 && now_s() - t0 < 2.0) {
        if (write(sv[0], out, sizeof out) != (ssize_t)sizeof out || read(sv[1], in, sizeof in) != (ssize_t)sizeof in) {
            flood_bad = 1;
            break;
        }
        rounds++;
        if (task_tired(t))
            PT_YIELD(&t->pt);
    }
    flood_secs = now_s() - t0;
    flood_done = 1;
    PT_END(&t->pt);
}

/* Meets a 5 ms deadline again and again while the flooder runs. */
static int sibling_run(struct task *t)
{
    PT_BEGIN(&t->pt);
    while (!flood_done) {
        task_deadline(t, tasks_now() + 5);
        PT_WAIT_UNTIL(&t->pt, t->expired);
        ticks++;
    }
    PT_END(&t->pt);
}

static void no_end(struct task *t) { (void)t; }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    plan(2);
    if (tasks_init() < 0) {
        perror("unit_proto: tasks_init");
        return 1;
    }

    /* task_tired: tired within TASK_TURN rounds, not at the first */
    struct task one;
    memset(&one, 0, sizeof one);
    int n = 1;
    while (n <= 1000 && !task_tired(&one))
        n++;
    char why[200];
    snprintf(why, sizeof why, "tired after %d rounds, want 2..%d", n, TASK_TURN);
    check(n >= 2 && n <= TASK_TURN, "task_tired: a task must give way after at most TASK_TURN rounds", why);

    /* the same on a descriptor that never runs dry: the sibling keeps its deadlines */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("unit_proto: socketpair");
        return 1;
    }
    static struct task flooder, sibling;
    if (task_start(&flooder, flood_run, no_end, -1) < 0 || task_start(&sibling, sibling_run, no_end, -1) < 0 ||
        tasks_run() < 0) {
        perror("unit_proto: tasks");
        return 1;
    }
    snprintf(why, sizeof why, "the sibling met %ld 5 ms deadlines in %.3f s of %ld never-waiting rounds%s", ticks,
             flood_secs, rounds, flood_bad ? " (a write or read came up short)" : "");
    check(!flood_bad && ticks >= 10, "a task whose I/O never waits gives the loop back (a sibling meets its deadlines)",
          why);
    printf("info budget: %s\n", why);
    return check_done();
}
