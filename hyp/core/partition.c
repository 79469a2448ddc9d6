/*
 * Partition life cycle: creation (stage-2 tables, vCPUs), loading (copy the image from the
 * boot bundle, verify its SHA-256 against the layout, write its device tree), start, stop,
 * fault containment and restart.
 *
 * A stop or restart bumps the partition's epoch and kicks its cores with an SGI; every
 * vCPU that sees a newer epoch parks in the hypervisor. The partition's first vCPU (the
 * "leader") waits until all its siblings are parked, reloads the verified image and starts
 * again; siblings stay off until the partition powers them on with PSCI CPU_ON.
 */
#include <string.h>

#include "aarch64.h"
#include "bundle_reader.h"
#include "guest_fdt.h"
#include "hyp.h"
#include "kprintf.h"
#include "ring.h"
#include "sha256.h"

struct partition partitions[LAYOUT_MAX_PARTITIONS];
unsigned npartitions;

/* Partition state seen by other cores: publish with a barrier and wake WFE sleepers. */
static void signal_cores(void)
{
    dsb_ish();
    sev();
}

struct partition *partition_by_index(uint64_t index)
{
    return index < npartitions ? &partitions[index] : NULL;
}

int partitions_create(void)
{
    struct pgtable_alloc alloc = { page_alloc, NULL };

    for (unsigned i = 0; i < layout.nparts; i++) {
        struct partition *p = &partitions[i];
        const struct layout_partition *cfg = &layout.parts[i];
        int rc;

        p->cfg = cfg;
        p->image = &layout.images[cfg->image];
        p->index = i;
        p->vmid = (uint16_t)(i + 1);   /* VMID 0 is left unused: no partition ever has it */
        rc = pgtable_init(&p->s2, PGTABLE_STAGE2, &alloc);
        if (!rc)
            rc = pgtable_map(&p->s2, cfg->mem.base, cfg->mem.base, cfg->mem.size,
                             PGTABLE_R | PGTABLE_W | PGTABLE_X);
        for (unsigned c = 0; c < layout.nchannels && !rc; c++) {
            const struct layout_channel *ch = &layout.channels[c];

            /* Shared memory is data: never executable, mapped into its two ends only. */
            if (ch->a == i || ch->b == i)
                rc = pgtable_map(&p->s2, ch->mem.base, ch->mem.base, ch->mem.size,
                                 PGTABLE_R | PGTABLE_W);
        }
        /* The hardware's virtual CPU interface where the partition expects its GICC (8 KiB:
         * GICC_DIR is on the second page), or with direct interrupts the physical one,
         * banked per core: it reaches this core's interrupts only. The distributor page
         * stays absent: emulated. */
        if (!rc && cfg->has_gic)
            rc = pgtable_map(&p->s2, cfg->gicc_ipa,
                             cfg->direct_irqs ? board.gicc.base : board.gicv.base, 0x2000,
                             PGTABLE_R | PGTABLE_W | PGTABLE_DEVICE);
        if (rc)
            return rc;
        p->vttbr = (uint64_t)p->vmid << 48 | pgtable_root_pa(&p->s2);
        p->nvcpus = cfg->ncores;
        for (unsigned v = 0; v < cfg->ncores; v++) {
            p->vcpus[v] = (struct vcpu){ .part = p, .index = v, .core = cfg->cores[v] };
            cores[cfg->cores[v]].vcpu = &p->vcpus[v];
        }
        p->state = PARTITION_OFF;
        npartitions++;
    }
    return 0;
}

static void hex8(char out[17], const uint8_t *d)
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 0; i < 8; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[16] = '\0';
}

static void refuse(struct partition *p, const char *why)
{
    p->state = PARTITION_REFUSED;
    hyp_log("partition %s refused: %s", p->cfg->name, why);
}

/*
 * Copy image img from the bundle to dst and check the copy's SHA-256 (what the partition
 * will use, not what the bundle says) against the layout. 0, or -1 with why filled in
 * and the copy wiped.
 */
static int load_verified(const struct layout_image *img, void *dst, uint8_t digest[SHA256_DIGEST_SIZE],
                         char *why, size_t whylen)
{
    const void *src;
    uint64_t size;
    char want[17], got[17];
    int rc = bundle_find((const void *)(uintptr_t)board.bundle.base, board.bundle.size,
                         img->name, &src, &size);

    if (rc) {
        ksnprintf(why, whylen, rc == -ENOENT ? "image '%s' is not in the boot bundle"
                                             : "the boot bundle is corrupt (looking for '%s')",
                  img->name);
        return -1;
    }
    if (size != img->size) {
        ksnprintf(why, whylen, "image '%s' is %llu bytes, the layout says %llu", img->name,
                  (unsigned long long)size, (unsigned long long)img->size);
        return -1;
    }
    memcpy(dst, src, size);
    sha256(dst, size, digest);
    if (memcmp(digest, img->sha256, SHA256_DIGEST_SIZE)) {
        memset(dst, 0, size);
        hex8(want, img->sha256);
        hex8(got, digest);
        ksnprintf(why, whylen, "SHA-256 of image '%s' is %s..., the layout says %s...",
                  img->name, got, want);
        return -1;
    }
    return 0;
}

/*
 * Copy the partition's image and its modules from the bundle into its RAM, each verified
 * against the layout. On success the partition is RUNNING with vCPU 0 powered on at the
 * image's first byte.
 */
static void partition_load(struct partition *p)
{
    const struct layout_partition *cfg = p->cfg;
    uint8_t digest[SHA256_DIGEST_SIZE], module_digest[SHA256_DIGEST_SIZE];
    char got[17], why[160];
    void *ram = (void *)(uintptr_t)cfg->mem.base;

    if (load_verified(p->image, ram, digest, why, sizeof(why))) {
        refuse(p, why);
        return;
    }
    for (unsigned m = 0; m < cfg->nmodules; m++) {
        const struct layout_image *img = &layout.images[cfg->modules[m]];
        uint64_t base = layout_module_base(&layout, cfg, m);

        if (load_verified(img, (void *)(uintptr_t)base, module_digest, why, sizeof(why))) {
            refuse(p, why);
            return;
        }
        hex8(got, module_digest);
        hyp_log("partition %s: module %s verified (sha256 %s...), %llu KiB at 0x%llx", cfg->name,
                img->name, got, (unsigned long long)((img->size + 1023) >> 10),
                (unsigned long long)base);
    }
    p->dtb_ipa = guest_fdt_write(p);
    if (!p->dtb_ipa) {
        refuse(p, "its device tree does not fit");
        return;
    }
    console_attach(p);
    vgic_init(&p->vgic, p->nvcpus);
    /* Each vCPU's virtual timer is its core's: the guest's EOI ends the physical one. */
    for (unsigned v = 0; v < p->nvcpus; v++)
        vgic_link_hw(&p->vgic, v, board.vtimer_intid, board.vtimer_intid);
    /* The partition starts with its caches off: it must see the image in memory, and no
     * dirty line left from its previous run may be written back over what it writes. */
    dcache_clean_inval_poc(ram, cfg->mem.size);
    icache_inval_all();
    mmu_invalidate_partition(p);
    hex8(got, digest);
    p->vcpus[0].entry = cfg->mem.base;
    p->vcpus[0].context = p->dtb_ipa;
    p->vcpus[0].power = VCPU_ON;
    p->state = PARTITION_RUNNING;
    hyp_log("partition %s: image %s verified (sha256 %s...), %llu MiB at 0x%llx, %u core%s",
            cfg->name, p->image->name, got, (unsigned long long)(cfg->mem.size >> 20),
            (unsigned long long)cfg->mem.base, cfg->ncores, cfg->ncores > 1 ? "s" : "");
}

/*
 * Lay out both rings of every channel. Done once at boot: a partition that restarts
 * finds its rings as its peer left them and resumes at the published indices.
 */
void channels_format(void)
{
    for (unsigned c = 0; c < layout.nchannels; c++) {
        const struct layout_channel *ch = &layout.channels[c];
        uint8_t *mem = (uint8_t *)(uintptr_t)ch->mem.base;
        size_t half = ch->mem.size / 2;

        memset(mem, 0, ch->mem.size);
        if (ring_format(mem, half, ch->slot_size, ch->slot_count) ||
            ring_format(mem + half, half, ch->slot_size, ch->slot_count))
            hyp_panic("channel %s: cannot format its rings", ch->name);
        /* Partitions may first look at it with their caches off. */
        dcache_clean_inval_poc(mem, ch->mem.size);
    }
}

void partitions_load_all(void)
{
    for (unsigned i = 0; i < npartitions; i++)
        partition_load(&partitions[i]);
    signal_cores();
}

/* Stop every vCPU of p; the leader restarts it if restart is set. Caller holds p->lock. */
static void stop_locked(struct partition *p, enum partition_state state, bool restart,
                        unsigned requester)
{
    p->stop_requester = requester;
    p->state = state;
    p->restart_wanted = restart;
    p->epoch++;
    for (unsigned v = 0; v < p->nvcpus; v++)
        p->vcpus[v].power = VCPU_OFF;
}

static void kick_others(struct partition *p)
{
    unsigned self = this_core()->index;

    signal_cores();
    for (unsigned v = 0; v < p->nvcpus; v++)
        if (p->vcpus[v].core != self)
            gic_kick_core(p->vcpus[v].core);
}

int partition_request_restart(struct partition *p, unsigned requester)
{
    spin_lock(&p->lock);
    if (p->state == PARTITION_RESTARTING || p->state == PARTITION_OFF) {
        spin_unlock(&p->lock);
        return SMCCC_DENIED;
    }
    p->fault_restarts = 0;   /* asked for by someone allowed to: a fresh start */
    stop_locked(p, PARTITION_RESTARTING, true, requester);
    spin_unlock(&p->lock);
    hyp_log("partition %s: restart requested", p->cfg->name);
    kick_others(p);
    return SMCCC_SUCCESS;
}

/* An access outside the partition's memory: recorded for HYP_CALL_PARTITION_FAULTS, then
 * handled like any fault. */
void partition_stage2_fault(struct vcpu *v, struct trap_frame *f, uint64_t ipa, uint64_t esr,
                            const char *what)
{
    struct partition *p = v->part;

    perf_count(PERF_STAGE2_FAULTS);
    spin_lock(&p->lock);
    p->last_fault_ipa = ipa;
    p->last_fault_esr = esr;
    p->faults++;
    spin_unlock(&p->lock);
    partition_fault(v, f, what);
}

void partition_fault(struct vcpu *v, struct trap_frame *f, const char *what)
{
    struct partition *p = v->part;

    spin_lock(&p->lock);
    if (p->state != PARTITION_RUNNING) {
        /* A sibling vCPU already stopped the partition. */
        spin_unlock(&p->lock);
        vcpu_check_stop(v, f);
        return;
    }
    if (!p->cfg->restart_on_fault) {
        stop_locked(p, PARTITION_STOPPED, false, p->index);
        spin_unlock(&p->lock);
        hyp_log("partition %s: %s; stopped (restart-policy stop)", p->cfg->name, what);
    } else if (p->fault_restarts >= p->cfg->restart_limit) {
        stop_locked(p, PARTITION_FAILED, false, p->index);
        spin_unlock(&p->lock);
        hyp_log("partition %s: %s; restart limit %u reached, stopped for good", p->cfg->name,
                what, p->cfg->restart_limit);
    } else {
        p->fault_restarts++;
        stop_locked(p, PARTITION_RESTARTING, true, p->index);
        spin_unlock(&p->lock);
        hyp_log("partition %s: %s; restarting (%u of %u)", p->cfg->name, what,
                p->fault_restarts, p->cfg->restart_limit);
    }
    kick_others(p);
    vcpu_check_stop(v, f);
}

/* The leader's part of a restart: wait for the siblings, then reload and start. */
static void leader_restart(struct partition *p)
{
    for (unsigned i = 1; i < p->nvcpus; i++)
        while (!p->vcpus[i].parked)
            wfe();
    spin_lock(&p->lock);
    if (p->restart_wanted) {
        p->restart_wanted = false;
        p->restarts++;
        partition_load(p);
    }
    spin_unlock(&p->lock);
    signal_cores();
}

