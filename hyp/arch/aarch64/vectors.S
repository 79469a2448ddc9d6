/*
 * EL2 exception vectors.
 *
 * Exceptions from a partition (lower EL, AArch64) save the partition's general registers
 * and ELR/SPSR in a struct trap_frame at the top of this core's EL2 stack and call the C
 * handler with a pointer to it; the handler may change the frame (a hypercall result, a
 * skipped instruction, or a whole new context when the partition restarts) and we return
 * to whatever the frame then says. Every other vector is a hypervisor bug or an
 * exception we never enable, and goes to the crash report.
 */
#include "asm_offsets.h"

.macro save_frame
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mrs     x0, pmccntr_el0
    str     x0, [sp, #FRAME_CYCLES]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x0, elr_el2
    mrs     x1, spsr_el2
    stp     x30, x0, [sp, #240]
    str     x1, [sp, #FRAME_SPSR]
.endm

.macro entry handler
    .balign 0x80
    save_frame
    mov     x0, sp
    bl      \handler
    b       frame_return
.endm

.macro crash kind
    .balign 0x80
    save_frame
    mov     x0, sp
    mov     x1, #\kind
    bl      hyp_crash
.endm

    .text
    .balign 0x800
    .global hyp_vectors
hyp_vectors:
    /* Current EL with SP_EL0: we never run on SP_EL0. */
    crash 0
    crash 1
    crash 2
    crash 3
    /* Current EL with SP_ELx: a fault inside the hypervisor itself. */
    crash 0
    crash 1
    crash 2
    crash 3
    /* Lower EL, AArch64: the partitions. */
    entry trap_lower_sync
    entry trap_lower_irq
    entry trap_lower_fiq
    entry trap_lower_serror
    /* Lower EL, AArch32: HCR_EL2.RW makes EL1 AArch64, so these cannot happen. */
    crash 0
    crash 1
    crash 2
    crash 3

/*
 * Restore the frame at sp and return to the partition. Also the first entry into a
 * partition: guest_enter(frame) points sp at a frame its caller filled in.
 */
    .global guest_enter
guest_enter:
    mov     sp, x0
frame_return:
    ldp     x30, x0, [sp, #240]
    ldr     x1, [sp, #FRAME_SPSR]
    msr     elr_el2, x0
    msr     spsr_el2, x1
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    add     sp, sp, #FRAME_SIZE
    eret
    /* No speculation past the exception return. */
    dsb     nsh
    isb
