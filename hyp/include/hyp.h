/*
 * The hypervisor's runtime state: physical cores, partitions and their virtual CPUs,
 * and the entry points the boot flow and the trap handlers share.
 *
 * Static partitioning: every physical core belongs to at most one partition and runs
 * exactly one of its vCPUs, so there is no scheduler and a vCPU's EL1 system registers
 * simply live in its core.
 */
#ifndef HYP_HYP_H
#define HYP_HYP_H

#include <stdbool.h>
#include <stdint.h>

#include "asm_offsets.h"
#include "board.h"
#include "hypercall.h"
#include "layout.h"
#include "perf.h"
#include "pgtable.h"
#include "spinlock.h"
#include "vgic.h"
#include "vuart.h"

#define HYP_CORE_STACK  (16 * 1024)
#define CONSOLE_LINE    256

struct trap_frame {
    uint64_t x[31];
    uint64_t elr;
    uint64_t spsr;
    uint64_t entry_cycles;   /* PMCCNTR_EL0 at the vector: what the histograms start from */
};

/* What the boot core hands a secondary core through PSCI CPU_ON (see head.S). */
struct core_boot_args {
    uint64_t mair, tcr, ttbr, sctlr, vbar, stack, core;
};

enum vcpu_power { VCPU_OFF, VCPU_ON };

struct partition;

struct vcpu {
    struct partition *part;
    unsigned index;             /* vCPU number: its virtual MPIDR Aff0 */
    unsigned core;              /* physical core it runs on */
    volatile enum vcpu_power power;
    volatile bool parked;       /* in the hypervisor, not running partition code */
    volatile uint64_t entry, context;   /* from the PSCI CPU_ON that powered it on */
    uint32_t seen_epoch;        /* partition epoch this vCPU is running */
    /* List registers: reloaded only when the vGIC changed for this vCPU, read back only
     * when some are in use, so a trap that touches no interrupt costs nothing extra.
     * The last fill used LRs 0 .. lrs_written-1 (the rest hold zero); those of them not
     * yet read back are 0 .. lrs_in_use-1. */
    volatile bool vgic_dirty;
    unsigned lrs_in_use;
    unsigned lrs_written;
};

struct partition {
    const struct layout_partition *cfg;
    const struct layout_image *image;
    unsigned index;
    uint16_t vmid;
    struct pgtable s2;
    uint64_t vttbr;
    struct vcpu vcpus[LAYOUT_MAX_CORES];
    unsigned nvcpus;
    struct vuart uart;
    struct vgic vgic;           /* under lock */
    /* console output while another partition has the keyboard, one line at a time */
    char line[CONSOLE_LINE];
    unsigned line_len;
    uint64_t dtb_ipa;           /* the device tree we wrote for it */
    spinlock_t lock;
    volatile enum partition_state state;
    volatile uint32_t epoch;    /* bumped to tell every vCPU to stop */
    volatile bool restart_wanted;
    volatile unsigned stop_requester;   /* partition whose request stopped this one */
    unsigned restarts;          /* every restart, requested or after a fault */
    unsigned fault_restarts;    /* the ones the restart limit counts */
    uint64_t faults;            /* stage-2 faults, ever */
    uint64_t last_fault_ipa, last_fault_esr;
};

struct core {
    unsigned index;
    /* Counted by this core only; a reset moves the baseline, so no count is ever lost
     * to a race between the core and the resetter. */
    uint64_t perf[PERF_COUNTERS];
    uint64_t perf_base[PERF_COUNTERS];
    struct vcpu *vcpu;          /* NULL for a core no partition owns */
    struct trap_frame *frame;   /* the guest frame at the top of this core's stack */
    uint64_t irq_taken_at;      /* cycles when an interrupt for the vCPU was taken, 0: none */
};

extern struct board board;
extern struct layout layout;
extern struct partition partitions[LAYOUT_MAX_PARTITIONS];
extern unsigned npartitions;

/* The core this code runs on (TPIDR_EL2 holds its struct core). */
static inline struct core *this_core(void)
{
    struct core *c;

    __asm__ volatile("mrs %0, tpidr_el2" : "=r"(c));
    return c;
}

/* Count an event on this core. */
static inline void perf_count(enum perf_counter c)
{
    this_core()->perf[c]++;
}

static inline void perf_add(enum perf_counter c, uint64_t n)
{
    this_core()->perf[c] += n;
}

/* Add value to one of this core's latency histograms (perf.h). */
static inline void perf_hist(enum perf_hist h, uint64_t value)
{
    unsigned b = value ? 63u - (unsigned)__builtin_clzll(value) : 0;

    if (b >= PERF_HIST_BUCKETS)
        b = PERF_HIST_BUCKETS - 1;
    this_core()->perf[PERF_HIST_BASE + h * PERF_HIST_BUCKETS + b]++;
}

