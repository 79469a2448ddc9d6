/*
 * Virtual GICv2 distributor, one per partition (ARM IHI 0048B, GICv2 architecture).
 *
 * The partition's GICD page is absent from its stage-2 table; its accesses trap and land
 * in vgic_dist_access. The CPU interface is the hardware's virtual one (GICV, mapped at
 * the partition's GICC address); this module hands it interrupts through the list
 * registers (vgic_fill_lrs before entering the vCPU) and takes their state back
 * (vgic_sync_lrs after leaving it). Between the two, the state here is authoritative.
 *
 * INTIDs 0-15 are SGIs and 16-31 PPIs, banked per vCPU; 32 and up are SPIs, shared and
 * routed by ITARGETSR. Every interrupt is group 0 (IGROUPR reads as zero), as a GICv2
 * without security extensions presents it to a non-secure guest. Pure logic, no
 * hardware access: the host tests drive it directly.
 */
#ifndef HYP_VGIC_H
#define HYP_VGIC_H

#include <stdbool.h>
#include <stdint.h>

#define VGIC_NR_IRQS    96       /* SGIs, PPIs and 64 SPIs: GICD_TYPER.ITLinesNumber = 2 */
#define VGIC_NR_SPIS    (VGIC_NR_IRQS - 32)
#define VGIC_MAX_VCPUS  8
#define VGIC_MAX_LRS    64

struct vgic_irq {
    uint8_t priority;
    uint8_t targets;         /* SPIs: ITARGETSR vCPU mask */
    bool enabled;
    bool pending;            /* SPIs, PPIs; SGIs use sgi_sources */
    bool active;
    bool edge;               /* ICFGR: edge-triggered */
    uint8_t sgi_sources;     /* SGIs: vCPUs that have it pending here */
    uint8_t active_source;   /* SGIs: the source of the active one */
    bool hw;                 /* forwarded physical interrupt (LR HW bit) */
    uint16_t hw_intid;
    uint8_t active_on;       /* SPIs: the vCPU that acknowledged it, while active */
    bool in_lr;              /* SPIs: held in a list register of vCPU lr_vcpu */
    uint8_t lr_vcpu;
    bool lr_pending;         /* pending state handed to a list register, not yet synced */
    uint8_t lr_sgi_pending;  /* SGIs: the same, per source */
};

struct vgic {
    unsigned nvcpus;
    bool enabled;            /* GICD_CTLR.EnableGrp0 */
    struct vgic_irq priv[VGIC_MAX_VCPUS][32];
    struct vgic_irq spi[VGIC_NR_SPIS];
    /* Interrupts that may have state (pending, SGI sources, active): a superset, so the
     * list-register fill looks at these and not at all VGIC_NR_IRQS. */
    uint32_t priv_live[VGIC_MAX_VCPUS];
    uint64_t spi_live;
    /* What the last fill wrote for each vCPU (LRs 0 .. lr_count-1; the rest are zero), so
     * sync knows what each LR carries. */
    uint32_t lr_shadow[VGIC_MAX_VCPUS][VGIC_MAX_LRS];
    uint8_t lr_count[VGIC_MAX_VCPUS];
};

void vgic_init(struct vgic *g, unsigned nvcpus);

/*
 * A distributor access by vCPU vcpu: offset in the 4 KiB GICD page, size 1, 2 or 4 bytes
 * (byte access where the architecture allows it: IPRIORITYR, ITARGETSR, CPENDSGIR,
 * SPENDSGIR; other registers word-only, else the access reads 0 / is ignored). Reads
 * store to *value. Returns the bitmap of vCPUs that may now have a new interrupt to take
 * (the caller kicks them so their list registers are refilled).
 */
uint32_t vgic_dist_access(struct vgic *g, unsigned vcpu, uint32_t offset, unsigned size,
                          bool write, uint32_t *value);

/* Make intid pending from outside the partition (a doorbell, a forwarded physical
 * interrupt): vcpu names the target for SGIs/PPIs and is ignored for SPIs. Same return. */
uint32_t vgic_raise(struct vgic *g, unsigned vcpu, unsigned intid);

/* Forward physical interrupt hw_intid as the private intid of vcpu (the HW bit: the
 * guest's EOI deactivates the physical interrupt). */
void vgic_link_hw(struct vgic *g, unsigned vcpu, unsigned intid, unsigned hw_intid);

/*
 * List registers (GICH_LRn format: VirtualID [9:0], PhysicalID or CPUID [19:10],
 * Priority [27:23] (top 5 bits), State [29:28] pending 1 / active 2 / both 3, HW [31]).
 * fill: write lrs[0..nlrs) for vcpu: every active interrupt and the highest-priority
 * pending ones that are enabled while the distributor is enabled (lower value first,
 * then lower INTID); unused LRs are 0. Returns true when some pending interrupt did not
 * fit (the caller then asks for an underflow maintenance interrupt).
 * sync: take back what the vCPU did with them (acknowledged, completed); returns how
 * many interrupts it acknowledged since the fill (given pending, no longer pending).
 */
bool vgic_fill_lrs(struct vgic *g, unsigned vcpu, uint32_t *lrs, unsigned nlrs);
unsigned vgic_sync_lrs(struct vgic *g, unsigned vcpu, const uint32_t *lrs, unsigned nlrs);

/* Whether vcpu has an interrupt it could take now (enabled and pending). */
bool vgic_has_pending(const struct vgic *g, unsigned vcpu);

#endif /* HYP_VGIC_H */
