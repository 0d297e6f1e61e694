/* ratelog.h — say something on stderr at most once a second.
 *
 * A server out of descriptors may see accept() fail thousands of times a
 * second; a line for each would drown the terminal and cost more than the
 * failure itself. A ratelog lets one line through per second and counts the
 * lines it holds back, so the next line that goes out says how many there
 * were. Keep one limiter per kind of trouble, usually a static variable. */
#ifndef RATELOG_H
#define RATELOG_H

struct ratelog {
    long long last_ns; /* when a line last went out (monotonic clock); 0 = never */
    long held;         /* lines held back since then */
};

/* Print the printf-style message and a newline on stderr in one write(),
 * unless this limiter let a line out less than a second ago: then count it as
 * held back. A line that follows held-back ones ends with "(N more held
 * back)". Returns 1 if the line went out, 0 if it was held back. Safe to call
 * from several threads at once: in any one second only one of them prints. */
int ratelog(struct ratelog *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
