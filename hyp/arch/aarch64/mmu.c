/*
 * EL2 translation (the hypervisor's own identity map) and the controls that put
 * partitions behind stage 2. Every register bit we set is explained where it is set.
 */
#include <string.h>

#include "aarch64.h"
#include "hyp.h"

#define PAGE 4096u
#define POOL_PAGES 512          /* 2 MiB of translation tables for EL2 and every stage 2 */
#define EARLY_PAGES 4
#define GIB (1ull << 30)

static uint8_t pool[POOL_PAGES][PAGE] __attribute__((aligned(PAGE)));
static unsigned pool_used;
static uint8_t early_pool[EARLY_PAGES][PAGE] __attribute__((aligned(PAGE)));
static unsigned early_used;
static struct pgtable el2_early, el2_final;
static uint64_t tcr_el2, vtcr_el2;

void *page_alloc(void *ctx)
{
    (void)ctx;
    /* .bss is zeroed at entry and pages are never freed, so each one is still zero. */
    return pool_used < POOL_PAGES ? pool[pool_used++] : NULL;
}

static void *early_alloc(void *ctx)
{
    (void)ctx;
    return early_used < EARLY_PAGES ? early_pool[early_used++] : NULL;
}

/* ID_AA64MMFR0_EL1.PARange, capped at 48 bits (we never use 52-bit descriptors). */
static uint64_t pa_range(void)
{
    uint64_t r = read_sysreg(id_aa64mmfr0_el1) & 0xf;

    return r > 5 ? 5 : r;
}

static void compute_controls(void)
{
    tcr_el2 = 25                  /* T0SZ: 39-bit addresses, walks start at level 1 */
            | 1ull << 8           /* IRGN0: table walks inner write-back cacheable */
            | 1ull << 10          /* ORGN0: table walks outer write-back cacheable */
            | 3ull << 12          /* SH0: tables are inner shareable, all cores walk them */
            | 0ull << 14          /* TG0: 4 KiB granule */
            | pa_range() << 16    /* PS: the physical address size the core has */
            | 1ull << 23          /* RES1 */
            | 1ull << 31;         /* RES1 */
    vtcr_el2 = 25                 /* T0SZ: 39-bit IPA space */
             | 1ull << 6          /* SL0 = 1: stage-2 walks start at level 1 (4 KiB granule) */
             | 1ull << 8          /* IRGN0: walks inner write-back cacheable */
             | 1ull << 10         /* ORGN0: walks outer write-back cacheable */
             | 3ull << 12         /* SH0: inner shareable */
             | 0ull << 14         /* TG0: 4 KiB granule */
             | pa_range() << 16   /* PS: output addresses up to the core's PA size */
             | 1ull << 31;        /* RES1 */
}

#define SCTLR_WXN (1ull << 19)

static void fill_args(struct core_boot_args *a, const struct pgtable *pt)
{
    a->mair = PGTABLE_MAIR_VALUE;
    a->tcr = tcr_el2;
    a->ttbr = pgtable_root_pa(pt);
    a->sctlr = SCTLR_EL2_RES1
             | 1ull << 0          /* M: stage-1 translation on */
             | 1ull << 2          /* C: data caches on */
             | 1ull << 3          /* SA: SP alignment checked, catches stack corruption */
             | 1ull << 12;        /* I: instruction cache on */
    /* WXN: nothing writable is ever executable; only the final map, whose RAM is
     * split into text, read-only and data, can have it (the early map is one RWX block). */
    if (pt == &el2_final)
        a->sctlr |= SCTLR_WXN;
    a->vbar = read_sysreg(vbar_el2);
}

void el2_mmu_enable(const struct core_boot_args *a);

/*
 * Before the board is known: map the 1 GiB blocks holding this image and the DTB, so
 * that parsing runs with caches on and unaligned accesses allowed (libfdt is built for
 * normal memory). Runs with the MMU off, so the tables are written straight to RAM.
 */
