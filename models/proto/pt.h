/* pt.h — protothreads: a function that can wait in the middle and be resumed
 * there later, without a stack of its own.
 *
 * The technique is Adam Dunkels' "local continuations" (Dunkels, Schmidt,
 * Voigt, Alkhawaja, "Protothreads: Simplifying Event-Driven Programming of
 * Memory-Constrained Embedded Systems", SenSys 2006): the function's body sits
 * inside one `switch` on a saved line number. To wait, it stores the current
 * line (__LINE__) and RETURNS to its caller, the loop; the next call jumps
 * straight back to `case __LINE__:` and tests its condition again. All that
 * survives between two calls is that one number — which gives the technique
 * its two well-known limits:
 *
 *   - locals do not survive a wait: the function returned, its frame is gone.
 *     Everything needed after a wait must live in a struct the caller keeps
 *     (the task's). A local is fine between two waits, never across one.
 *   - no `switch` statement of your own around a wait: its `case` labels would
 *     mix with ours (use if/else there).
 *
 * And one of C: two waits on one source line would make two equal `case`
 * labels; the compiler refuses that. */
#ifndef PT_H
#define PT_H

/* What a protothread's function returns to the loop. */
enum {
    PT_WAITING = 0, /* waiting for its condition: call it again after an event */
    PT_YIELDED = 1, /* gave way to the others: call it again soon, no event needed */
    PT_ENDED = 2,   /* finished: never call it again */
};

struct pt {
    int lc; /* the local continuation: the line to resume at, 0 = the start */
};

#define PT_INIT(pt) ((pt)->lc = 0)

/* Open and close the body: everything between them is inside our switch. */
#define PT_BEGIN(pt) switch ((pt)->lc) { case 0:
#define PT_END(pt)                                                            \
    }                                                                         \
    (pt)->lc = 0;                                                             \
    return PT_ENDED

/* Return PT_WAITING until cond holds; cond is evaluated again at every call. */
#define PT_WAIT_UNTIL(pt, cond)                                               \
    do {                                                                      \
        (pt)->lc = __LINE__;                                                  \
        __attribute__((fallthrough));                                         \
    case __LINE__:                                                            \
        if (!(cond))                                                          \
            return PT_WAITING;                                                \
    } while (0)

/* Give way once: return PT_YIELDED, carry on after this line next time. */
#define PT_YIELD(pt)                                                          \
    do {                                                                      \
        (pt)->lc = __LINE__;                                                  \
        return PT_YIELDED;                                                    \
    case __LINE__:;                                                           \
    } while (0)

/* End the protothread here. */
#define PT_EXIT(pt)                                                           \
    do {                                                                      \
        (pt)->lc = 0;                                                         \
        return PT_ENDED;                                                      \
    } while (0)

#endif
