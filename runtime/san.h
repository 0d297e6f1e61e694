/* san.h — what the sanitizers must be told, in one place. A coroutine
 * switch moves the thread to another stack behind the compiler's back, so
 * AddressSanitizer (which keeps a shadow of each stack, and "fake stacks"
 * for frames it moved to the heap) and ThreadSanitizer (which keeps a
 * history per execution context) are told of every switch, of every new
 * coroutine and of every stack reused. Built without a sanitizer, every
 * function below is an empty inline: the core files call them without an
 * #if, and the compiler leaves nothing behind. */
#ifndef CO_SAN_H
#define CO_SAN_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define CO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CO_TSAN 1
#endif
#endif

#ifdef CO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* Default stack: 32 KiB (an echo session needs 20, see server.h);
 * sanitizers grow every frame, so they get more. */
#if defined(CO_ASAN) || defined(CO_TSAN)
#define CO_STACK_DEFAULT (256 * 1024)
#else
#define CO_STACK_DEFAULT (32 * 1024)
#endif

/* Per coroutine, and per loop for the scheduler's own stack. */
struct co_san_co {
#ifdef CO_ASAN
    void *asan_fake;           /* ASan's fake stack of this coroutine while away */
#endif
#ifdef CO_TSAN
    void *tsan_fiber;          /* TSan's context for this coroutine */
#endif
};

struct co_san_loop {
#ifdef CO_ASAN
    const void *sched_bottom;  /* the scheduler's stack, for ASan */
    size_t sched_size;         /* its size */
    void *sched_fake;          /* ASan's fake stack of the scheduler while away */
    int from_sched;            /* the switch under way left the scheduler */
#endif
#ifdef CO_TSAN
    void *sched_fiber;         /* TSan's context of the scheduler */
#endif
};

/* A coroutine is created / has finished for good. */
static inline void co__san_created(struct co_san_co *s)
{
#ifdef CO_TSAN
    s->tsan_fiber = __tsan_create_fiber(0);
#endif
    (void)s;
}

static inline void co__san_destroyed(struct co_san_co *s)
{
#ifdef CO_TSAN
    __tsan_destroy_fiber(s->tsan_fiber);
    s->tsan_fiber = NULL;
#endif
    (void)s;
}

/* co_run starts: the scheduler's context is the thread's own. */
static inline void co__san_sched_enter(struct co_san_loop *l)
{
#ifdef CO_TSAN
    l->sched_fiber = __tsan_get_current_fiber();
#endif
    (void)l;
}

/* A switch is about to happen from `from` (NULL: the scheduler) to `to`
 * (NULL: the scheduler), whose stack is [to_lo, to_lo + to_len). `final`:
 * from never runs again, ASan may drop its fake stack. */
static inline void co__san_switch(struct co_san_loop *l, struct co_san_co *from, struct co_san_co *to,
                                  const void *to_lo, size_t to_len, int final)
{
#ifdef CO_ASAN
    l->from_sched = from == NULL;
    __sanitizer_start_switch_fiber(final ? NULL : from ? &from->asan_fake : &l->sched_fake,
                                   to ? to_lo : l->sched_bottom, to ? to_len : l->sched_size);
#endif
#ifdef CO_TSAN
    __tsan_switch_to_fiber(to ? to->tsan_fiber : l->sched_fiber, 0);
#endif
    (void)l, (void)from, (void)to, (void)to_lo, (void)to_len, (void)final;
}

/* Just back on `self` (NULL: the scheduler) after a switch. */
static inline void co__san_landed(struct co_san_loop *l, struct co_san_co *self)
{
#ifdef CO_ASAN
    const void *bottom;
    size_t size;
    int from_sched = l->from_sched;
    __sanitizer_finish_switch_fiber(self ? self->asan_fake : l->sched_fake, &bottom, &size);
    if (self && from_sched) {
        l->sched_bottom = bottom; /* the scheduler's stack, to switch back to it */
        l->sched_size = size;
    }
#endif
    (void)l, (void)self;
}

/* A reused stack: frames of its last user may have left poisoned redzones. */
static inline void co__san_stack_reused(void *lo, size_t len)
{
#ifdef CO_ASAN
    ASAN_UNPOISON_MEMORY_REGION(lo, len);
#endif
    (void)lo, (void)len;
}

#endif
