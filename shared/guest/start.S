/*
 * Entry of a partition kernel (rtkernel, aios and test images). The hypervisor enters at
 * the image's first byte at EL1, MMU and caches off, x0 = the partition's device tree.
 * Secondary vCPUs enter at guest_secondary_entry through PSCI CPU_ON, x0 = their index.
 */
#define GUEST_STACK_SIZE 16384
#define GUEST_MAX_CPUS   8

    .section .text.head, "ax"
    .global _head
_head:
    mov     x19, x0
    adr     x0, _head
    bl      image_setup             /* relocate, clear .bss */
    mov     x0, #0
    bl      set_stack
    mov     x0, x19
    bl      guest_boot
3:  wfi
    b       3b

    .text
    .global guest_secondary_entry
guest_secondary_entry:
    mov     x19, x0
    cmp     x0, #GUEST_MAX_CPUS
    b.hs    3b
    bl      set_stack
    mov     x0, x19
    bl      guest_secondary_boot
    b       3b

/* sp = top of the stack of cpu x0; vectors installed; FP/SIMD usable at EL1 and EL0
 * (CPACR_EL1.FPEN = 3: the AI partition's inference code uses it). Uses x0-x2 only. */
set_stack:
    mov     x1, #(3 << 20)
    msr     cpacr_el1, x1
    adrp    x1, guest_stacks
    add     x1, x1, :lo12:guest_stacks
    add     x0, x0, #1
    mov     x2, #GUEST_STACK_SIZE
    madd    x1, x0, x2, x1
    mov     sp, x1
    adrp    x1, guest_vectors
    add     x1, x1, :lo12:guest_vectors
    msr     vbar_el1, x1
    isb
    ret

/* Any exception taken by the partition kernel itself is a bug: report and reset. */
.macro vector
    .balign 0x80
    mrs     x0, esr_el1
    mrs     x1, elr_el1
    mrs     x2, far_el1
    b       guest_exception
.endm

    .balign 0x800
guest_vectors:
    .rept 16
    vector
    .endr

    .bss
    .balign 16
    .global guest_stacks
guest_stacks:
    .space  GUEST_STACK_SIZE * GUEST_MAX_CPUS
