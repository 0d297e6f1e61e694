/* coro_switch_x86_64.S — the context switch of the loop runtime on x86-64.
 *
 *   void co__switch(void **save_sp, void *load_sp);   (System V ABI)
 *
 * Saves what the ABI says a called function must preserve (rbx, rbp, r12-r15,
 * the x87 control word and MXCSR) on the CURRENT stack, stores the stack
 * pointer in *save_sp (rdi), moves to the stack load_sp (rsi) and pops the
 * same things back in reverse order. The final `ret` returns into whatever
 * function called co__switch on that other stack — or, for a coroutine that
 * has never run, into co__stub (coro.c builds that first frame).
 * Everything else (rax, rcx, rdx, ...) is caller-saved: the C compiler already
 * assumes co__switch may clobber it. No system call, no signal mask.
 *
 * Frame on a suspended stack, from the saved stack pointer upwards:
 *   [sp+0]  MXCSR (4 bytes), x87 control word (2 bytes), 2 bytes padding
 *   [sp+8]  r15   [sp+16] r14   [sp+24] r13   [sp+32] r12
 *   [sp+40] rbx   [sp+48] rbp   [sp+56] return address
 */
#if defined(__x86_64__)
    .text
    .globl  co__switch
    .type   co__switch, @function
    .p2align 4
co__switch:
    /* 1. callee-saved integer registers onto the current stack */
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    /* 2. floating-point control state (rounding mode, exception masks),
     *    padding zeroed so the 8 bytes compare whole in step 4 */
    subq    $8, %rsp
    movq    $0, (%rsp)
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    (%rsp), %rax
    /* 3. remember where this stack stopped, then move to the other one */
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    /* 4. restore the other side's state in the reverse order. Loading the
     *    control words is slow (fldcw is microcoded) and they almost never
     *    differ between coroutines: load them only when they do. */
    cmpq    (%rsp), %rax
    je      1f
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
1:  addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    /* 5. continue where the other side called co__switch (or in co__stub) */
    ret
    .size   co__switch, .-co__switch

/* co__stub: where a new coroutine's first switch "returns" to. Aligns the
 * stack as the ABI wants before a call and enters C; co__entry never returns
 * (a finished coroutine switches away for the last time). */
    .globl  co__stub
    .type   co__stub, @function
    .p2align 4
co__stub:
    xorl    %ebp, %ebp          /* end of the frame-pointer chain for debuggers */
    andq    $-16, %rsp
    call    co__entry
    ud2                         /* not reached */
    .size   co__stub, .-co__stub
#endif

/* No executable stack for this object. */
    .section .note.GNU-stack,"",@progbits
