/* coro_switch_aarch64.S — the context switch of the loop runtime on AArch64.
 *
 *   void co__switch(void **save_sp, void *load_sp);   (AAPCS64)
 *
 * Saves the callee-saved registers (x19-x28, the frame pointer x29, the link
 * register x30, the low halves d8-d15 of v8-v15, and FPCR) in a 176-byte
 * frame on the CURRENT stack, stores sp in *save_sp (x0), moves to load_sp
 * (x1) and restores the same frame from there. The final `ret` jumps to the
 * restored x30: the caller of co__switch on that stack, or co__stub for a
 * coroutine that has never run (coro.c builds that first frame).
 *
 * Frame, from the saved sp upwards (16-byte aligned, as sp must always be):
 *   [sp+0]   x19 x20   [sp+16]  x21 x22   [sp+32]  x23 x24   [sp+48] x25 x26
 *   [sp+64]  x27 x28   [sp+80]  x29 x30   [sp+96]  d8  d9    [sp+112] d10 d11
 *   [sp+128] d12 d13   [sp+144] d14 d15   [sp+160] FPCR, padding
 */
#if defined(__aarch64__)
    .text
    .globl  co__switch
    .type   co__switch, %function
    .p2align 4
co__switch:
    /* 1. callee-saved registers into a new frame on the current stack */
    sub     sp, sp, #176
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8,  d9,  [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    /* 2. floating-point control state (rounding mode, traps) */
    mrs     x9, fpcr
    str     x9, [sp, #160]
    /* 3. remember where this stack stopped, then move to the other one */
    mov     x9, sp
    str     x9, [x0]
    mov     sp, x1
    /* 4. restore the other side's frame */
    ldr     x9, [sp, #160]
    msr     fpcr, x9
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8,  d9,  [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #176
    /* 5. continue at the restored link register */
    ret
    .size   co__switch, .-co__switch

/* co__stub: where a new coroutine's first switch "returns" to. Enters C;
 * co__entry never returns. */
    .globl  co__stub
    .type   co__stub, %function
    .p2align 4
co__stub:
    mov     x29, #0             /* end of the frame chain for debuggers */
    mov     x30, #0
    bl      co__entry
    brk     #0                  /* not reached */
    .size   co__stub, .-co__stub
#endif

/* No executable stack for this object. */
    .section .note.GNU-stack,"",%progbits