void mmu_prepare_boot_core(uint64_t load_address, const void *dtb)
{
    struct pgtable_alloc alloc = { early_alloc, NULL };
    struct core_boot_args args;
    uint64_t blocks[2] = { load_address & ~(GIB - 1), (uintptr_t)dtb & ~(GIB - 1) };

    compute_controls();
    if (pgtable_init(&el2_early, PGTABLE_EL2, &alloc))
        for (;;) wfe();
    for (unsigned i = 0; i < 2; i++)
        pgtable_map(&el2_early, blocks[i], blocks[i], GIB, PGTABLE_R | PGTABLE_W | PGTABLE_X);
    /* Nothing may linger in the caches over these tables once walks become cacheable. */
    dcache_clean_inval_poc(early_pool, sizeof(early_pool));
    fill_args(&args, &el2_early);
    el2_mmu_enable(&args);
}

/* The console page, early, so that board and layout errors can be reported. */
int mmu_map_early_device(uint64_t base)
{
    int rc = pgtable_map(&el2_early, base & ~(uint64_t)(PAGE - 1), base & ~(uint64_t)(PAGE - 1),
                         PAGE, PGTABLE_R | PGTABLE_W | PGTABLE_DEVICE);

    dsb_ish();
    isb();
    return rc;
}

static int map_device(struct range r)
{
    uint64_t base = r.base & ~(uint64_t)(PAGE - 1);
    uint64_t end = (r.base + r.size + PAGE - 1) & ~(uint64_t)(PAGE - 1);

    return pgtable_map(&el2_final, base, base, end - base, PGTABLE_R | PGTABLE_W | PGTABLE_DEVICE);
}

extern uint8_t __image_start[], __rodata_start[], __data_start[], __image_end[];

static int map_identity(uint64_t start, uint64_t end, unsigned attrs)
{
    return end > start ? pgtable_map(&el2_final, start, start, end - start, attrs) : 0;
}

/*
 * RAM is data to the hypervisor, never code: only its own text is executable, and its
 * text and read-only data are not writable (relocation is done before this map exists).
 */
static int map_ram(struct range ram)
{
    uint64_t text = (uintptr_t)__image_start, rodata = (uintptr_t)__rodata_start;
    uint64_t data = (uintptr_t)__data_start, end = (uintptr_t)__image_end;
    uint64_t ram_end = ram.base + ram.size;
    int rc;

    if (text >= ram_end || end <= ram.base)
        return map_identity(ram.base, ram_end, PGTABLE_R | PGTABLE_W);
    if ((rc = map_identity(ram.base, text, PGTABLE_R | PGTABLE_W)) ||
        (rc = map_identity(text, rodata, PGTABLE_R | PGTABLE_X)) ||
        (rc = map_identity(rodata, data, PGTABLE_R)) ||
        (rc = map_identity(data, end, PGTABLE_R | PGTABLE_W)))
        return rc;
    return map_identity(end, ram_end, PGTABLE_R | PGTABLE_W);
}

/* The hypervisor's map: all RAM as normal memory, its devices as Device-nGnRnE. */
void mmu_build_final(void)
{
    struct pgtable_alloc alloc = { page_alloc, NULL };
    int rc = pgtable_init(&el2_final, PGTABLE_EL2, &alloc);

    for (unsigned i = 0; i < board.nram && !rc; i++)
        rc = map_ram(board.ram[i]);
    if (!rc)
        rc = map_device(board.uart);
    if (!rc)
        rc = map_device(board.gicd);
    if (!rc)
        rc = map_device(board.gicc);
    if (!rc)
        rc = map_device(board.gich);
    if (rc)
        hyp_panic("cannot build the EL2 translation tables (%d)", rc);
}

void mmu_activate_final(void)
{
    write_sysreg(ttbr0_el2, pgtable_root_pa(&el2_final));
    isb();
    __asm__ volatile("tlbi alle2" ::: "memory");
    dsb_ish();
    isb();
    write_sysreg(sctlr_el2, read_sysreg(sctlr_el2) | SCTLR_WXN);
    __asm__ volatile("tlbi alle2" ::: "memory");   /* WXN may be cached in TLB entries */
    dsb_ish();
    isb();
}

void mmu_fill_boot_args(struct core_boot_args *a, unsigned core, uint64_t stack_top)
{
    fill_args(a, &el2_final);
    a->stack = stack_top;
    a->core = core;
    /* The target core reads this with its caches off. */
    dcache_clean_inval_poc(a, sizeof(*a));
}