static inline uint64_t cycles_now(void)
{
    uint64_t c;

    __asm__ volatile("mrs %0, pmccntr_el0" : "=r"(c));
    return c;
}

extern struct core cores[BOARD_MAX_CORES];

/* Boot */
void hyp_main(const void *dtb, uint64_t load_address);
void hyp_secondary_main(uint64_t core);
void guest_enter(struct trap_frame *frame) __attribute__((noreturn));

/* Trap handlers called from vectors.S */
void trap_lower_sync(struct trap_frame *f);
void trap_lower_irq(struct trap_frame *f);
void trap_lower_fiq(struct trap_frame *f);
void trap_lower_serror(struct trap_frame *f);
void hyp_crash(struct trap_frame *f, uint64_t kind) __attribute__((noreturn));
void hyp_panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Partitions (partition.c) */
int partitions_create(void);
void vcpu_run(struct core *core) __attribute__((noreturn));
void vcpu_park(struct vcpu *v, struct trap_frame *f);
/* On the way back to a vCPU: if its partition stopped meanwhile, park it (inline: every
 * trap pays one comparison). */
static inline void vcpu_check_stop(struct vcpu *v, struct trap_frame *f)
{
    if (v->seen_epoch != v->part->epoch)
        vcpu_park(v, f);
}
void partition_fault(struct vcpu *v, struct trap_frame *f, const char *what);
void partition_stage2_fault(struct vcpu *v, struct trap_frame *f, uint64_t ipa, uint64_t esr,
                            const char *what);
int partition_request_restart(struct partition *p, unsigned requester);
void partitions_load_all(void);
void channels_format(void);
void vcpu_power_off(struct vcpu *v, struct trap_frame *f);
void partition_self_stop(struct vcpu *v, struct trap_frame *f, bool restart);
int vcpu_power_on(struct partition *p, uint64_t mpidr, uint64_t entry, uint64_t context);
struct partition *partition_by_index(uint64_t index);

/* Console (console.c) */
void console_init(uint64_t uart_base);
void console_attach(struct partition *p);
uint32_t console_mmio(struct partition *p, uint32_t offset, unsigned size, bool write, uint32_t value);
void console_emergency(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hyp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Hypercalls and PSCI for partitions (hypercall.c) */
void hypercall_handle(struct vcpu *v, struct trap_frame *f);
void psci_handle(struct vcpu *v, struct trap_frame *f);

/* Physical GIC (gic.c) */
void gic_init_distributor(void);
void gic_init_cpu(void);
void gic_kick_core(unsigned core);
void gic_send_sgi(unsigned core, unsigned sgi);
uint32_t gic_ack_all(void);   /* bitmap of the SGIs and PPIs among them */
void gic_end_forwarded(void);
uint32_t core_idle(uint64_t *woke_at);   /* as gic_ack_all; woke_at: cycles at wake-up */
#define SGI_KICK 0
/* Direct interrupts (layout.h, direct_irqs): the partition's distributor accesses, passed
 * through for its own private interrupts; and the reset of those when it (re)starts.
 * A channel's doorbell reaches such a partition as SGI DIRECT_DOORBELL_SGI + channel. */
#define DIRECT_DOORBELL_SGI 8
uint32_t gic_direct_access(uint32_t offset, unsigned size, bool write, uint32_t value);
void gic_direct_reset(void);

/* Virtual CPU interface (gich.c) */
void gich_reset(struct vcpu *v);
void gich_sync(struct vcpu *v);
void gich_fill(struct vcpu *v);

/*
 * The list registers stay as they are across a trap that has nothing to do with
 * interrupts (a hypercall, a console access): the vGIC's state is brought up to date
 * from them (gich_save) only where it is read (a WFI, the vCPU's own distributor
 * accesses) or about to change them (gich_load, when something new is pending: another
 * core or an interrupt taken here marked the vCPU dirty). After a save the vCPU is
 * dirty, so the list registers are always rewritten before it runs again.
 */
static inline void gich_save(struct vcpu *v)
{
    if (v->lrs_in_use)
        gich_sync(v);
}

static inline void gich_load(struct vcpu *v)
{
    if (v->vgic_dirty) {
        gich_save(v);
        gich_fill(v);
    }
}
void vgic_kick(struct partition *p, uint32_t vcpu_mask);
#define SGI_REFRESH 1   /* "your vGIC state changed": reload list registers */

/* EL2 and stage-2 MMU (mmu.c) */
void *page_alloc(void *ctx);
void mmu_prepare_boot_core(uint64_t load_address, const void *dtb);
void mmu_build_final(void);
void mmu_fill_boot_args(struct core_boot_args *a, unsigned core, uint64_t stack_top);
void mmu_activate_final(void);
void mmu_init_el2_controls(void);
void mmu_switch_partition(const struct partition *p);
void mmu_invalidate_partition(const struct partition *p);

#endif /* HYP_HYP_H */
