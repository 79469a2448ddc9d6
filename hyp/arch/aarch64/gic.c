/*
 * The physical GICv2 (GIC-400 on the Pi 5), as far as the hypervisor itself uses it:
 * software-generated interrupts that kick a core out of its partition, the EL2 timer
 * that bounds an idle core's sleep, forwarding the virtual timer, and the distributor
 * view of a partition with direct interrupts. The distributor and CPU interface
 * addresses come from the board DTB.
 */
#include "aarch64.h"
#include "gicv2.h"
#include "hyp.h"



static uint8_t cpu_interface[BOARD_MAX_CORES];   /* core index -> GIC CPU interface bit */

static inline volatile uint32_t *gicd(uint32_t off)
{
    return (volatile uint32_t *)(uintptr_t)(board.gicd.base + off);
}

static inline volatile uint32_t *gicc(uint32_t off)
{
    return (volatile uint32_t *)(uintptr_t)(board.gicc.base + off);
}

void gic_init_distributor(void)
{
    /* Forward interrupts (group 0 without security extensions, group 1 in the
     * non-secure view of a GIC-400 whose firmware set up the secure side). */
    *gicd(GICD_CTLR) = 1;
}

static void cpu_interface_defaults(void)
{
    /* Priority mask: let every priority through. */
    *gicc(GICC_PMR) = 0xff;
    /* Enable the CPU interface with EOImode 1: EOIR only drops the running priority and
     * GICC_DIR deactivates, so a forwarded interrupt can stay active until the partition
     * completes it (the list register's HW bit deactivates it then). */
    *gicc(GICC_CTLR) = 1 | 1u << 9;
    dsb_sy();
}

void gic_init_cpu(void)
{
    unsigned core = this_core()->index;

    /* GICD_ITARGETSR0 reads back this CPU interface's own bit: use it, rather than
     * assuming interface numbers follow MPIDR. */
    cpu_interface[core] = (uint8_t)(*gicd(GICD_ITARGETSR) & 0xff);
    /* Banked per core: our SGIs (the GIC-400 has SGIs always enabled), the EL2 timer's
     * PPI, which wakes an idle core (core_idle), and the maintenance interrupt, which
     * says list registers have room for more virtual interrupts. */
    *gicd(GICD_ISENABLER) = 1u << SGI_KICK | 1u << SGI_REFRESH | 1u << board.hyp_timer_intid |
                            1u << board.maintenance_intid;
    /* The virtual timer of a vCPU with a virtual GIC is forwarded to it (see gic_ack_all);
     * elsewhere it stays disabled, since nothing could complete it. A partition with
     * direct interrupts enables it itself, through gic_direct_access. */
    if (this_core()->vcpu && this_core()->vcpu->part->cfg->has_gic &&
        !this_core()->vcpu->part->cfg->direct_irqs)
        *gicd(GICD_ISENABLER) = 1u << board.vtimer_intid;
    cpu_interface_defaults();
}

/*
 * Let this core sleep for up to a millisecond, or until an SGI kicks it. A partition's
 * WFI lands here (HCR_EL2.TWI): it has nothing to do, and since no virtual interrupt can
 * wake it yet, it is woken by the EL2 timer instead; WFI may complete early by the
 * architecture's own rules, so the partition sees nothing unusual. IRQs stay masked
 * at EL2: WFI wakes on a pending interrupt regardless, and we take it by acknowledging.
 */
uint32_t core_idle(uint64_t *woke_at)
{
    uint64_t slept;

    write_sysreg(cnthp_tval_el2, read_sysreg(cntfrq_el0) / 1000);
    /* CNTHP_CTL_EL2: ENABLE, interrupt not masked. */
    write_sysreg(cnthp_ctl_el2, 1);
    isb();
    slept = read_sysreg(cntpct_el0);
    wfi();
    *woke_at = cycles_now();
    perf_add(PERF_IDLE_TICKS, read_sysreg(cntpct_el0) - slept);
    write_sysreg(cnthp_ctl_el2, 0);
    isb();
    perf_count(PERF_IDLE_WAKEUPS);
    return gic_ack_all();
}

void gic_send_sgi(unsigned core, unsigned sgi)
{
    dsb_ish();
    /* TargetListFilter 0: the cores in CPUTargetList (bits 23:16). */
    *gicd(GICD_SGIR) = (uint32_t)cpu_interface[core] << 16 | sgi;
}

void gic_kick_core(unsigned core)
{
    gic_send_sgi(core, SGI_KICK);
}

uint32_t gic_ack_all(void)
{
    uint32_t taken = 0;

    for (;;) {
        uint32_t iar = *gicc(GICC_IAR), id = iar & 0x3ff;

        if (id >= GIC_INTID_SPURIOUS)
            break;
        perf_count(PERF_IRQS);
        if (id < 32)
            taken |= 1u << id;
        *gicc(GICC_EOIR) = iar;
        /* The virtual timer stays active: its partition's EOI of the virtual one ends it. */
        if (id != board.vtimer_intid)
            *gicc(GICC_DIR) = iar;
    }
    return taken;
}

