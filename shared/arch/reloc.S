/*
 * Self-relocation and .bss set-up for position-independent images (hypervisor and
 * partition kernels).
 *
 * Every image is linked as a static PIE at address 0 and may be loaded anywhere (QEMU, the
 * Pi 5 firmware and the hypervisor each pick their own load address). Before any C runs,
 * the entry code calls apply_relocations to add the load address to every absolute
 * pointer the linker recorded in .rela.dyn. Only R_AARCH64_RELATIVE can appear in a
 * static PIE (besides R_AARCH64_NONE, which the linker leaves where it dropped one);
 * anything else means the image was linked wrongly, so we stop.
 *
 * In:  x0 = load address (runtime address of the link-time address 0)
 * Uses x9-x15 only, touches no memory but the relocated words, needs no stack.
 */
#define R_AARCH64_RELATIVE 1027

    .text
    .global apply_relocations
    .type apply_relocations, %function
apply_relocations:
    adrp    x9, __rela_start
    add     x9, x9, :lo12:__rela_start
    adrp    x10, __rela_end
    add     x10, x10, :lo12:__rela_end
1:  cmp     x9, x10
    b.hs    3f
    ldp     x11, x12, [x9], #16     /* r_offset, r_info */
    ldr     x13, [x9], #8           /* r_addend */
    cbz     x12, 1b                 /* R_AARCH64_NONE */
    mov     x14, #R_AARCH64_RELATIVE
    cmp     x12, x14
    b.ne    2f
    add     x13, x13, x0
    str     x13, [x11, x0]
    b       1b
2:  wfe                             /* a relocation we cannot apply: do not run */
    b       2b
3:  ret
    .size apply_relocations, . - apply_relocations

/*
 * Everything an image does before its first C code: relocate (x0 = load address) and
 * clear .bss. Needs no stack; uses x9-x15 and x30 is preserved.
 */
    .global image_setup
    .type image_setup, %function
image_setup:
    mov     x15, x30
    bl      apply_relocations
    adrp    x9, __bss_start
    add     x9, x9, :lo12:__bss_start
    adrp    x10, __bss_end
    add     x10, x10, :lo12:__bss_end
4:  cmp     x9, x10
    b.hs    5f
    stp     xzr, xzr, [x9], #16     /* the link script keeps .bss 16-byte aligned */
    b       4b
5:  ret     x15
    .size image_setup, . - image_setup
