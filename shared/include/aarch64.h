/*
 * AArch64 helpers shared by every bare-metal image: system-register access, barriers,
 * cache maintenance by address and SMCCC conduits. Only facts of the architecture live
 * here; anything about one board belongs in the device tree.
 */
#ifndef SHARED_AARCH64_H
#define SHARED_AARCH64_H

#include <stddef.h>
#include <stdint.h>

#define read_sysreg(reg) ({ uint64_t v_; __asm__ volatile("mrs %0, " #reg : "=r"(v_)); v_; })
#define write_sysreg(reg, val) __asm__ volatile("msr " #reg ", %0" : : "r"((uint64_t)(val)) : "memory")

static inline void isb(void) { __asm__ volatile("isb" : : : "memory"); }
static inline void dsb_ish(void) { __asm__ volatile("dsb ish" : : : "memory"); }
static inline void dsb_sy(void) { __asm__ volatile("dsb sy" : : : "memory"); }
static inline void sev(void) { __asm__ volatile("sev" : : : "memory"); }
static inline void wfe(void) { __asm__ volatile("wfe" : : : "memory"); }
static inline void wfi(void) { __asm__ volatile("wfi" : : : "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("yield" : : : "memory"); }

/* Smallest data cache line in the system, from CTR_EL0.DminLine (log2 of words). */
static inline size_t dcache_line_size(void)
{
    return (size_t)4 << ((read_sysreg(ctr_el0) >> 16) & 0xf);
}

/*
 * Clean and invalidate [start, start+size) to the point of coherency, so that a reader
 * with its caches off (a core before its MMU is on) sees what we wrote, and no dirty line
 * of ours is written back later over what it writes.
 */
static inline void dcache_clean_inval_poc(const void *start, size_t size)
{
    size_t line = dcache_line_size();
    uintptr_t p = (uintptr_t)start & ~(line - 1);
    uintptr_t end = (uintptr_t)start + size;

    for (; p < end; p += line)
        __asm__ volatile("dc civac, %0" : : "r"(p) : "memory");
    dsb_sy();
}

/* Invalidate the whole instruction cache of the inner-shareable domain. */
static inline void icache_inval_all(void)
{
    __asm__ volatile("ic ialluis" : : : "memory");
    dsb_ish();
    isb();
}

struct smccc_res {
    uint64_t x0, x1, x2, x3, x4, x5;
};

/* SMCCC call through HVC (to our hypervisor) or SMC (to firmware). */
#define SMCCC_CONDUIT(name, insn)                                                          \
    static inline struct smccc_res name(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3) \
    {                                                                                      \
        register uint64_t x0 __asm__("x0") = fid;                                          \
        register uint64_t x1 __asm__("x1") = a1;                                           \
        register uint64_t x2 __asm__("x2") = a2;                                           \
        register uint64_t x3 __asm__("x3") = a3;                                           \
        register uint64_t x4 __asm__("x4");                                                \
        register uint64_t x5 __asm__("x5");                                                \
        __asm__ volatile(insn " #0"                                                        \
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "=r"(x4), "=r"(x5)      \
                         :                                                                 \
                         : "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",      \
                           "x15", "x16", "x17", "memory");                                 \
        return (struct smccc_res){ x0, x1, x2, x3, x4, x5 };                               \
    }
SMCCC_CONDUIT(smccc_hvc, "hvc")
SMCCC_CONDUIT(smccc_smc, "smc")
#undef SMCCC_CONDUIT

/* PSCI 0.2+ function IDs (Arm DEN 0022), 64-bit variants where they take addresses. */
#define PSCI_VERSION          0x84000000u
#define PSCI_CPU_OFF          0x84000002u
#define PSCI_CPU_ON           0xC4000003u
#define PSCI_AFFINITY_INFO    0xC4000004u
#define PSCI_SYSTEM_OFF       0x84000008u
#define PSCI_SYSTEM_RESET     0x84000009u
#define PSCI_FEATURES         0x8400000Au
#define PSCI_SUCCESS          0
#define PSCI_NOT_SUPPORTED    (-1)
#define PSCI_INVALID_PARAMS   (-2)
#define PSCI_DENIED           (-3)
#define PSCI_ALREADY_ON       (-4)
#define PSCI_ON_PENDING       (-5)
#define PSCI_INTERNAL_FAILURE (-6)
#define PSCI_INVALID_ADDRESS  (-9)

#define SMCCC_VERSION_FID     0x80000000u

#endif /* SHARED_AARCH64_H */
