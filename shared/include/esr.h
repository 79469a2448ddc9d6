/*
 * Exception Syndrome Register decoding (Arm ARM D17.2.37, ESR_ELx): the exception class
 * names used in crash reports and fault lines, and the data-abort syndrome the MMIO
 * emulation needs.
 */
#ifndef HYP_ESR_H
#define HYP_ESR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESR_EC_SHIFT     26
#define ESR_EC_MASK      0x3fu
#define ESR_IL           (1u << 25)
#define ESR_ISS_MASK     0x1ffffffu

#define EC_UNKNOWN       0x00
#define EC_WFX           0x01
#define EC_FP_ASIMD      0x07
#define EC_ILLEGAL_STATE 0x0e
#define EC_SVC64         0x15
#define EC_HVC64         0x16
#define EC_SMC64         0x17
#define EC_SYSREG        0x18
#define EC_IABT_LOWER    0x20
#define EC_IABT_CUR      0x21
#define EC_PC_ALIGN      0x22
#define EC_DABT_LOWER    0x24
#define EC_DABT_CUR      0x25
#define EC_SP_ALIGN      0x26
#define EC_SERROR        0x2f
#define EC_BRK64         0x3c

static inline unsigned esr_class(uint64_t esr)
{
    return (unsigned)(esr >> ESR_EC_SHIFT) & ESR_EC_MASK;
}

/* Short human name of an exception class ("data abort from a lower EL"). */
const char *esr_class_name(unsigned ec);

/* What a data abort syndrome says about the access. */
struct esr_dabt {
    bool valid;        /* ISV: the fields below describe the instruction */
    unsigned size;     /* bytes: 1, 2, 4 or 8 */
    bool sign_extend;  /* SSE */
    unsigned reg;      /* SRT: 0..30, 31 = xzr */
    bool reg64;        /* SF: 64-bit register */
    bool write;        /* WnR */
    unsigned fsc;      /* DFSC */
};

struct esr_dabt esr_decode_dabt(uint64_t esr);
/* Name of a data or instruction fault status code ("translation fault, level 2"). */
const char *esr_fsc_name(unsigned fsc);
/* One line describing esr, e.g. "ESR 0x93c08006 (data abort from a lower EL, write, ...)". */
int esr_describe(uint64_t esr, char *buf, size_t len);

#endif /* HYP_ESR_H */
