/*
 * Hypervisor entry. The image starts with the arm64 Linux Image header so that QEMU and
 * the Raspberry Pi 5 firmware load it the same way: entered at EL2 on the boot core with
 * the MMU off and the board's device tree in x0 (Linux Documentation/arch/arm64/booting.rst).
 *
 * primary_entry:   relocate, clear .bss, take the boot stack, install the vectors and call
 *                  hyp_main(dtb, load_address). The MMU is turned on from C.
 * secondary_entry: target of our PSCI CPU_ON calls; x0 is the core's boot arguments
 *                  (struct core_boot_args), which the boot core cleaned to the point of
 *                  coherency because this core reads them with its caches off.
 */
#include "asm_offsets.h"

    .section .text.head, "ax"
    .global _head
_head:
    b       primary_entry           /* code0 */
    .long   0                       /* code1 */
    .quad   0                       /* text_offset: place us at a 2 MiB aligned base */
    .quad   __image_size            /* effective size, .bss included */
    /* flags: little-endian (bit 0 = 0), 4 KiB pages (bits 2:1 = 1), anywhere in RAM (bit 3) */
    .quad   0xa
    .quad   0, 0, 0                 /* reserved */
    .ascii  "ARM\x64"               /* magic */
    .long   0                       /* no PE/COFF header */

    .text
primary_entry:
    mov     x19, x0                 /* board DTB */
    mrs     x1, CurrentEL
    cmp     x1, #(2 << 2)
    b.ne    park                    /* not entered at EL2: nothing we can do safely */

    /* Known EL2 state: MMU, caches and alignment checks off (SCTLR_EL2 RES1 bits only). */
    ldr     x1, =SCTLR_EL2_RES1
    msr     sctlr_el2, x1
    isb

    adr     x0, _head
    mov     x20, x0                 /* load address */
    bl      image_setup             /* relocate, clear .bss */
    adrp    x1, boot_stack_top
    add     x1, x1, :lo12:boot_stack_top
    mov     sp, x1
    adrp    x1, hyp_vectors
    add     x1, x1, :lo12:hyp_vectors
    msr     vbar_el2, x1
    isb
    mov     x0, x19
    mov     x1, x20
    bl      hyp_main
park:
    wfe
    b       park

    .global secondary_entry
secondary_entry:
    mov     x19, x0
    ldr     x1, =SCTLR_EL2_RES1
    msr     sctlr_el2, x1
    isb
    ldr     x1, [x19, #BOOT_ARGS_VBAR]
    msr     vbar_el2, x1
    mov     x0, x19
    bl      el2_mmu_enable
    ldr     x1, [x19, #BOOT_ARGS_STACK]
    mov     sp, x1
    ldr     x0, [x19, #BOOT_ARGS_CORE]
    bl      hyp_secondary_main
    b       park

/*
 * Turn the EL2 stage-1 MMU on with the tables and controls in struct core_boot_args (x0).
 * The map is an identity map, so the next instruction fetch is unaffected.
 */
    .global el2_mmu_enable
el2_mmu_enable:
    ldr     x1, [x0, #BOOT_ARGS_MAIR]
    msr     mair_el2, x1
    ldr     x1, [x0, #BOOT_ARGS_TCR]
    msr     tcr_el2, x1
    ldr     x1, [x0, #BOOT_ARGS_TTBR]
    msr     ttbr0_el2, x1
    isb
    tlbi    alle2
    dsb     ish
    isb
    ldr     x1, [x0, #BOOT_ARGS_SCTLR]
    msr     sctlr_el2, x1
    isb
    ret

    .section .bss
    .balign 16
boot_stack:
    .space  16384
boot_stack_top:
