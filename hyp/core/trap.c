/*
 * Exceptions from partitions. Synchronous traps are dispatched by exception class
 * through a table, one small handler each; a class without a handler is a fault of the
 * partition, contained like any other. IRQs are the hypervisor's own SGIs (kicks).
 */
#include "aarch64.h"
#include "esr.h"
#include "hyp.h"
#include "kprintf.h"

typedef void (*trap_handler)(struct vcpu *v, struct trap_frame *f, uint64_t esr);

static void fault_with_syndrome(struct vcpu *v, struct trap_frame *f, uint64_t esr)
{
    char what[200], desc[120];

    esr_describe(esr, desc, sizeof(desc));
    ksnprintf(what, sizeof(what), "unexpected trap, %s at PC 0x%llx", desc,
              (unsigned long long)f->elr);
    partition_fault(v, f, what);
}

/* What to do about the private interrupts a core took at cycle taken_at (gic_ack_all's
 * bitmap): count the kicks and whose request they carried; forward the virtual timer to
 * the vCPU; note when an interrupt for the vCPU came (a forwarded one, or a refresh:
 * its vGIC has something new), for the delivery histogram (trap_exit). */
static void take_private(struct vcpu *v, uint32_t taken, uint64_t taken_at)
{
    if ((taken & (1u << SGI_REFRESH | 1u << board.vtimer_intid)) && !this_core()->irq_taken_at)
        this_core()->irq_taken_at = taken_at;
    /* Underflow: the list registers have room for interrupts still waiting. */
    if (taken & 1u << board.maintenance_intid)
        v->vgic_dirty = true;
    if (taken & 1u << SGI_KICK) {
        perf_count(PERF_KICKS);
        if (v->part->stop_requester != v->part->index)
            perf_count(PERF_FOREIGN);
    }
    if (taken & 1u << board.vtimer_intid && v->part->cfg->has_gic) {
        uint32_t kick;

        spin_lock(&v->part->lock);
        kick = vgic_raise(&v->part->vgic, v->index, board.vtimer_intid);
        spin_unlock(&v->part->lock);
        vgic_kick(v->part, kick | 1u << v->index);
        perf_count(PERF_VIRQS);
    }
}

static bool has_virtual_interrupt(struct vcpu *v)
{
    bool pending;

    if (!v->part->cfg->has_gic)
        return false;
    spin_lock(&v->part->lock);
    pending = vgic_has_pending(&v->part->vgic, v->index);
    spin_unlock(&v->part->lock);
    return pending;
}

static void handle_wfx(struct vcpu *v, struct trap_frame *f, uint64_t esr)
{
    /* ISS bit 0 clear: WFI (WFE is not trapped, HCR_EL2.TWE is clear). A vCPU with a
     * virtual interrupt to take does not sleep: WFI completes at once, as on hardware. */
    gich_save(v);   /* what it did with its list registers counts */
    if (!(esr & 1) && !has_virtual_interrupt(v)) {
        uint64_t woke_at;
        uint32_t taken = core_idle(&woke_at);

        take_private(v, taken, woke_at);
    }
    f->elr += 4;
}

/* Tell the cores of p's vCPUs in mask (but this one) that their interrupts changed. */
void vgic_kick(struct partition *p, uint32_t mask)
{
    unsigned self = this_core()->index;

    mask &= (1u << p->nvcpus) - 1;
    for (; mask; mask &= mask - 1) {
        unsigned i = (unsigned)__builtin_ctz(mask);

        p->vcpus[i].vgic_dirty = true;
        if (p->vcpus[i].core != self)
            gic_send_sgi(p->vcpus[i].core, SGI_REFRESH);
    }
}

static void emulate_gicd(struct vcpu *v, struct trap_frame *f, uint32_t offset, struct esr_dabt d)
{
    struct partition *p = v->part;
    uint32_t value = d.write && d.reg != 31 ? (uint32_t)f->x[d.reg] : 0, kick;

    if (p->cfg->direct_irqs) {
        value = gic_direct_access(offset, d.size, d.write, value);
        kick = 0;
    } else {
        gich_save(v);   /* its own pending and active state, as its list registers say */
        spin_lock(&p->lock);
        kick = vgic_dist_access(&p->vgic, v->index, offset, d.size, d.write, &value);
        spin_unlock(&p->lock);
    }
    if (!d.write && d.reg != 31)
        f->x[d.reg] = value;
    vgic_kick(p, kick);
    f->elr += 4;
}

static void handle_hvc(struct vcpu *v, struct trap_frame *f, uint64_t esr)
{
    /* Only HVC #0 is a call; any other immediate is a guest bug we answer like a bad ID. */
    if ((esr & 0xffff) != 0) {
        f->x[0] = (uint64_t)SMCCC_NOT_SUPPORTED;
        return;
    }
    hypercall_handle(v, f);
}

static void handle_smc(struct vcpu *v, struct trap_frame *f, uint64_t esr)
{
    /* A trapped SMC returns to itself: step over it (HCR_EL2.TSC, see mmu.c). */
    f->elr += 4;
    handle_hvc(v, f, esr);
}

static uint64_t fault_ipa(void)
{
    /* HPFAR_EL2.FIPA holds IPA[47:12] in bits [43:4]; FAR_EL2 gives the page offset. */
    return (read_sysreg(hpfar_el2) & 0xffffffffff0ull) << 8 | (read_sysreg(far_el2) & 0xfff);
}

static void handle_dabt(struct vcpu *v, struct trap_frame *f, uint64_t esr)
{
    struct partition *p = v->part;
    struct esr_dabt d = esr_decode_dabt(esr);
    uint64_t ipa = fault_ipa();
    char what[240], desc[120];

    if (ipa - p->cfg->console_ipa < 0x1000 && ipa >= p->cfg->console_ipa) {
        uint32_t offset = (uint32_t)(ipa - p->cfg->console_ipa);

        if (!d.valid) {
            ksnprintf(what, sizeof(what),
                      "console access at 0x%llx by an instruction the hypervisor cannot emulate (PC 0x%llx)",
                      (unsigned long long)ipa, (unsigned long long)f->elr);
            partition_fault(v, f, what);
            return;
        }
        perf_count(PERF_CONSOLE_ACCESSES);
        if (d.write) {
            uint64_t val = d.reg == 31 ? 0 : f->x[d.reg];
            console_mmio(p, offset, d.size, true, (uint32_t)val);
        } else {
            uint64_t val = console_mmio(p, offset, d.size, false, 0);

            if (d.sign_extend && d.size < 8 && (val >> (8 * d.size - 1)) & 1)
                val |= ~0ull << (8 * d.size);
            if (!d.reg64)
                val &= 0xffffffffu;
            if (d.reg != 31)
                f->x[d.reg] = val;
        }
        f->elr += 4;
        return;
    }
    if (p->cfg->has_gic && ipa >= p->cfg->gicd_ipa && ipa - p->cfg->gicd_ipa < 0x1000 && d.valid) {
        emulate_gicd(v, f, (uint32_t)(ipa - p->cfg->gicd_ipa), d);
        return;
    }
    esr_describe(esr, desc, sizeof(desc));
    ksnprintf(what, sizeof(what), "stage-2 fault: %s 0x%llx, not its memory, %s, PC 0x%llx",
              d.write ? "write to" : "read from", (unsigned long long)ipa, desc,
              (unsigned long long)f->elr);
    partition_stage2_fault(v, f, ipa, esr, what);
}

static void handle_iabt(struct vcpu *v, struct trap_frame *f, uint64_t esr)
{
    char what[200], desc[120];

    esr_describe(esr, desc, sizeof(desc));
    ksnprintf(what, sizeof(what), "stage-2 fault: execute at 0x%llx, not its memory, %s",
              (unsigned long long)fault_ipa(), desc);
    partition_stage2_fault(v, f, fault_ipa(), esr, what);
}

static const trap_handler sync_handlers[ESR_EC_MASK + 1] = {
    [EC_WFX] = handle_wfx,
    [EC_HVC64] = handle_hvc,
    [EC_SMC64] = handle_smc,
    [EC_DABT_LOWER] = handle_dabt,
    [EC_IABT_LOWER] = handle_iabt,
};

/* Back to the vCPU: its list registers, and how long an interrupt taken for it took to
 * get there. */
static inline __attribute__((always_inline)) void trap_exit(struct vcpu *v)
{
    struct core *c = this_core();

    gich_load(v);
    if (c->irq_taken_at) {
        if (v->lrs_in_use)
            perf_hist(PERF_HIST_VIRQ_DELIVERY, cycles_now() - c->irq_taken_at);
        c->irq_taken_at = 0;
    }
}

void trap_lower_sync(struct trap_frame *f)
{
    struct vcpu *v = this_core()->vcpu;
    uint64_t esr = read_sysreg(esr_el2);
    trap_handler h = sync_handlers[esr_class(esr)];

    perf_count(PERF_TRAPS_BASE + esr_class(esr));
    (h ? h : fault_with_syndrome)(v, f, esr);
    vcpu_check_stop(v, f);
    trap_exit(v);
    if (esr_class(esr) == EC_HVC64)
        perf_hist(PERF_HIST_HVC, cycles_now() - f->entry_cycles);
}

void trap_lower_irq(struct trap_frame *f)
{
    struct vcpu *v = this_core()->vcpu;

    take_private(v, gic_ack_all(), f->entry_cycles);
    vcpu_check_stop(v, f);
    trap_exit(v);
}

void trap_lower_fiq(struct trap_frame *f)
{
    trap_lower_irq(f);
}

void trap_lower_serror(struct trap_frame *f)
{
    struct vcpu *v = this_core()->vcpu;
    char what[80];

    ksnprintf(what, sizeof(what), "SError (asynchronous external abort), ESR 0x%llx",
              (unsigned long long)read_sysreg(esr_el2));
    partition_fault(v, f, what);
}

void hyp_crash(struct trap_frame *f, uint64_t kind)
{
    static const char *const kinds[] = { "synchronous exception", "IRQ", "FIQ", "SError" };
    struct core *c = this_core();
    uint64_t esr = read_sysreg(esr_el2);
    char desc[120];

    esr_describe(esr, desc, sizeof(desc));
    console_emergency("[hyp] CRASH in the hypervisor on core %u (running partition %s): %s, %s, FAR 0x%llx, ELR 0x%llx, SPSR 0x%llx, LR 0x%llx\r\n",
                      c ? c->index : 0, c && c->vcpu ? c->vcpu->part->cfg->name : "none",
                      kinds[kind & 3], desc, (unsigned long long)read_sysreg(far_el2),
                      (unsigned long long)f->elr, (unsigned long long)f->spsr,
                      (unsigned long long)f->x[30]);
    for (;;)
        wfi();
}

void hyp_panic(const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    console_emergency("[hyp] halted: %s\r\n", buf);
    for (;;)
        wfi();
}

/* libfdt is built with the stack protector; a smashed stack in the hypervisor is fatal. */
uintptr_t __stack_chk_guard = 0x5a3c96e1d2b4f087ull;

void __stack_chk_fail(void)
{
    hyp_panic("stack smashing detected");
}