/* Per-core virtualization controls; every core that runs a partition sets them. */
void mmu_init_el2_controls(void)
{
    uint64_t hcr = 1ull << 0      /* VM: stage-2 translation on for EL1/EL0 */
                 | 1ull << 1      /* SWIO: set/way invalidates act as clean+invalidate,
                                   * since a partition cannot see the whole cache */
                 | 1ull << 2      /* PTW: a stage-1 walk that hits device memory faults */
                 | 1ull << 3      /* FMO: physical FIQs come to EL2 */
                 | 1ull << 4      /* IMO: physical IRQs come to EL2: the hypervisor keeps
                                   * the GIC and can always take a core back (SGI kick) */
                 | 1ull << 5      /* AMO: SErrors come to EL2, to be contained */
                 | 1ull << 9      /* FB: TLB and I-cache maintenance by a partition is
                                   * broadcast to its other cores */
                 | 1ull << 10     /* BSU = inner shareable: barriers cover those cores */
                 | 1ull << 13     /* TWI: a partition's WFI comes to us, so an idle core
                                   * sleeps (core_idle) instead of spinning */
                 | 1ull << 19     /* TSC: SMC traps, firmware is reachable only through us;
                                   * PSCI over SMC is emulated like over HVC */
                 | 1ull << 31;    /* RW: EL1 runs AArch64 */
    const struct vcpu *v = this_core()->vcpu;

    /* A partition with direct interrupts takes this core's IRQs itself (IMO clear: they
     * go to EL1, through the physical CPU interface it owns) and waits for them in its
     * own WFI (TWI clear): nothing it waits for would pass through us. */
    if (v && v->part->cfg->direct_irqs)
        hcr &= ~(1ull << 4 | 1ull << 13);
    write_sysreg(hcr_el2, hcr);
    write_sysreg(vtcr_el2, vtcr_el2);
    /* CPTR_EL2: RES1 bits 13:12 and 9:0; TFP (bit 10) clear, so FP/SIMD does not trap
     * (each core runs one vCPU, nothing to switch lazily); TTA clear. */
    write_sysreg(cptr_el2, 0x33ff);
    /* CNTHCTL_EL2: EL1PCTEN (bit 0) lets a partition read the physical counter; EL1PCEN
     * (bit 1) clear keeps the physical timer ours: partitions use the virtual timer. */
    write_sysreg(cnthctl_el2, 1);
    /* No offset: the virtual counter equals the physical one in every partition. */
    write_sysreg(cntvoff_el2, 0);
    /* MDCR_EL2: HPMN = PMCR_EL0.N hands every PMU event counter to the partition that owns
     * this core; no debug or PMU access traps (TPM, TPMCR, TDA, TDRA, TDOSA clear). */
    write_sysreg(mdcr_el2, (read_sysreg(pmcr_el0) >> 11) & 0x1f);
    /* The cycle counter runs from here on, at EL2 too (PMCCFILTR_EL0.NSH), so the
     * hypervisor's histograms and the partitions' measurements see every cycle. */
    write_sysreg(pmccfiltr_el0, 1ull << 27);
    write_sysreg(pmcntenset_el0, 1ull << 31);
    write_sysreg(pmcr_el0, read_sysreg(pmcr_el0) | 1);   /* E: counters enabled */
    /* The partition sees the real CPU model. */
    write_sysreg(vpidr_el2, read_sysreg(midr_el1));
    isb();
}

void mmu_switch_partition(const struct partition *p)
{
    write_sysreg(vttbr_el2, p->vttbr);
    isb();
}

/* Drop every stage-1 and stage-2 TLB entry tagged with the partition's VMID. */
void mmu_invalidate_partition(const struct partition *p)
{
    uint64_t saved = read_sysreg(vttbr_el2);

    write_sysreg(vttbr_el2, p->vttbr);
    isb();
    __asm__ volatile("tlbi vmalls12e1is" ::: "memory");
    dsb_ish();
    write_sysreg(vttbr_el2, saved);
    isb();
}
