/*
 * The physical GICv2 (GIC-400 on the Pi 5), as far as the hypervisor itself uses it
 * now: software-generated interrupts that kick a core out of its partition. The
 * distributor and CPU interface addresses come from the board DTB.
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
     * elsewhere it stays disabled, since nothing could complete it. */
    if (this_core()->vcpu && this_core()->vcpu->part->cfg->has_gic)
        *gicd(GICD_ISENABLER) = 1u << board.vtimer_intid;
    /* Priority mask: let every priority through. */
    *gicc(GICC_PMR) = 0xff;
    /* Enable the CPU interface with EOImode 1: EOIR only drops the running priority and
     * GICC_DIR deactivates, so a forwarded interrupt can stay active until the partition
     * completes it (the list register's HW bit deactivates it then). */
    *gicc(GICC_CTLR) = 1 | 1u << 9;
    dsb_sy();
}

/*
 * Let this core sleep for up to a millisecond, or until an SGI kicks it. A partition's
 * WFI lands here (HCR_EL2.TWI): it has nothing to do, and since no virtual interrupt can
 * wake it yet, it is woken by the EL2 timer instead; WFI may complete early by the
 * architecture's own rules, so the partition sees nothing unusual. IRQs stay masked
 * at EL2: WFI wakes on a pending interrupt regardless, and we take it by acknowledging.
 */
uint32_t core_idle(void)
{
    write_sysreg(cnthp_tval_el2, read_sysreg(cntfrq_el0) / 1000);
    /* CNTHP_CTL_EL2: ENABLE, interrupt not masked. */
    write_sysreg(cnthp_ctl_el2, 1);
    isb();
    wfi();
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

/* A vCPU starts afresh: a forwarded interrupt its previous run left active is ended. */
void gic_end_forwarded(void)
{
    *gicd(GICD_ICACTIVER) = 1u << board.vtimer_intid;
}