/* EL1 state a vCPU starts with: what a core has coming out of reset, MMU and caches off. */
static void reset_el1_state(const struct vcpu *v)
{
    /* SCTLR_EL1: only its RES1 bits (11, 20, 22, 23, 28, 29); MMU, caches off. */
    write_sysreg(sctlr_el1, 0x30D00800);
    write_sysreg(vbar_el1, 0);
    write_sysreg(cpacr_el1, 0);
    write_sysreg(cntv_ctl_el0, 0);
    write_sysreg(cntkctl_el1, 0);
    write_sysreg(tpidr_el1, 0);
    write_sysreg(tpidr_el0, 0);
    write_sysreg(sp_el1, 0);
    write_sysreg(sp_el0, 0);
    /* The partition sees its own vCPU numbering: MPIDR Aff0 = vCPU index (bit 31 RES1). */
    write_sysreg(vmpidr_el2, 0x80000000ull | v->index);
    isb();
}

/*
 * Park v until the partition powers it on, then fill f with the fresh context it starts
 * from. Called on a core's first entry and whenever its partition stops.
 */
void vcpu_park(struct vcpu *v, struct trap_frame *f)
{
    struct partition *p = v->part;
    uint64_t woke_at;

    /* The CPU interface is ours again while the partition is parked. */
    if (p->cfg->direct_irqs)
        gic_direct_reset();
    v->parked = true;
    signal_cores();
    for (;;) {
        if (v->index == 0 && p->restart_wanted)
            leader_restart(p);
        if (v->power == VCPU_ON && p->state == PARTITION_RUNNING && !p->restart_wanted)
            break;
        /* Sleep rather than spin: a stopped partition's cores may wait for a long time.
         * Whoever changes what we wait for sends an SGI; the timer bounds a missed one. */
        core_idle(&woke_at);
    }
    v->seen_epoch = p->epoch;
    v->parked = false;
    reset_el1_state(v);
    gich_reset(v);
    if (!p->cfg->direct_irqs)
        gic_end_forwarded();
    memset(f, 0, sizeof(*f));
    f->x[0] = v->context;
    f->elr = v->entry;
    /* SPSR: EL1h (EL1 using SP_EL1), D, A, I and F masked, as a core is after reset. */
    f->spsr = 0x3c5;
}


void vcpu_run(struct core *core)
{
    struct vcpu *v = core->vcpu;

    mmu_switch_partition(v->part);
    vcpu_park(v, core->frame);
    gich_load(v);
    guest_enter(core->frame);
}

int vcpu_power_on(struct partition *p, uint64_t mpidr, uint64_t entry, uint64_t context)
{
    struct vcpu *v;
    int rc = PSCI_SUCCESS;

    /* Our vCPUs are numbered in Aff0 only. */
    if ((mpidr & 0xff00ffff00ull) || (mpidr & 0xff) >= p->nvcpus)
        return PSCI_INVALID_PARAMS;
    if (entry < p->cfg->mem.base || entry - p->cfg->mem.base >= p->cfg->mem.size || entry & 3)
        return PSCI_INVALID_ADDRESS;
    v = &p->vcpus[mpidr & 0xff];
    spin_lock(&p->lock);
    if (p->state != PARTITION_RUNNING)
        rc = PSCI_DENIED;
    else if (v->power == VCPU_ON)
        rc = v->parked ? PSCI_ON_PENDING : PSCI_ALREADY_ON;
    else {
        v->entry = entry;
        v->context = context;
        v->power = VCPU_ON;
    }
    spin_unlock(&p->lock);
    signal_cores();
    if (rc == PSCI_SUCCESS)
        gic_send_sgi(v->core, SGI_REFRESH);   /* wake it from its parked sleep */
    return rc;
}

void vcpu_power_off(struct vcpu *v, struct trap_frame *f)
{
    v->power = VCPU_OFF;
    vcpu_park(v, f);
}

/* PSCI SYSTEM_OFF from the partition: it stops itself; SYSTEM_RESET: it restarts. */
void partition_self_stop(struct vcpu *v, struct trap_frame *f, bool restart)
{
    struct partition *p = v->part;

    spin_lock(&p->lock);
    if (p->state == PARTITION_RUNNING)
        stop_locked(p, restart ? PARTITION_RESTARTING : PARTITION_STOPPED, restart, p->index);
    spin_unlock(&p->lock);
    hyp_log("partition %s: %s itself", p->cfg->name, restart ? "reset" : "powered off");
    kick_others(p);
    vcpu_check_stop(v, f);
}
