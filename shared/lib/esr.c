/*
 * ESR decoding for crash reports, fault lines and MMIO emulation.
 */
#include "esr.h"
#include "kprintf.h"

const char *esr_class_name(unsigned ec)
{
    switch (ec) {
    case EC_UNKNOWN: return "unknown reason";
    case EC_WFX: return "WFI/WFE";
    case EC_FP_ASIMD: return "FP/SIMD access";
    case EC_ILLEGAL_STATE: return "illegal execution state";
    case EC_SVC64: return "SVC";
    case EC_HVC64: return "HVC";
    case EC_SMC64: return "SMC";
    case EC_SYSREG: return "system register access";
    case EC_IABT_LOWER: return "instruction abort from a lower EL";
    case EC_IABT_CUR: return "instruction abort at EL2";
    case EC_PC_ALIGN: return "PC alignment fault";
    case EC_DABT_LOWER: return "data abort from a lower EL";
    case EC_DABT_CUR: return "data abort at EL2";
    case EC_SP_ALIGN: return "SP alignment fault";
    case EC_SERROR: return "SError";
    case EC_BRK64: return "BRK";
    default: return "unexpected exception class";
    }
}

struct esr_dabt esr_decode_dabt(uint64_t esr)
{
    uint32_t iss = (uint32_t)esr & ESR_ISS_MASK;

    return (struct esr_dabt){
        .valid = (iss >> 24) & 1,
        .size = 1u << ((iss >> 22) & 3),
        .sign_extend = (iss >> 21) & 1,
        .reg = (iss >> 16) & 0x1f,
        .reg64 = (iss >> 15) & 1,
        .write = (iss >> 6) & 1,
        .fsc = iss & 0x3f,
    };
}

const char *esr_fsc_name(unsigned fsc)
{
    static const char *const level_names[4][4] = {
        { "address size fault, level 0", "address size fault, level 1",
          "address size fault, level 2", "address size fault, level 3" },
        { "translation fault, level 0", "translation fault, level 1",
          "translation fault, level 2", "translation fault, level 3" },
        { "access flag fault, level 0", "access flag fault, level 1",
          "access flag fault, level 2", "access flag fault, level 3" },
        { "permission fault, level 0", "permission fault, level 1",
          "permission fault, level 2", "permission fault, level 3" },
    };

    if (fsc < 0x10)
        return level_names[fsc >> 2][fsc & 3];
    switch (fsc) {
    case 0x10: return "synchronous external abort";
    case 0x21: return "alignment fault";
    case 0x30: return "TLB conflict abort";
    default: return "other fault";
    }
}

int esr_describe(uint64_t esr, char *buf, size_t len)
{
    unsigned ec = esr_class(esr);

    if (ec == EC_DABT_LOWER || ec == EC_DABT_CUR) {
        struct esr_dabt d = esr_decode_dabt(esr);

        return ksnprintf(buf, len, "ESR 0x%08llx (%s, %s, %s)", (unsigned long long)esr,
                         esr_class_name(ec), d.write ? "write" : "read", esr_fsc_name(d.fsc));
    }
    if (ec == EC_IABT_LOWER || ec == EC_IABT_CUR)
        return ksnprintf(buf, len, "ESR 0x%08llx (%s, %s)", (unsigned long long)esr,
                         esr_class_name(ec), esr_fsc_name((unsigned)esr & 0x3f));
    return ksnprintf(buf, len, "ESR 0x%08llx (%s)", (unsigned long long)esr, esr_class_name(ec));
}
