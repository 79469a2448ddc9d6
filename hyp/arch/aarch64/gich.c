/*
 * The GIC's virtual interface control (GICH), as far as a vCPU needs it: the list
 * registers are loaded from the partition's vGIC before the vCPU runs and read back
 * after it leaves (hyp/core/vgic.c decides what goes in them). The GICH address comes
 * from the board DTB; the number of list registers from GICH_VTR.
 */
#include "aarch64.h"
#include "gicv2.h"
#include "hyp.h"
#include "vgic.h"


#define HCR_EN     (1u << 0)   /* virtual CPU interface on */
#define HCR_UIE    (1u << 1)   /* maintenance interrupt when at most one LR is in use */

static inline volatile uint32_t *gich(uint32_t off)
{
    return (volatile uint32_t *)(uintptr_t)(board.gich.base + off);
}

/* List registers this GIC has (GICH_VTR.ListRegs + 1, at most VGIC_MAX_LRS): the same
 * on every core, read at each vCPU reset, so before the first fill or sync. */
static unsigned nr_lrs;

/* A vCPU starts from reset: no virtual interrupt state, CPU interface controls cleared. */
void gich_reset(struct vcpu *v)
{
    unsigned n = (*gich(GICH_VTR) & 0x3f) + 1;

    nr_lrs = n < VGIC_MAX_LRS ? n : VGIC_MAX_LRS;
    v->lrs_in_use = 0;
    v->lrs_written = 0;
    if (v->part->cfg->direct_irqs) {
        /* Its interrupts do not pass through here: the virtual interface stays off. */
        *gich(GICH_HCR) = 0;
        v->vgic_dirty = false;
        return;
    }

    for (unsigned i = 0; i < nr_lrs; i++)
        *gich(GICH_LR0 + 4 * i) = 0;
    *gich(GICH_APR) = 0;
    *gich(GICH_VMCR) = 0;
    *gich(GICH_HCR) = HCR_EN;
    v->vgic_dirty = true;
}

/* After the vCPU ran: what it did with its list registers goes back to the vGIC. Only
 * the LRs the last fill used can hold anything. */
void gich_sync(struct vcpu *v)
{
    uint32_t lrs[VGIC_MAX_LRS];
    unsigned n = v->lrs_in_use, taken;

    for (unsigned i = 0; i < n; i++)
        lrs[i] = *gich(GICH_LR0 + 4 * i);

    spin_lock(&v->part->lock);
    taken = vgic_sync_lrs(&v->part->vgic, v->index, lrs, n);
    spin_unlock(&v->part->lock);
    perf_add(PERF_VIRQS_TAKEN, taken);
    /* Their state is the vGIC's now: they must be written again before the vCPU runs. */
    v->lrs_in_use = 0;
    v->vgic_dirty = true;
}

/* Before the vCPU runs: the interrupts it should see, and a maintenance interrupt if
 * more are waiting than list registers hold. The vGIC fills LRs from the first, so the
 * used ones are the first few; of the rest, only those the last fill used need
 * clearing. */
void gich_fill(struct vcpu *v)
{
    uint32_t lrs[VGIC_MAX_LRS];
    unsigned used, end;
    bool overflow;

    v->vgic_dirty = false;
    if (!v->part->cfg->has_gic || v->part->cfg->direct_irqs)
        return;
    spin_lock(&v->part->lock);
    overflow = vgic_fill_lrs(&v->part->vgic, v->index, lrs, nr_lrs);
    used = v->part->vgic.lr_count[v->index];
    spin_unlock(&v->part->lock);
    end = used > v->lrs_written ? used : v->lrs_written;
    for (unsigned i = 0; i < end; i++)
        *gich(GICH_LR0 + 4 * i) = lrs[i];
    v->lrs_in_use = v->lrs_written = used;
    *gich(GICH_HCR) = HCR_EN | (overflow ? HCR_UIE : 0);
}