/*
 * Direct interrupts. The partition owns this core's GIC CPU interface (mapped as its
 * GICC), so it acknowledges and completes its interrupts without us. Of the distributor
 * it may touch only what is its own: the virtual timer PPI and the doorbell SGIs, in the
 * banked registers of this core (the trap is taken on the partition's one core, so the
 * banked view is the right one). Everything else reads as zero and ignores writes,
 * including every SPI: the partition cannot enable, pend or retarget an interrupt of the
 * hypervisor or of another partition, nor send an SGI anywhere but to itself.
 */
static uint32_t direct_owned(void)
{
    return 0xffu << DIRECT_DOORBELL_SGI | 1u << board.vtimer_intid;
}

uint32_t gic_direct_access(uint32_t offset, unsigned size, bool write, uint32_t value)
{
    uint32_t owned = direct_owned(), result = 0;
    uint32_t reg = offset & ~3u;

    if (offset >= GICD_IPRIORITYR && offset < GICD_IPRIORITYR + 32) {
        /* Byte-accessible: each byte is one interrupt's priority. */
        for (unsigned i = 0; i < size; i++) {
            unsigned intid = offset - GICD_IPRIORITYR + i;
            volatile uint8_t *prio = (volatile uint8_t *)gicd(GICD_IPRIORITYR) + intid;

            if (intid >= 32 || !(owned >> intid & 1))
                continue;
            if (write)
                *prio = (uint8_t)(value >> (8 * i));
            else
                result |= (uint32_t)*prio << (8 * i);
        }
        return result;
    }
    if (offset >= GICD_ITARGETSR && offset < GICD_ITARGETSR + 32) {
        /* Read-only for private interrupts: each byte names this CPU interface. */
        for (unsigned i = 0; i < size; i++)
            result |= (uint32_t)cpu_interface[this_core()->index] << (8 * i);
        return write ? 0 : result;
    }
    if (size != 4)
        return 0;
    switch (reg) {
    case GICD_CTLR:
        return write ? 0 : 1;   /* the distributor is on; it is the hypervisor's to switch */
    case GICD_TYPER:
        return 0;               /* one CPU interface, 32 interrupts: the private ones */
    case GICD_IIDR:
        return write ? 0 : *gicd(GICD_IIDR);
    case GICD_ISENABLER:
    case GICD_ICENABLER:
    case GICD_ISPENDR:
    case GICD_ICPENDR:
    case GICD_ISACTIVER:
    case GICD_ICACTIVER:
        if (write)
            *gicd(reg) = value & owned;
        else
            result = *gicd(reg) & owned;
        return result;
    case GICD_ICFGR:
    case GICD_ICFGR + 4:
        return write ? 0 : *gicd(reg);   /* SGIs and PPIs: fixed by the implementation */
    case GICD_SGIR: {
        unsigned sgi = value & 0xf, filter = value >> 24 & 3;

        /* Only to itself (TargetListFilter 2), and only a doorbell SGI. */
        if (write && filter == 2 && (owned >> sgi & 1)) {
            dsb_ish();
            *gicd(GICD_SGIR) = 2u << 24 | sgi;
        }
        return 0;
    }
    default:
        /* The peripheral and component ID registers say "GICv2" to a driver. */
        if (reg >= GICD_PIDR4 && !write)
            return *gicd(reg);
        return 0;
    }
}

/*
 * Before a partition with direct interrupts (re)starts on this core, and whenever it
 * stops: its interrupts are disabled, not pending and not active, and the CPU interface
 * is the hypervisor's again (its configuration, no active priority left behind by a
 * handler the partition never finished), so core_idle and gic_ack_all work while the
 * partition is parked.
 */
void gic_direct_reset(void)
{
    uint32_t owned = direct_owned();

    *gicd(GICD_ICENABLER) = owned & ~0xffffu;   /* SGI enables are fixed on a GIC-400 */
    *gicd(GICD_ICPENDR) = owned;
    for (unsigned sgi = DIRECT_DOORBELL_SGI; sgi < 16; sgi++)
        *((volatile uint8_t *)gicd(GICD_CPENDSGIR) + sgi) = 0xff;   /* every source */
    *gicd(GICD_ICACTIVER) = owned;
    *gicc(GICC_APR0) = 0;
    cpu_interface_defaults();
}

/* A vCPU starts afresh: a forwarded interrupt its previous run left active is ended. */
void gic_end_forwarded(void)
{
    *gicd(GICD_ICACTIVER) = 1u << board.vtimer_intid;
}
