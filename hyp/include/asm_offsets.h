/*
 * Structure offsets and constants shared between the hypervisor's assembly and C. The C
 * side checks each offset with _Static_assert (hyp/include/cpu.h), so the two cannot
 * drift apart silently.
 */
#ifndef HYP_ASM_OFFSETS_H
#define HYP_ASM_OFFSETS_H

/* struct core_boot_args */
#define BOOT_ARGS_MAIR   0
#define BOOT_ARGS_TCR    8
#define BOOT_ARGS_TTBR   16
#define BOOT_ARGS_SCTLR  24
#define BOOT_ARGS_VBAR   32
#define BOOT_ARGS_STACK  40
#define BOOT_ARGS_CORE   48

/* struct trap_frame: x0..x30, then ELR_EL2, SPSR_EL2, the cycle counter at entry */
#define FRAME_ELR        (31 * 8)
#define FRAME_SPSR       (32 * 8)
#define FRAME_CYCLES     (33 * 8)
#define FRAME_SIZE       (34 * 8)

/* SCTLR_EL2 bits that are RES1 when HCR_EL2.E2H is 0: 4, 5, 11, 16, 18, 22, 23, 28, 29. */
#define SCTLR_EL2_RES1   0x30C50830

#endif /* HYP_ASM_OFFSETS_H */
